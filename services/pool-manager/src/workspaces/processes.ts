import type { WorkspaceRecord } from '../state/workspace-record.js';
import { BerthError, EXEC_OUTPUT_CAP_BYTES, type ExecRequest, type ExecResult, type Usage } from '@berth/contracts';
import { agentSpawn } from '../agent/agent-exec.js';
import type { AgentRegistry } from '../agent/agent-registry.js';
import type { PoolManagerConfig } from '../config.js';
import type { ExecProcess, SpawnOptions } from '../driver/exec-process.js';
import type { WorkloadDriver } from '../driver/workload-driver.js';
import { isWorkloadError } from '../driver/workload-error.js';
import { collect, withBackstop } from '../exec-run.js';
import type { LlmKeys } from '../llm/llm-keys.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import { OutputBudgets } from '../output-budget.js';
import type { WorkspaceAccess } from './access.js';

/** A string runs under `sh -c`; an array is argv. */
export const argvOf = (command: string | string[]) => (typeof command === 'string' ? ['sh', '-c', command] : command);
/** How long a command waits for a connection of a connected agent that is busy (it opens one per command taken). */
const AGENT_WAIT_MS = 1_000;

export interface ProcessDeps {
  store: WorkspaceStore;
  driver: WorkloadDriver;
  access: WorkspaceAccess;
  config: Pick<PoolManagerConfig, 'OUTPUT_RATE_BYTES_PER_S' | 'OUTPUT_BURST_BYTES'>;
  llm: LlmKeys;
  agents?: AgentRegistry | undefined;
}

/** What runs in a caller's workspace: commands (through its agent, or the engine), their output, its resource use. */
export class Processes {
  private readonly budgets: OutputBudgets;

  /** Runs before any process starts in a caller's workspace: resumes a paused one or refuses (pause/pauses.ts). */
  beforeSpawn: (record: WorkspaceRecord) => Promise<void> = async () => undefined;

  constructor(private readonly d: ProcessDeps) {
    this.budgets = new OutputBudgets(d.config.OUTPUT_RATE_BYTES_PER_S, d.config.OUTPUT_BURST_BYTES);
  }

  async exec(req: ExecRequest): Promise<ExecResult> {
    const proc = await this.spawn(req.id, req.owner, argvOf(req.command), {
      env: req.env,
      cwd: req.cwd,
      timeoutMs: req.timeoutMs,
      maxOutputBytes: EXEC_OUTPUT_CAP_BYTES,
    });
    const result = await collect(proc, { timeoutMs: req.timeoutMs, maxOutputBytes: EXEC_OUTPUT_CAP_BYTES });
    if (await this.cutShortByStop(req.id, result)) throw containerDeleted(req.id);
    return result;
  }

  /**
   * Whether a command was killed under us (no exit code through the agent, 128+signal through
   * `docker exec`), not by its timeout, because its workspace is being stopped or is gone: the
   * caller then hears CONTAINER_DELETED rather than a result with `exitCode: null`.
   */
  async cutShortByStop(id: string, end: { exitCode: number | null; timedOut: boolean }): Promise<boolean> {
    const killed = end.exitCode === null || end.exitCode > 128;
    return killed && !end.timedOut && (await this.d.store.get(id))?.state !== 'claimed';
  }

  /**
   * Starts a process in a caller's workspace (exec, streaming exec, terminal, setup): through the
   * workspace's agent when it has one, otherwise (custom images, terminals) with `docker exec`.
   * Every process gets the workspace's LLM variables as they are now; the caller's env wins. Its
   * output is read within the workspace's output budget (OUTPUT_RATE_BYTES_PER_S, OUTPUT_BURST_BYTES).
   */
  async spawn(id: string, owner: string, argv: string[], given: SpawnOptions): Promise<ExecProcess> {
    const proc = await this.spawnUnbudgeted(id, owner, argv, given);
    const killed = new AbortController();
    return {
      ...proc,
      output: this.budgets.throttle(id, proc.output, killed.signal),
      kill: () => {
        killed.abort();
        return proc.kill();
      },
    };
  }

  private async spawnUnbudgeted(id: string, owner: string, argv: string[], given: SpawnOptions): Promise<ExecProcess> {
    const record = await this.d.access.visible(id, owner);
    await this.beforeSpawn(record);
    void this.d.store.touch(record.id).catch(() => undefined);
    const llmEnv = await this.d.llm.env(record.id);
    const opts = Object.keys(llmEnv).length > 0 ? { ...given, env: { ...llmEnv, ...given.env } } : given;
    // A connection the workspace's agent opened to the listener of this workspace: nothing to follow.
    // One that turns out stale (the agent just died) never ran the command: the next is tried.
    for (let attempt = 0; attempt < 3; attempt++) {
      const conn = await this.d.agents?.take(record.id, AGENT_WAIT_MS);
      if (!conn) break;
      const proc = await agentSpawn(conn, argv, opts);
      if (proc) return proc;
    }
    try {
      return await this.d.driver.spawn(record.ref, opts.timeoutMs === undefined ? argv : withBackstop(argv, opts.timeoutMs), opts);
    } catch (err) {
      if (isWorkloadError(err, 'exited') || isWorkloadError(err, 'conflict')) throw new BerthError('CONTAINER_NOT_RUNNING', `container ${id} is not running`);
      if (isWorkloadError(err, 'not_found')) throw new BerthError('CONTAINER_NOT_FOUND', `no container ${id}`);
      throw err;
    }
  }

  /** One resource-use sample of a caller's workspace. */
  async usage(id: string, owner: string): Promise<Usage> {
    const record = await this.d.access.visible(id, owner);
    try {
      const { atMs, ...u } = await this.d.driver.usage(record.ref);
      return { id, at: new Date(atMs).toISOString(), ...u };
    } catch (err) {
      if (isWorkloadError(err, 'not_found')) throw new BerthError('CONTAINER_NOT_FOUND', `no container ${id}`);
      throw err;
    }
  }

  /** The last bytes of a caller's workspace's own output (its dev server, with setup) since `sinceMs`. */
  async recentOutput(id: string, owner: string, sinceMs: number, maxBytes: number): Promise<string> {
    const record = await this.d.access.visible(id, owner);
    return this.d.driver.recentLogs(record.ref, sinceMs, maxBytes);
  }
}

export const containerDeleted = (id: string) => new BerthError('CONTAINER_DELETED', `container ${id} was deleted while the command ran`);
