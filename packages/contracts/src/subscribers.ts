import { z } from 'zod';
import { CONSUMERS } from './jetstream-access.js';
import { LOGS } from './logs.js';
import { inboxPrefix, type NatsPermissions } from './permissions.js';
import { EVENTS, SERVICE_NAMES } from './subjects.js';

/*
 * Other systems that follow berth on NATS ("subscribers"): each gets a NATS user of its own,
 * generated into the NATS configuration beside the service users (`pnpm nats-config --subscribers
 * <file>`, NATS_SUBSCRIBERS_FILE for scripts/up). A subscriber reads EVENTS and LOGS through its
 * own durable consumers and core `berth.evt.>`, and nothing else: no request subject, no other
 * consumer (egress-callbacks above all: a pull there would eat setup callbacks), no stream admin.
 *
 * Its durables are listed by exact name, not by prefix: NATS permissions match whole subject
 * tokens and a durable name is one token, so `billing-*` cannot be expressed.
 */

/** Streams a subscriber may read through its durables. */
export const SUBSCRIBER_STREAMS = [EVENTS.stream, LOGS.stream] as const;

/** Durables the services use; no subscriber may claim one. */
const RESERVED_DURABLES = new Set<string>(Object.values(CONSUMERS).map((c) => c.durable));

const DurableNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'a durable name: lower-case letters, digits, - and _ (no dots or wildcards)')
  .refine((d) => !RESERVED_DURABLES.has(d) && !/^image-builder(-|$)/.test(d), 'a durable name that a berth service uses');

/** bcrypt, as nats-server verifies it ($2a$/$2b$/$2y$, cost 10–31): a plaintext password is refused. */
const BcryptSchema = z
  .string()
  .regex(
    /^\$2[aby]\$(1\d|2\d|3[01])\$[./A-Za-z0-9]{53}$/,
    'a bcrypt hash (e.g. from `htpasswd -bnBC 11 "" secret | tr -d ":\\n"`), never a plaintext password',
  );

/** A NATS user nkey's public key (never the seed). */
const NkeySchema = z.string().regex(/^U[A-Z2-7]{55}$/, 'a user nkey public key (U…, 56 characters), never the seed (SU…)');

export const NatsSubscriberSchema = z
  .strictObject({
    /** The NATS user name; also its inbox prefix (`_INBOX.<name>`). */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, 'lower-case letters, digits and -')
      .refine((n) => !(SERVICE_NAMES as readonly string[]).includes(n), 'the name of a berth service'),
    password: BcryptSchema.optional(),
    nkey: NkeySchema.optional(),
    /** Durable consumer names it may create, read, acknowledge and delete on EVENTS and LOGS; default: its name. */
    durables: z.array(DurableNameSchema).min(1).max(32).optional(),
  })
  .refine((s) => (s.password === undefined) !== (s.nkey === undefined), 'exactly one of password (bcrypt) and nkey');
export type NatsSubscriber = z.infer<typeof NatsSubscriberSchema>;

export const NatsSubscribersSchema = z
  .array(NatsSubscriberSchema)
  .max(256)
  .superRefine((subs, ctx) => {
    const names = new Set<string>();
    const owners = new Map<string, string>();
    for (const s of subs) {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', message: `subscriber ${s.name} is listed twice` });
      names.add(s.name);
      for (const d of durablesOf(s)) {
        const other = owners.get(d);
        if (other !== undefined && other !== s.name) ctx.addIssue({ code: 'custom', message: `durable ${d} is given to both ${other} and ${s.name}` });
        owners.set(d, s.name);
      }
    }
  });

/** Parses a subscribers file's JSON; throws with every problem named. */
export function parseNatsSubscribers(json: string): NatsSubscriber[] {
  const r = NatsSubscribersSchema.safeParse(JSON.parse(json));
  if (!r.success) throw new Error(`invalid NATS subscribers: ${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

export const durablesOf = (s: NatsSubscriber): string[] => [...new Set(s.durables ?? [s.name])];

/** What a subscriber's NATS user may do. */
export function subscriberPermissions(s: NatsSubscriber): NatsPermissions {
  const publish = ['$JS.API.INFO'];
  for (const stream of SUBSCRIBER_STREAMS) {
    publish.push(`$JS.API.STREAM.INFO.${stream}`);
    for (const d of durablesOf(s)) {
      publish.push(
        `$JS.API.CONSUMER.CREATE.${stream}.${d}`,
        `$JS.API.CONSUMER.CREATE.${stream}.${d}.>`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${d}`,
        `$JS.API.CONSUMER.INFO.${stream}.${d}`,
        `$JS.API.CONSUMER.MSG.NEXT.${stream}.${d}`,
        `$JS.API.CONSUMER.DELETE.${stream}.${d}`,
        `$JS.ACK.${stream}.${d}.>`,
      );
    }
  }
  return { publish, subscribe: [...EVENTS.subjects, `${inboxPrefix(s.name)}.>`], allowResponses: false };
}
