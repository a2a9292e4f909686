import { SetupStatusSchema, type SetupStatus } from '@berth/contracts';
import type { Redis } from '@berth/service-kit';
import { hostKeys } from '../state/keys.js';

/** A finished setup's state is kept this long (GET answers it), an unfinished one until it ends. */
const SETUP_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * Starts a setup unless one is running: the new status continues the workspace's seq (so event ids
 * stay unique across re-setups). ARGV: prefix, id, owner, status JSON (seq ignored), ttl.
 */
const BEGIN = `
local key = ARGV[1] .. 'setup:' .. ARGV[2]
local cur = redis.call('HGET', key, 'status')
local seq = 0
if cur then
  local s = cjson.decode(cur)
  if s.phase ~= 'ready' and s.phase ~= 'failed' then return {'busy', cur} end
  seq = s.seq
end
local st = cjson.decode(ARGV[4])
st.seq = seq + 1
local enc = cjson.encode(st)
redis.call('HSET', key, 'status', enc, 'owner', ARGV[3])
redis.call('PEXPIRE', key, ARGV[5])
redis.call('SADD', ARGV[1] .. 'setups', ARGV[2])
return {'ok', enc}
`;

type Scripted = Redis & { berthSetupBegin(...args: (string | number)[]): Promise<[string, string]> };

/**
 * Setup state of a host's workspaces in Redis: the status as the API shows it and the caller that
 * owns it. Never a token, callback secret, env value or command: SetupStatus has no field for them.
 */
export class SetupStore {
  private readonly prefix: string;
  private readonly redis: Scripted;

  constructor(redis: Redis, hostId: string) {
    this.prefix = hostKeys(hostId).prefix;
    if (!('berthSetupBegin' in redis)) redis.defineCommand('berthSetupBegin', { numberOfKeys: 0, lua: BEGIN });
    this.redis = redis as Scripted;
  }

  private key(id: string): string {
    return `${this.prefix}setup:${id}`;
  }

  /** Records the first status of a new setup, or returns the running one. */
  async begin(owner: string, first: Omit<SetupStatus, 'seq'>): Promise<{ started: boolean; status: SetupStatus }> {
    const [outcome, json] = await this.redis.berthSetupBegin(this.prefix, first.id, owner, JSON.stringify({ ...first, seq: 0 }), SETUP_TTL_MS);
    return { started: outcome === 'ok', status: parse(json) };
  }

  async save(status: SetupStatus): Promise<void> {
    await this.redis.multi().hset(this.key(status.id), 'status', JSON.stringify(status)).pexpire(this.key(status.id), SETUP_TTL_MS).exec();
  }

  async get(id: string): Promise<{ status: SetupStatus; owner: string } | undefined> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.status) return undefined;
    return { status: parse(h.status), owner: h.owner ?? '' };
  }

  /** Setups of this host that have not reached ready or failed. */
  async unfinished(): Promise<{ status: SetupStatus; owner: string }[]> {
    const out: { status: SetupStatus; owner: string }[] = [];
    for (const id of await this.redis.smembers(`${this.prefix}setups`)) {
      const found = await this.get(id);
      if (!found) await this.redis.srem(`${this.prefix}setups`, id);
      else if (found.status.phase !== 'ready' && found.status.phase !== 'failed') out.push(found);
    }
    return out;
  }
}

/** cjson writes an empty object for `durations: {}` and may write numbers as floats: zod puts it right. */
function parse(json: string): SetupStatus {
  const raw = JSON.parse(json) as Record<string, unknown>;
  if (Array.isArray(raw.durations)) raw.durations = {};
  return SetupStatusSchema.parse(raw);
}
