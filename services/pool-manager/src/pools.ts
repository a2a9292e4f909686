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

  /**
   * The pool a create asks for: the one it names, else the caller's own pool of the template it
   * names (a warm claim), else the default. An owner's template pool is that owner's alone: to
   * anyone else it does not exist.
   */
  forCreate(name: string | undefined, owner: string, template: string | undefined): PoolConfig {
    const own = name === undefined && template !== undefined ? this.list.find((p) => p.owner === owner && p.template === template) : undefined;
    const pool = own ?? this.resolve(name);
    if (pool.owner !== undefined && pool.owner !== owner) throw new BerthError('POOL_NOT_FOUND', `no pool named ${pool.name}`);
    return pool;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}
