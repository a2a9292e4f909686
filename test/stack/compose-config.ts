import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { natsPasswordVar, natsServices } from '@berth/contracts';
import { nodeImage, repoRoot } from '@berth/service-kit/testing';
import { parse } from 'yaml';

const run = promisify(execFile);

/** The secrets both compose files require (`${VAR:?}`), as placeholders: rendering needs them set, not real. */
const SECRETS = [
  'BERTH_API_TOKEN',
  'NATS_ROUTE_PASSWORD',
  'REDIS_PASSWORD_POOL_MANAGER',
  'REDIS_PASSWORD_REPO_CACHE',
  'REDIS_PASSWORD_EGRESS',
  'EGRESS_SECRET_KEY',
  'WORKSPACE_NAME_KEY',
  ...natsServices().map(natsPasswordVar),
];

/** The placeholder `renderCompose` gives secret `name`. */
export const placeholderSecret = (name: string): string => `s${String(SECRETS.indexOf(name)).padStart(47, '0')}`;

/**
 * `files` as compose renders them (`config`, which validates them too), from the repository root,
 * with what `scripts/stack` would give compose (the secrets, NODE_IMAGE from .node-version) and `env`
 * over it. docker-compose v1 where installed, else `docker compose`.
 */
export async function renderCompose(project: string, files: string[], env: Record<string, string> = {}): Promise<unknown> {
  const given = {
    ...Object.fromEntries(SECRETS.map((s) => [s, placeholderSecret(s)])),
    NODE_IMAGE: nodeImage(),
    ...env,
  };
  const bin = await run('docker-compose', ['version']).then(
    () => ['docker-compose'],
    () => ['docker', 'compose'],
  );
  const { stdout } = await run(bin[0]!, [...bin.slice(1), '-p', project, ...files.flatMap((f) => ['-f', f]), '--project-directory', '.', 'config'], {
    cwd: repoRoot(),
    env: { ...process.env, ...given },
  });
  return parse(stdout);
}
