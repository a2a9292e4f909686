import type { Logger, Redis } from '@berth/service-kit';
import { z } from 'zod';
import type { SecretBox } from './secret-box.js';

export interface Registration {
  url: string;
  secret: string;
}

const RegistrationSchema = z.object({ url: z.string(), secret: z.string() });

const registrationKey = (id: string) => `berth:cb:${id}`;

/**
 * Callback registrations in Redis, one key per workspace with a TTL. The whole value (URL and
 * secret: a URL can carry a token in its query) is sealed, so Redis never holds either in clear.
 * The key expires after the TTL; a new registration for the same workspace replaces the old one.
 */
export class Registrations {
  constructor(
    private readonly redis: Redis,
    private readonly box: SecretBox,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {}

  async put(id: string, reg: Registration): Promise<void> {
    const sealed = this.box.seal(JSON.stringify({ url: reg.url, secret: reg.secret }), id);
    await this.redis.set(registrationKey(id), sealed, 'EX', this.ttlSeconds);
  }

  /** The registration, or undefined when there is none (or it cannot be opened: key changed). Redis errors throw. */
  async get(id: string): Promise<Registration | undefined> {
    const sealed = await this.redis.get(registrationKey(id));
    if (sealed === null) return undefined;
    try {
      return RegistrationSchema.parse(JSON.parse(this.box.open(sealed, id)));
    } catch {
      this.logger.warn({ id }, 'callback registration cannot be opened (EGRESS_SECRET_KEY changed?); ignored');
      return undefined;
    }
  }
}
