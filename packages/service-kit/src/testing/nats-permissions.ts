import { connect, errors } from '@nats-io/transport-node';

export interface NatsProbe {
  url: string;
  user: string;
  password: string;
  /** Concrete subjects to publish to and to subscribe to. */
  publish: string[];
  subscribe: string[];
}

export interface NatsProbeResult {
  connected: boolean;
  /** Subjects the server refused with a permissions violation. */
  refusedPublish: string[];
  refusedSubscribe: string[];
}

/** Connects as one user, tries every publish and subscribe, and reports what the server refused. */
export async function probeNatsPermissions(p: NatsProbe): Promise<NatsProbeResult> {
  let nc;
  try {
    nc = await connect({ servers: p.url, user: p.user, pass: p.password, reconnect: false, timeout: 5_000 });
  } catch {
    return { connected: false, refusedPublish: [], refusedSubscribe: [] };
  }
  const refused = { publish: new Set<string>(), subscription: new Set<string>() };
  const watching = (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.error instanceof errors.PermissionViolationError) refused[s.error.operation].add(s.error.subject);
    }
  })();
  for (const subject of p.publish) nc.publish(subject, 'permission probe');
  for (const subject of p.subscribe) nc.subscribe(subject, { callback: () => undefined });
  // The server answers in order: every -ERR has arrived once the PONG of this flush has.
  await nc.flush();
  await new Promise((r) => setTimeout(r, 200));
  await nc.close();
  await watching;
  return { connected: true, refusedPublish: [...refused.publish], refusedSubscribe: [...refused.subscription] };
}
