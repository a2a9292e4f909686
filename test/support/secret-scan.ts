import { execFileSync, spawnSync } from 'node:child_process';
import { Redis, type NatsConnection } from '@berth/service-kit';

/** Where a secret was found, or nothing. Each scanned item is one string. */
export function findSecret(items: Iterable<[where: string, text: string]>, secret: string): string[] {
  const hits: string[] = [];
  for (const [where, text] of items) if (text.includes(secret)) hits.push(where);
  return hits;
}

/** Every Redis key (SCAN) with its value, whatever its type. */
export async function redisEntries(url: string): Promise<[string, string][]> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const out: [string, string][] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? await redis.hgetall(key)
              : type === 'list'
                ? await redis.lrange(key, 0, -1)
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'zset'
                    ? await redis.zrange(key, 0, -1, 'WITHSCORES')
                    : type === 'stream'
                      ? await redis.xrange(key, '-', '+')
                      : `<${type}>`;
        out.push([`redis ${key}`, `${key} ${JSON.stringify(value)}`]);
      }
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Every message in a JetStream stream, subject, headers and data, read with the plain JS API (no consumer left behind). */
export async function streamMessages(nc: NatsConnection, stream: string): Promise<[string, string][]> {
  const api = async (subject: string, body: unknown) =>
    JSON.parse((await nc.request(subject, JSON.stringify(body), { timeout: 5_000 })).string()) as Record<string, unknown>;
  const info = await api(`$JS.API.STREAM.INFO.${stream}`, {});
  const state = info.state as { first_seq: number; last_seq: number; messages: number } | undefined;
  if (!state) throw new Error(`no stream ${stream}: ${JSON.stringify(info)}`);
  const out: [string, string][] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const reply = await api(`$JS.API.STREAM.MSG.GET.${stream}`, { seq });
    const msg = reply.message as { subject: string; data?: string; hdrs?: string } | undefined;
    if (!msg) continue;
    const decode = (b64?: string) => (b64 ? Buffer.from(b64, 'base64').toString('utf8') : '');
    out.push([`${stream} #${seq} ${msg.subject}`, `${msg.subject}\n${decode(msg.hdrs)}\n${decode(msg.data)}`]);
  }
  return out;
}

/** Env, labels, command and name of every container labelled with this host id, running or not. */
export function containerConfigs(hostId: string): [string, string][] {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=berth.host=${hostId}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return [];
  // A container removed meanwhile (a task ending, a pool refill) makes inspect exit 1 while it still
  // prints the others: read stdout whatever the status.
  const inspected = spawnSync('docker', ['inspect', ...ids], { encoding: 'utf8' });
  const infos = JSON.parse(inspected.stdout || '[]') as {
    Id: string;
    Name: string;
    Config: { Env: string[] | null; Labels: Record<string, string> | null; Cmd: string[] | null };
  }[];
  return infos.map((i) => [`container ${i.Name}`, JSON.stringify({ name: i.Name, env: i.Config.Env, labels: i.Config.Labels, cmd: i.Config.Cmd })]);
}
