import type { WorkspaceState } from '@berth/contracts';
import type { Redis } from '@berth/service-kit';
import { hostKeys, type HostKeys } from './keys.js';
import { BerthError } from '@berth/contracts';
import { ACQUIRE_EPOCH, BEGIN_STOP, CLAIM_WARM, FENCE, MARK_READY, REASSERT_CLAIMS, REBUILD, RELEASE, RESERVE, RESTORE, TRY_LOCK } from './lua.js';
import { ClaimJournal } from './claim-journal.js';
import { fromHash, toHash, type WorkspaceRecord } from './workspace-record.js';

export type ReserveOutcome = 'reserved' | 'existing' | 'name_conflict' | 'capacity' | 'ports';
export type ClaimOutcome = 'claimed' | 'existing' | 'name_conflict' | 'empty' | 'body_mismatch';

export interface ReserveArgs {
  id: string;
  requestId: string;
  owner: string;
  name: string;
  pool: string;
  image: string;
  volumeName: string;
  memoryMb: number;
  containerPorts: number[];
  maxCount: number;
  maxMemoryMb: number;
  portRange: [number, number];
}

const REQUEST_TTL_S = 600;

/** KEYS: record, claimed set; ARGV: id, now, idle timeout ms ('' keeps it). Never recreates a released record. */
const TOUCH = `
if redis.call('HGET', KEYS[1], 'state') ~= 'claimed' then return 0 end
redis.call('HSET', KEYS[1], 'lastActiveAt', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'idleTimeoutMs', ARGV[3]) end
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
return 1
`;

const FENCED_SCRIPTS = {
  berthReserve: RESERVE,
  berthClaimWarm: CLAIM_WARM,
  berthMarkReady: MARK_READY,
  berthBeginStop: BEGIN_STOP,
  berthRelease: RELEASE,
  berthRebuild: REBUILD,
  berthRestore: RESTORE,
  berthTryLock: TRY_LOCK,
  berthReassertClaims: REASSERT_CLAIMS,
};
type ScriptName = keyof typeof FENCED_SCRIPTS;
type Scripted = Redis & Record<ScriptName | 'berthAcquireEpoch', (...args: (string | number)[]) => Promise<unknown>>;

/** All of a host's workspace state in Redis; every mutation is one Lua script. */
export class WorkspaceStore {
  readonly keys: HostKeys;
  private readonly redis: Scripted;
  /** This pool-manager's fencing token; '0' until acquireEpoch (then any newer holder fences it out). */
  private epoch = '0';
  /** Set once a script refused this store's epoch: a newer pool-manager owns the host. */
  fenced = false;
  /** Called once, when the store is first fenced out. */
  onFenced: () => void = () => undefined;
  private readonly journal = new ClaimJournal();
  /** Connections to Redis lost so far, and how many of them the journal was put back after. */
  private disconnects = 0;
  private recovered = 0;
  private recovering: Promise<void> | undefined;

  constructor(redis: Redis, hostId: string) {
    this.keys = hostKeys(hostId);
    for (const [name, lua] of Object.entries(FENCED_SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua: FENCE + lua });
    }
    if (!('berthAcquireEpoch' in redis)) redis.defineCommand('berthAcquireEpoch', { numberOfKeys: 0, lua: ACQUIRE_EPOCH });
    this.redis = redis as Scripted;
    // A disconnection may be a restarted redis-server that lost its last acknowledged writes: no claim
    // until the journal is put back, which starts as soon as Redis answers again. (The Redis client
    // must not resend commands that were in flight: see createRedis' `resendUnfulfilled`.)
    redis.on('close', () => {
      this.disconnects += 1;
    });
    redis.on('ready', () => {
      if (this.epoch !== '0' && this.disconnects > this.recovered) this.recover().catch(() => undefined);
    });
  }

  /** Takes over the host: every store with an older epoch is refused from now on. */
  async acquireEpoch(): Promise<string> {
    this.epoch = String(await this.redis.berthAcquireEpoch(this.keys.prefix, Date.now()));
    return this.epoch;
  }

  get currentEpoch(): string {
    return this.epoch;
  }

  /** Runs a fenced script with this store's epoch as the last argument. */
  private async run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis[name](this.keys.prefix, ...args, this.epoch);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes('BERTH_FENCED')) throw err;
      if (!this.fenced) {
        this.fenced = true;
        this.onFenced();
      }
      throw new BerthError('SERVICE_UNAVAILABLE', 'this pool-manager was superseded; retry', { retryAfterSeconds: 1, cause: err });
    }
  }

  /**
   * Binds a requestId to the hash of its body for as long as the requestId deduplicates creates;
   * false when it is bound to another body already (first writer wins, atomically).
   */
  async bindRequestBody(requestId: string, bodyHash: string): Promise<boolean> {
    const key = this.keys.requestBody(requestId);
    if ((await this.redis.set(key, bodyHash, 'EX', REQUEST_TTL_S, 'NX')) === 'OK') return true;
    return (await this.redis.get(key)) === bodyHash;
  }

  async reserve(a: ReserveArgs): Promise<{ outcome: ReserveOutcome; id: string }> {
    const [lo, hi] = a.portRange;
    const offset = Math.floor(Math.random() * (hi - lo + 1));
    const [outcome, id] = (await this.run(
      'berthReserve',
      a.id,
      a.requestId,
      a.owner,
      a.name,
      Date.now(),
      REQUEST_TTL_S,
      a.maxCount,
      a.maxMemoryMb,
      a.memoryMb,
      lo,
      hi,
      offset,
      a.pool,
      a.image,
      a.volumeName,
      JSON.stringify(a.containerPorts),
    )) as [ReserveOutcome, string];
    return { outcome, id };
  }

  /**
   * On 'claimed' the reply carries the claimed record, saving a round trip on the hot path; with
   * `bodyHash` the requestId is bound to it first ('body_mismatch': bound to another). A claim is
   * journaled; after a lost connection the journal is put back first (REASSERT_CLAIMS), so a claim
   * a restarted Redis lost is never handed out again (the head of the warm list may be one).
   */
  async claimWarm(
    pool: string,
    requestId: string,
    owner: string,
    name: string,
    bodyHash = '',
  ): Promise<{ outcome: ClaimOutcome; id: string; record?: WorkspaceRecord }> {
    while (this.disconnects > this.recovered) await this.recover();
    const [outcome, id, ...flat] = (await this.run('berthClaimWarm', pool, requestId, owner, name, Date.now(), REQUEST_TTL_S, bodyHash)) as [
      ClaimOutcome,
      string,
      ...string[],
    ];
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
    const record = fromHash(hash);
    if (outcome === 'claimed' && record) this.journal.add({ id, ref: record.ref, requestId, owner, name, at: record.claimedAt });
    return record ? { outcome, id, record } : { outcome, id };
  }

  /** Puts this process' recent claims back into Redis where it lost them; one run at a time. */
  private recover(): Promise<void> {
    this.recovering ??= (async () => {
      const upTo = this.disconnects;
      await this.run('berthReassertClaims', JSON.stringify(this.journal.recent()), REQUEST_TTL_S);
      this.recovered = Math.max(this.recovered, upTo);
    })().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  async markReady(id: string, ref: string): Promise<boolean> {
    return (await this.run('berthMarkReady', id, ref, Date.now())) === 1;
  }

  /** Whether the record is ready (warm or claimed) with the container `ref`: marked ready by its creator or by reconcile. */
  async readyWith(id: string, ref: string): Promise<boolean> {
    const [state, current] = await this.redis.hmget(this.keys.workspace(id), 'state', 'ref');
    return (state === 'warm' || state === 'claimed') && current === ref;
  }

  async beginStop(id: string, onlyIf?: WorkspaceState): Promise<boolean> {
    const begun = (await this.run('berthBeginStop', id, onlyIf ?? '')) === 1;
    if (begun) this.journal.forget(id);
    return begun;
  }

  async release(id: string): Promise<void> {
    await this.run('berthRelease', id);
  }

  async rebuild(pools: string[]): Promise<number> {
    return Number(await this.run('berthRebuild', JSON.stringify(pools)));
  }

  /** A record warm again that this process claimed is a claim Redis lost: put back before it is read. */
  async get(id: string): Promise<WorkspaceRecord | undefined> {
    const record = fromHash(await this.redis.hgetall(this.keys.workspace(id)));
    if (record?.state !== 'warm' || !this.journal.has(id)) return record;
    await this.recover();
    return fromHash(await this.redis.hgetall(this.keys.workspace(id)));
  }

  async all(): Promise<WorkspaceRecord[]> {
    const ids = await this.redis.smembers(this.keys.all);
    const hashes = await Promise.all(ids.map((id) => this.redis.hgetall(this.keys.workspace(id))));
    return hashes.map(fromHash).filter((r): r is WorkspaceRecord => r !== undefined);
  }

  /** Writes a record rebuilt from Docker labels; derived sets follow at the next rebuild(). */
  async restore(record: WorkspaceRecord): Promise<void> {
    await this.run('berthRestore', record.id, ...Object.entries(toHash(record)).flat());
  }

  /** Marks a claimed workspace active now; false (and nothing written) when it is not claimed. */
  async touch(id: string): Promise<boolean> {
    return (await this.redis.eval(TOUCH, 2, this.keys.workspace(id), this.keys.claimed, id, Date.now(), '')) === 1;
  }

  /** Sets a claimed workspace's own idle timeout and marks it active now; false when it is not claimed. */
  async setIdleTimeout(id: string, timeoutMs: number): Promise<boolean> {
    return (await this.redis.eval(TOUCH, 2, this.keys.workspace(id), this.keys.claimed, id, Date.now(), String(timeoutMs))) === 1;
  }

  /** Claimed workspaces with when they were last active and their own idle timeout (0: the default). */
  async idleCandidates(): Promise<{ id: string; lastActiveAt: number; idleTimeoutMs: number }[]> {
    const flat = await this.redis.zrange(this.keys.claimed, 0, -1, 'WITHSCORES');
    const ids = flat.filter((_, i) => i % 2 === 0);
    const timeouts = await Promise.all(ids.map((id) => this.redis.hget(this.keys.workspace(id), 'idleTimeoutMs')));
    return ids.map((id, i) => ({ id, lastActiveAt: Number(flat[2 * i + 1]), idleTimeoutMs: Number(timeouts[i] ?? 0) }));
  }

  /** When a claimed workspace was last active, or undefined when it is not claimed. */
  async lastActiveAt(id: string): Promise<number | undefined> {
    const score = await this.redis.zscore(this.keys.claimed, id);
    return score === null ? undefined : Number(score);
  }

  async capacity(): Promise<{ count: number; memoryMb: number }> {
    const h = await this.redis.hgetall(this.keys.capacity);
    return { count: Number(h.count ?? 0), memoryMb: Number(h.memoryMb ?? 0) };
  }

  async ports(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.ports);
  }

  /** After a workspace's container was replaced (same id, ports, volume name): its new engine ref and image. */
  async replaceContainer(id: string, ref: string, image: string): Promise<void> {
    await this.redis.hset(this.keys.workspace(id), 'ref', ref, 'image', image);
  }

  /** The caller's LLM limits of a claimed workspace (JSON; not secret), kept for key rotations. Never recreates a released record. */
  async setLlmLimits(id: string, limitsJson: string): Promise<void> {
    await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], 'llmLimits', ARGV[1]) end return 0",
      1,
      this.keys.workspace(id),
      limitsJson,
    );
  }

  async llmLimits(id: string): Promise<string | null> {
    return this.redis.hget(this.keys.workspace(id), 'llmLimits');
  }

  /** A short lock so only one reconcile of this host runs at a time (value `<epoch>:<token>`); fenced. */
  async tryLock(token: string, ttlMs: number): Promise<boolean> {
    return (await this.run('berthTryLock', token, ttlMs)) === 1;
  }

  async unlock(token: string): Promise<void> {
    await this.redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      this.keys.reconcileLock,
      `${this.epoch}:${token}`,
    );
  }
}
