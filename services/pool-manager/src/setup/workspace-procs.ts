import { noProxyEnv } from '../llm/llm-env.js';
import { killScript, type ExecProcess, type OutputChunk } from '../driver/exec-process.js';
import { TailBuffer } from '../driver/tail-buffer.js';
import { withBackstop } from '../exec-run.js';
import type { SetupDeps, SetupRun } from './setup-context.js';
import { SETUP_PROC_VAR } from './setup-commands.js';

/** Env of every setup process: the caller's envVars (exec env, never the container's), then ours. */
export function setupEnv(d: SetupDeps, run: SetupRun, extra: Record<string, string> = {}): Record<string, string> {
  const proxy = d.config.SETUP_PROXY_URL;
  return {
    ...run.body.envVars,
    ...(proxy && { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, npm_config_proxy: proxy, npm_config_https_proxy: proxy }),
    // The LLM base URLs point at egress itself: SDKs honouring HTTP_PROXY must call them directly.
    ...(proxy && noProxyEnv(d.config.LLM_EGRESS_URL, run.body.envVars)),
    ...extra,
    [SETUP_PROC_VAR]: '1',
  };
}

/** Starts a setup process in the workspace through the workspace's own exec path (Processes). */
export function spawnInWorkspace(d: SetupDeps, run: SetupRun, argv: string[], env: Record<string, string>): Promise<ExecProcess> {
  return d.processes.spawn(run.id, run.owner, argv, { env, cwd: '/workspace/repo' });
}

/**
 * Runs to the end or `timeoutMs` (then the whole process tree is killed), keeping the output's
 * tail; `live` sees the output as it comes.
 */
export async function runWithTail(
  proc: ExecProcess,
  timeoutMs: number,
  maxBytes = 64 * 1024,
  live?: { write(chunk: OutputChunk): void; end(): void },
): Promise<{ exitCode: number | null; timedOut: boolean; output: string }> {
  const tail = new TailBuffer(maxBytes);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.kill().catch(() => undefined);
  }, timeoutMs);
  try {
    for await (const chunk of proc.output) {
      tail.write(chunk.data);
      live?.write(chunk);
    }
  } catch {
    // The attach socket failed: the exit code decides.
  } finally {
    clearTimeout(timer);
    live?.end();
  }
  const exitCode = await proc.exitCode();
  return { exitCode: timedOut ? null : exitCode, timedOut, output: tail.text() };
}

/** Kills every process a setup started in the workspace (install, dev server), whoever started it. */
export async function killSetupProcesses(d: SetupDeps, run: Pick<SetupRun, 'id' | 'owner'>): Promise<void> {
  const proc = await d.processes.spawn(run.id, run.owner, ['sh', '-c', killScript(SETUP_PROC_VAR), 'berth-kill', '1'], {});
  await runWithTail(proc, 10_000, 1024);
}

export { withBackstop };
