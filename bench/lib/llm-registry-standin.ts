// Stands in for egress's LLM key registry (`berth.llmkey.*`) in benchmarks run before egress has
// it, in its own process so it does not share the benchmark client's event loop.
// Usage: node --import tsx bench/lib/llm-registry-standin.ts <nats-url>; prints `ready`, then on
// SIGTERM the number of registrations it answered.
import { connectNats, createLogger, drainNats } from '@berth/service-kit';

const nc = await connectNats({ url: process.argv[2] ?? '', name: 'bench-llm-registry', logger: createLogger('bench', 'warn') });
const REPLIES: Record<string, string> = {
  'berth.llmkey.register': JSON.stringify({ registered: true }),
  'berth.llmkey.revoke': JSON.stringify({ revoked: true }),
  'berth.llmkey.sync': JSON.stringify({ added: 0, removed: 0 }),
};
let registered = 0;
nc.subscribe('berth.llmkey.*', {
  callback: (_err, msg) => {
    if (msg.subject === 'berth.llmkey.register') registered += 1;
    msg.respond(REPLIES[msg.subject] ?? '{}');
  },
});
await nc.flush();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void drainNats(nc).then(() => {
    process.stdout.write(`registered ${registered}\n`);
    process.exit(0);
  });
});
