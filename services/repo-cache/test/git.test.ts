import { describe, expect, it } from 'vitest';
import { authHeader, gitEnv, runGit, scrub } from '../src/git.js';

const TOKEN = 'ghp_unitTokenABCDEFGHIJKLMNOP';

describe('git runner', () => {
  it('puts the token only in a GIT_CONFIG_* header pair, with prompts and credential helpers off', () => {
    const env = gitEnv({ token: TOKEN, proxy: 'http://127.0.0.1:3128' });
    expect(env).toMatchObject({
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_0: 'credential.helper',
      GIT_CONFIG_VALUE_0: '',
      GIT_CONFIG_KEY_1: 'http.proxy',
      GIT_CONFIG_VALUE_1: 'http://127.0.0.1:3128',
      GIT_CONFIG_KEY_2: 'http.extraHeader',
      GIT_CONFIG_VALUE_2: authHeader(TOKEN),
    });
    expect(Buffer.from(authHeader(TOKEN).split(' ')[2] ?? '', 'base64').toString()).toBe(`x-access-token:${TOKEN}`);
    expect(gitEnv({})).toMatchObject({ GIT_CONFIG_COUNT: '1' });
    expect(gitEnv({}).GIT_DIR).toBeUndefined();
    expect(gitEnv({ gitDir: '/m/a/b.git' }).GIT_DIR).toBe('/m/a/b.git');
    expect(gitEnv({}).GIT_CONFIG_VALUE_1).toBeUndefined();
  });

  it('does not inherit the parent environment (no stray GIT_* or secrets)', () => {
    process.env.BERTH_TEST_SECRET = 'inherited';
    try {
      expect(Object.values(gitEnv({}))).not.toContain('inherited');
    } finally {
      delete process.env.BERTH_TEST_SECRET;
    }
  });

  it('scrubs the token, its Basic credential and base64 from text', () => {
    const b64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    const out = scrub(`fatal: ${TOKEN} / ${b64} / ${Buffer.from(TOKEN).toString('base64')}`, TOKEN);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(b64);
    expect(out).toBe('fatal: [redacted] / [redacted] / [redacted]');
    expect(scrub('nothing', undefined)).toBe('nothing');
  });

  it('with gitDir, git never falls back to a repository found in a parent directory', async () => {
    const r = await runGit(['rev-parse', '--git-dir'], { gitDir: '/nonexistent/x.git', cwd: process.cwd() });
    expect(r.code).not.toBe(0);
    expect((await runGit(['rev-parse', '--git-dir'], { cwd: process.cwd() })).code).toBe(0); // cwd alone is inside berth's checkout
  });

  it('git sees the header config from the environment, and stderr comes back scrubbed', async () => {
    const r = await runGit(['config', '--get', 'http.extraHeader'], { token: TOKEN, cwd: '/' });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(authHeader(TOKEN));
    const bad = await runGit(['rev-parse', '--verify', TOKEN], { token: TOKEN, cwd: '/' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).not.toContain(TOKEN);
  });
});
