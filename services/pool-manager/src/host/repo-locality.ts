import type { Logger, Redis } from '@berth/service-kit';
import { hostKeys } from '../state/keys.js';

/** Repos a heartbeat names at most (the most recently set up first): enough to steer placement. */
export const MAX_LOCAL_REPOS = 200;

/**
 * The repos this host holds a mirror (and, after a setup, a node_modules seed and possibly a main
 * image) of, in Redis as a sorted set by last setup: heartbeats name them so placement prefers
 * this host for creates of that repo. Per host, like the mirrors themselves.
 */
export class RepoLocality {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    hostId: string,
    private readonly logger: Logger,
  ) {
    this.key = `${hostKeys(hostId).prefix}repos`;
  }

  /** After repo-cache made this repo's mirror current on this host. Never fails a setup. */
  async note(repo: string): Promise<void> {
    try {
      await this.redis.zadd(this.key, Date.now(), repo);
      await this.redis.zremrangebyrank(this.key, 0, -(MAX_LOCAL_REPOS + 1));
    } catch (err) {
      this.logger.warn({ err, repo }, 'repo locality not recorded');
    }
  }

  async list(): Promise<string[]> {
    return this.redis.zrevrange(this.key, 0, MAX_LOCAL_REPOS - 1);
  }
}
