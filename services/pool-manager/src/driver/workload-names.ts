import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'berth-';
const CLAIMED = '-claimed';
const IV_BYTES = 16;
/** The marker before owners were sealed: `berth-<id>-o<owner as hex>-claimed` (read, never written). */
const LEGACY_OWNER = /-o((?:[\da-f]{2})+)-claimed$/;

/**
 * Engine-side workspace names. Docker's embedded DNS answers every container's name, forward and
 * reverse (PTR), to every container on its network, so a name carries neither berth id nor owner in
 * the clear. A warm name is a keyed hash of the id. A claim marker (`-claimed` suffix) seals id and
 * owner with deterministic authenticated encryption (SIV: the IV is an HMAC of the plaintext, AES-CTR
 * under a second key), so reconcile reads the owner back after a Redis loss, and only with the key
 * pool-manager holds (WORKSPACE_NAME_KEY or its key file, see name-key.ts).
 */
export class WorkloadNames {
  private readonly macKey: Buffer;
  private readonly encKey: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('the workspace name key must be at least 32 characters');
    this.macKey = createHmac('sha256', secret).update('berth workspace names: mac').digest();
    this.encKey = createHmac('sha256', secret).update('berth workspace names: enc').digest();
  }

  warm(id: string): string {
    return PREFIX + this.mac(`warm\0${id}`).subarray(0, 16).toString('hex');
  }

  claimed(id: string, owner: string): string {
    const plain = Buffer.from(`${id}\0${owner}`, 'utf8');
    const iv = this.mac(plain).subarray(0, IV_BYTES);
    const cipher = createCipheriv('aes-256-ctr', this.encKey, iv);
    return PREFIX + Buffer.concat([iv, cipher.update(plain), cipher.final()]).toString('base64url') + CLAIMED;
  }

  /** The owner a claim marker of workspace `id` carries; undefined when it carries none for that id. */
  ownerOf(name: string, id: string): string | undefined {
    const bare = name.replace(/^\//, '');
    if (!isClaimMarked(bare)) return undefined;
    const legacy = LEGACY_OWNER.exec(bare);
    if (legacy && bare.startsWith(`${PREFIX}${id}-o`)) return Buffer.from(legacy[1]!, 'hex').toString('utf8');
    const sealed = Buffer.from(bare.slice(PREFIX.length, -CLAIMED.length), 'base64url');
    if (sealed.length <= IV_BYTES) return undefined;
    const iv = sealed.subarray(0, IV_BYTES);
    const decipher = createDecipheriv('aes-256-ctr', this.encKey, iv);
    const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES)), decipher.final()]);
    if (!timingSafeEqual(this.mac(plain).subarray(0, IV_BYTES), iv)) return undefined;
    const text = plain.toString('utf8');
    const sep = text.indexOf('\0');
    return sep >= 0 && text.slice(0, sep) === id ? text.slice(sep + 1) : undefined;
  }

  private mac(data: string | Buffer): Buffer {
    return createHmac('sha256', this.macKey).update(data).digest();
  }
}

/** A claimed workspace's name, whatever its key: the suffix is the marker reconcile restores claims by. */
export const isClaimMarked = (name: string) => name.replace(/^\//, '').endsWith(CLAIMED);
