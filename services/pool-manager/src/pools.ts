import { BerthError, type PoolConfig } from '@berth/contracts';

/** The configured pools, by name. The first one is the default. */
export class PoolRegistry {
  private readonly byName: Map<string, PoolConfig>;

  constructor(readonly list: PoolConfig[]) {
    this.byName = new Map(list.map((p) => [p.name, p]));
  }

  get default(): PoolConfig {
    return this.list[0]!;
  }

  resolve(name: string | undefined): PoolConfig {
    if (name === undefined) return this.default;
    const pool = this.byName.get(name);
    if (!pool) throw new BerthError('POOL_NOT_FOUND', `no pool named ${name}`);
    return pool;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}
