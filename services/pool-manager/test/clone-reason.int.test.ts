import { BerthError, type CloneFailureReason } from '@berth/contracts';
import { connectNats, createLogger, drainNats, serve, type NatsConnection } from '@berth/service-kit';
import { startNatsServer } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clonePhase } from '../src/setup/clone-phase.js';
import { PhaseClock, PhaseFailure } from '../src/setup/phase-failure.js';
import type { SetupDeps, SetupRun } from '../src/setup/setup-context.js';

// repo-cache's classified failure reaches the setup's error as `reason` (real NATS, a stand-in repo-cache).
describe('a failed clone says why', () => {
  let nats: Awaited<ReturnType<typeof startNatsServer>>;
  let nc: NatsConnection;
  let answer: BerthError;
  const logger = createLogger('test', 'silent');

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connectNats({ url: nats.url, name: 'clone-reason', logger });
    serve(
      nc,
      'repoSync',
      () => {
        throw answer;
      },
      logger,
    );
  });
  afterAll(async () => {
    await drainNats(nc);
    await nats?.dispose();
  });

  const run: SetupRun = {
    id: 'ws_0123456789abcdef',
    owner: 'o',
    volume: 'v',
    port: 3000,
    secrets: ['ghp_secret0123456789'],
    body: {
      repo: 'acme/app',
      branch: 'main',
      githubToken: 'ghp_secret0123456789',
      hasMainImage: false,
      buildMainImage: false,
      envVars: {},
    } as SetupRun['body'],
  };

  it.each<[CloneFailureReason | undefined, BerthError]>([
    ['REPO_AUTH_FAILED', new BerthError('REPO_AUTH_FAILED', 'upstream refused the token for acme/app')],
    ['REPO_NOT_FOUND', new BerthError('REPO_NOT_FOUND', 'repository acme/app was not found upstream')],
    ['BRANCH_NOT_FOUND', new BerthError('BRANCH_NOT_FOUND', 'branch "main" does not exist in acme/app')],
    ['REPO_HOST_NOT_ALLOWED', new BerthError('REPO_HOST_NOT_ALLOWED', 'egress does not allow the repository host of acme/app')],
    ['UPSTREAM_UNAVAILABLE', new BerthError('UPSTREAM_UNAVAILABLE', 'fetching acme/app failed', { retryAfterSeconds: 5 })],
    [undefined, new BerthError('INTERNAL', 'something else')],
  ])('%s', async (reason, err) => {
    answer = err;
    const d = { nc, config: { NODE_MODULES_SEED: false }, logger } as unknown as SetupDeps;
    const failure = await clonePhase(d, run, new PhaseClock('cloning', 10_000), { mode: 'clone', installKey: '' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PhaseFailure);
    expect(failure).toMatchObject({ code: 'CLONE_FAILED', reason });
    expect((failure as PhaseFailure).message).toContain(err.code);
  });
});
