import { describe, expect, it } from 'vitest';
import { classify, failureError } from '../src/classify.js';

const r = (stderr: string, timedOut = false) => ({ code: 128, stdout: '', stderr, timedOut });

describe('classify', () => {
  it.each([
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", 'auth'],
    ["remote: Repository not found.\nfatal: repository 'https://github.com/a/b.git/' not found", 'not-found'],
    ["fatal: unable to access 'http://x/a/b.git/': The requested URL returned error: 403", 'auth'],
    ["remote: Invalid username or token.\nfatal: Authentication failed for 'http://x/a/b.git/'", 'auth'],
    [
      "remote: egress: 127.0.0.1:4000 is not on the allow-list\nfatal: unable to access 'http://127.0.0.1:4000/a/b.git/': The requested URL returned error: 403",
      'not-allowed',
    ],
    ["fatal: unable to access 'http://x/a/b.git/': The requested URL returned error: 503", 'upstream'],
    ["fatal: unable to access 'https://github.com/a/b.git/': Could not resolve host: github.com", 'upstream'],
    ["fatal: unable to access 'https://github.com/a/b.git/': Failed to connect to 127.0.0.1 port 3128: Connection refused", 'upstream'],
    ['fatal: unable to access: Received HTTP code 403 from proxy after CONNECT', 'not-allowed'],
    ['fatal: unable to access: Received HTTP code 502 from proxy after CONNECT', 'upstream'],
    ['error: RPC failed; curl 18 transfer closed\nfatal: early EOF', 'upstream'],
    ['fatal: bad object refs/heads/main', 'local'],
    ['fatal: not a git repository: .', 'local'],
  ])('%s → %s', (stderr, kind) => {
    expect(classify(r(stderr))).toBe(kind);
  });

  it('a timeout is upstream, and errors carry stable codes', () => {
    expect(classify(r('', true))).toBe('upstream');
    expect(failureError('not-found', 'a/b', r('x')).code).toBe('REPO_NOT_FOUND');
    expect(failureError('auth', 'a/b', r('x')).message).toContain('needs a token');
    expect(failureError('auth', 'a/b', r('x'), true).message).toContain('refused the token');
    expect(failureError('not-allowed', 'a/b', r('x'))).toMatchObject({ code: 'REPO_HOST_NOT_ALLOWED', retryable: false });
    const e = failureError('upstream', 'a/b', r('one\nfatal: the last line\n'));
    expect(e.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('fatal: the last line');
  });
});
