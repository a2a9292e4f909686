// scripts/up --hosts N: N Docker engines on this machine, each with its pool-manager and
// log-streamer, a three-node NATS cluster, one Redis and one gateway, started by the same code the
// tests and `pnpm bench:scale` use (test/support/multi-host.ts). Foreground; Ctrl-C stops and
// removes all of it (engines, bridges, directories).
import { startMultiHost } from '../test/support/multi-host.js';

const hosts = Number(process.argv[2]);
if (!Number.isInteger(hosts) || hosts < 1 || hosts > 8) {
  console.error('usage: scripts/up --hosts N (1 to 8)');
  process.exit(2);
}
const stack = await startMultiHost({ hosts, token: process.env.BERTH_API_TOKEN, logLevel: process.env.LOG_LEVEL ?? 'info' });
console.log(`berth on ${hosts} Docker hosts: ${stack.url} (token ${process.env.BERTH_API_TOKEN ? 'from BERTH_API_TOKEN' : stack.token})`);
console.log(`hosts: ${stack.hosts.map((h) => h.id).join(', ')}; NATS: ${stack.natsUrls.join(',')}; Redis: ${stack.redis.url}`);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping the multi-host stack');
  stack.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
