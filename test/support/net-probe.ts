import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type ProbeResult = 'open' | 'refused' | 'timeout' | string;

/**
 * A `node -e` program for inside a workspace: TCP-connects to every `host:port` of argv[1] (JSON) at
 * once and prints one JSON object, `"host:port": "open" | "refused" | "timeout" | <error code>`.
 * `open` also carries the first line the listener sent (`open <line>`), to tell listeners apart.
 */
export const TCP_PROBE = `
const net = require('net');
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map(([host, port]) => new Promise((done) => {
  const s = net.connect({ host, port });
  let got = '';
  const end = (r) => { s.destroy(); done([host + ':' + port, r]); };
  s.setTimeout(${2500}, () => end(got ? 'open ' + got : 'timeout'));
  s.on('connect', () => setTimeout(() => end('open ' + got.trim()), 300));
  s.on('data', (d) => { got += d; });
  s.on('error', (e) => end(e.code === 'ECONNREFUSED' ? 'refused' : e.code || String(e)));
}))).then((r) => console.log(JSON.stringify(Object.fromEntries(r))));
`;

/**
 * A `node -e` program asking Docker's embedded resolver (127.0.0.11, which every container on a
 * user-defined network can query, whatever its resolv.conf says): argv[1] is JSON
 * `{ reverse: [ip...], forward: [name...] }`; prints `{ reverse: {ip: names|code}, forward: {name: ips|code} }`.
 */
export const DNS_PROBE = `
const dns = require('dns');
const q = JSON.parse(process.argv[1]);
const r = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
r.setServers(['127.0.0.11']);
const ask = (f, x) => f(x).then((v) => v, (e) => e.code);
(async () => {
  const reverse = {}, forward = {};
  for (const ip of q.reverse) reverse[ip] = await ask((x) => r.reverse(x), ip);
  for (const n of q.forward) forward[n] = await ask((x) => r.resolve4(x), n);
  console.log(JSON.stringify({ reverse, forward }));
})();
`;

/** A TCP listener on the host that greets with `hello <tag>` and counts who connected. */
export interface HostListener {
  port: number;
  connections: number;
  close(): Promise<void>;
}

export async function hostListener(host: string, tag: string): Promise<HostListener> {
  const state = { connections: 0 };
  const server: Server = createServer((s) => {
    state.connections += 1;
    s.end(`hello ${tag}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    get connections() {
      return state.connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A fake upstream "outside": a network namespace this test makes, joined to the host by a veth pair
 * in 198.18.0.0/15 (the benchmarking range, routed nowhere), with a TCP listener in it. Packets from a
 * workspace reach it only if the host forwards them; it answers them only through its own veth.
 */
export interface FakeOutside {
  ip: string;
  port: number;
  connections(): Promise<number>;
  close(): Promise<void>;
}

export async function fakeOutside(node: string): Promise<FakeOutside> {
  const tag = randomBytes(3).toString('hex');
  const ns = `bnwt-${tag}`;
  const hostIf = `bnwh${tag}`;
  const nsIf = `bnwn${tag}`;
  const octet = 1 + (parseInt(tag, 16) % 250);
  const hostIp = `198.18.${octet}.1`;
  const ip = `198.18.${octet}.2`;
  const port = 18_080;
  const sh = (...args: string[]) => run(args[0]!, args.slice(1));
  await sh('ip', 'netns', 'add', ns);
  await sh('ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
  await sh('ip', 'link', 'set', nsIf, 'netns', ns);
  await sh('ip', 'addr', 'add', `${hostIp}/30`, 'dev', hostIf);
  await sh('ip', 'link', 'set', hostIf, 'up');
  await sh('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${ip}/30`, 'dev', nsIf);
  await sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
  await sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  await sh('ip', 'netns', 'exec', ns, 'ip', 'route', 'add', 'default', 'via', hostIp);
  const counter = `let n=0;require('net').createServer((s)=>{n++;s.end('hello outside\\n')}).listen(${port},'${ip}');process.stdin.on('data',()=>process.stdout.write(n+'\\n'));`;
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, node, '-e', counter], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((r) => setTimeout(r, 500));
  return {
    ip,
    port,
    connections: () =>
      new Promise<number>((resolve) => {
        child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
        child.stdin!.write('?\n');
      }),
    close: async () => {
      child.kill('SIGKILL');
      await sh('ip', 'link', 'del', hostIf).catch(() => undefined);
      await sh('ip', 'netns', 'del', ns).catch(() => undefined);
    },
  };
}
