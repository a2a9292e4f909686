import type { ExecProcess } from '../driver/exec-process.js';
import { PhaseFailure, type PhaseClock } from './phase-failure.js';
import type { SetupDeps, SetupRun } from './setup-context.js';
import { detachedToContainerLog } from './setup-commands.js';
import { logTail } from './log-tail.js';
import { runWithTail, setupEnv, spawnInWorkspace } from './workspace-procs.js';

/**
 * Waits (inside the workspace) until something accepts connections on the port at one of the
 * workspace's own non-loopback addresses, which is where a published host port leads.
 * argv: port, milliseconds. Exit 0: answered; 3: out of time.
 */
const PROBE_SCRIPT = `const net = require('node:net'); const os = require('node:os');
const port = Number(process.argv[1]); const until = Date.now() + Number(process.argv[2]);
const hosts = () => { const a = Object.values(os.networkInterfaces()).flat().filter((i) => i && i.family === 'IPv4' && !i.internal).map((i) => i.address); return a.length ? a : ['127.0.0.1']; };
const again = () => { if (Date.now() > until) process.exit(3); setTimeout(tryAll, 100); };
function tryAll() { const hs = hosts(); let left = hs.length;
  for (const h of hs) { const s = net.connect({ port, host: h }); s.setTimeout(1000, () => s.destroy(new Error('timeout')));
    s.once('connect', () => { s.destroy(); process.exit(0); });
    s.once('error', () => { left -= 1; if (left === 0) again(); }); } }
tryAll();`;

/**
 * starting: the start command runs detached with PORT set, its output in the container's log (for
 * log-streamer); ready once the port answers, failed when the process ends first or time runs out.
 * Returns the dev server's process (alive while the workspace runs it).
 */
export async function startPhase(d: SetupDeps, run: SetupRun, clock: PhaseClock, command: string): Promise<ExecProcess> {
  const since = Date.now();
  const output = () =>
    d.processes.recentOutput(run.id, run.owner, since, 64 * 1024).then(
      (t) => logTail(t, run.secrets),
      () => undefined,
    );
  const env = setupEnv(d, run, { PORT: String(run.port), HOST: '0.0.0.0' });
  const server = await spawnInWorkspace(d, run, detachedToContainerLog(command), env);
  const serverEnded = (async () => {
    for await (const _ of server.output) {
      /* output goes to the container log; nothing arrives here */
    }
    return server.exitCode();
  })().catch(() => null);
  const probe = await spawnInWorkspace(d, run, ['node', '-e', PROBE_SCRIPT, String(run.port), String(clock.left())], setupEnv(d, run));
  const probed = runWithTail(probe, clock.left() + 5_000, 4096);
  const first = await Promise.race([probed.then((r) => ({ probe: r })), serverEnded.then((code) => ({ exited: code }))]);
  if ('exited' in first) {
    await probe.kill().catch(() => undefined);
    throw new PhaseFailure('START_FAILED', `the start command exited with code ${first.exited ?? 'unknown'} before port ${run.port} answered`, await output());
  }
  if (first.probe.exitCode === 0) return server;
  if (first.probe.exitCode === 3 || first.probe.timedOut) throw clock.timeout(await output());
  throw new PhaseFailure('START_FAILED', `could not wait for port ${run.port}`, logTail(first.probe.output, run.secrets));
}
