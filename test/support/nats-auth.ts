import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsPasswordVar, natsServices, type NatsSubscriber, type ServiceName } from '@berth/contracts';
import { ServerProcess, natsServerBin } from '@berth/service-kit/testing';
import { authorizationBlock } from '../../packages/contracts/scripts/nats-config.js';

export interface AuthNats {
  server: ServerProcess;
  url: string;
  /** Each service user's password (set in this process's environment for nats-server to resolve). */
  passwords: Record<ServiceName, string>;
}

/** A real nats-server with the generated service users and the given subscribers, as scripts/up runs it. */
export async function startNatsWithUsers(subscribers: readonly NatsSubscriber[]): Promise<AuthNats> {
  const passwords = Object.fromEntries(natsServices().map((s) => [s, `s${randomBytes(12).toString('hex')}`])) as Record<ServiceName, string>;
  const env = Object.fromEntries(natsServices().map((s) => [natsPasswordVar(s), passwords[s]]));
  Object.assign(process.env, env);
  const auth = authorizationBlock(subscribers);
  const server = await ServerProcess.start(natsServerBin(), (port, dir) => {
    writeFileSync(join(dir, 'nats.conf'), `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${dir}" }\n${auth}`);
    return ['-c', join(dir, 'nats.conf')];
  });
  return { server, url: `nats://127.0.0.1:${server.port}`, passwords };
}

/** A bcrypt hash (cost 10) of TEST_SUBSCRIBER_PASSWORD: a test-only credential, as an operator would write it. */
export const TEST_SUBSCRIBER_PASSWORD = 'test-only-subscriber-password';
export const TEST_SUBSCRIBER_HASH = '$2b$10$rCerlh8D118cizD3uacXJef7gRMQMGBBh6ntBUzD7.3N9kTdmPxh.';
