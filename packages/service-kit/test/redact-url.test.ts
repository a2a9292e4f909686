import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl, requestSerializer } from '../src/index.js';

const S = 'canary-s3cr3t-0123456789';

describe('redactUrl', () => {
  it.each([
    ['token'],
    ['ticket'],
    ['key'],
    ['secret'],
    ['signature'],
    ['access_token'],
    ['api_key'],
    ['apiKey'],
    ['X-Amz-Signature'],
    ['sig'],
    ['password'],
    ['client_secret'],
    ['%74oken'],
    ['TOKEN'],
    ['auth'],
  ])('redacts the value of ?%s=', (name) => {
    const out = redactUrl(`/api/containers/ws_1/terminal?a=1&${name}=${S}&b=2`);
    expect(out).not.toContain(S);
    expect(out).toBe(`/api/containers/ws_1/terminal?a=1&${name}=[redacted]&b=2`);
  });

  it('keeps every other parameter and the path as they were spelled', () => {
    expect(redactUrl('/api/containers?state=claimed&limit=10&x=%2F')).toBe('/api/containers?state=claimed&limit=10&x=%2F');
    expect(redactUrl('/api/pools')).toBe('/api/pools');
  });

  it('redacts a credential repeated, after ;, without a leading parameter, and drops a fragment', () => {
    const out = redactUrl(`/x?token=${S}&token=${S};ticket=${S}#frag-${S}`);
    expect(out).toBe('/x?token=[redacted]&token=[redacted];ticket=[redacted]');
  });

  it('redacts user:password in an absolute URL', () => {
    expect(redactUrl(`https://user:${S}@github.com/acme/app.git?ref=main`)).toBe('https://[redacted]@github.com/acme/app.git?ref=main');
    expect(redactUrl('http://example.com/a@b')).toBe('http://example.com/a@b');
  });

  it("redacts a preview share link's secret in the path, however the separators are spelled", () => {
    expect(redactUrl(`/preview/s/${S}/index.html?x=1`)).toBe('/preview/s/[redacted]/index.html?x=1');
    expect(redactUrl(`https://berth.example.com/preview/s/${S}`)).toBe('https://berth.example.com/preview/s/[redacted]');
    expect(redactUrl(`/preview%2Fs%2f${S}/a`)).not.toContain(S);
    expect(redactUrl(`/PREVIEW/%73/${S}/a`)).not.toContain(S);
    expect(redactUrl('/api/containers/ws_1/preview/3000/s/x')).toBe('/api/containers/ws_1/preview/3000/s/x');
  });

  it('survives a malformed escape in a name', () => {
    expect(redactUrl(`/x?%E0%A4%A=1&token%=${S}`)).not.toContain(S);
  });
});

describe('request logging', () => {
  it('a logged req or url carries no credential from its query string', () => {
    const lines: string[] = [];
    const base = createLogger('t', 'info', {
      write: (l: string) => {
        lines.push(l);
      },
    });
    const logger = base.child({}, { serializers: { req: requestSerializer } });
    logger.info({ req: { method: 'GET', url: `/api/x?ticket=${S}`, headers: {} } }, 'incoming request');
    logger.info({ url: `http://127.0.0.1/llm?key=${S}` }, 'proxy');
    const out = lines.join('');
    expect(out).not.toContain(S);
    expect(out).toContain('"url":"/api/x?ticket=[redacted]"');
  });
});
