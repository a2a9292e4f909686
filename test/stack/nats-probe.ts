// Run inside a container on berth-internal: probes each user of NATS_PROBES (JSON NatsProbe[])
// and prints the results as JSON. The stack test runs it with `docker exec`.
import { probeNatsPermissions, type NatsProbe } from '@berth/service-kit/testing';

const probes = JSON.parse(process.env.NATS_PROBES ?? '[]') as NatsProbe[];
const results = [];
for (const p of probes) results.push({ user: p.user, ...(await probeNatsPermissions(p)) });
console.log(JSON.stringify(results));
