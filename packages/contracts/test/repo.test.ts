import { describe, expect, it } from 'vitest';
import { BranchNameSchema, CallbackSecretSchema, RepoNameSchema, SetupBodySchema } from '../src/index.js';

describe('repo and branch names', () => {
  it.each(['main', 'feature/login', 'release-1.2', 'a', 'user/ünïcode', 'fix_#12'])('accepts branch %s', (b) => {
    expect(BranchNameSchema.safeParse(b).success).toBe(true);
  });
  it.each([
    '-rf',
    '--upload-pack=touch /tmp/x',
    'a..b',
    'a b',
    'x;rm -rf /',
    '$(id)',
    '`id`',
    'a~1',
    'a^',
    'a:b',
    'x?',
    'x*',
    'x[',
    'a\\b',
    'a.lock',
    '/a',
    'a/',
    'a//b',
    '.hidden',
    'a/.b',
    'a.',
    '@',
    'a@{1}',
    'tab\tx',
    'nl\nx',
    '',
  ])('refuses branch %j', (b) => {
    expect(BranchNameSchema.safeParse(b).success).toBe(false);
  });
  // A right-to-left override, isolates, marks, zero-width and C1 controls, non-ASCII spaces.
  it.each(['main\u202Egnp.exe', 'a\u2066b\u2069', 'a\u200Fb', 'a\u200Bb', 'a\uFEFFb', 'a\u0085b', 'a\u009Bb', 'a\u00A0b', 'a\u2028b', 'a\u3000b'])(
    'refuses branch %j with a bidi, format or control character',
    (b) => {
      expect(BranchNameSchema.safeParse(b).success).toBe(false);
      expect(SetupBodySchema.safeParse({ repo: 'acme/web', branch: b }).success).toBe(false);
    },
  );
  it.each(['acme/we\u202Eb', 'ac\u200Bme/web', 'acme/web\u0000', 'acme/web\n', 'acme/w\u00E9b'])(
    'refuses repo %j with a non-ASCII or control character',
    (r) => {
      expect(RepoNameSchema.safeParse(r).success).toBe(false);
      expect(SetupBodySchema.safeParse({ repo: r, branch: 'main' }).success).toBe(false);
    },
  );
  it.each(['acme/web', 'a/b', 'Some-Org/repo.name_x'])('accepts repo %s', (r) => {
    expect(RepoNameSchema.safeParse(r).success).toBe(true);
  });
  it.each(['acme', 'acme/web/x', '../etc', 'acme/..', '-x/y', 'acme/.git', 'acme/web.git', 'a b/c', 'acme/web;id', 'https://github.com/a/b'])(
    'refuses repo %j',
    (r) => {
      expect(RepoNameSchema.safeParse(r).success).toBe(false);
    },
  );
  it('wants callbackUrl and callbackSecret together', () => {
    expect(SetupBodySchema.safeParse({ repo: 'a/b', branch: 'main', callbackUrl: 'https://x.example/cb' }).success).toBe(false);
    expect(SetupBodySchema.safeParse({ repo: 'a/b', branch: 'main', callbackUrl: 'https://x.example/cb', callbackSecret: 's'.repeat(16) }).success).toBe(true);
  });

  const whsec = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;
  it.each(['secret123', 'eight ch', 'clé-secrète', 's'.repeat(256), whsec(24), whsec(32), whsec(64)])('accepts callbackSecret %j', (s) => {
    expect(CallbackSecretSchema.safeParse(s).success).toBe(true);
    expect(SetupBodySchema.safeParse({ repo: 'a/b', branch: 'main', callbackUrl: 'https://x.example/cb', callbackSecret: s }).success).toBe(true);
  });
  it.each(['', 'short', 's'.repeat(257), whsec(16), whsec(65), 'whsec_not base64!', `${whsec(32)}x`, 'whsec_'])('refuses callbackSecret %j', (s) => {
    expect(CallbackSecretSchema.safeParse(s).success).toBe(false);
  });
});
