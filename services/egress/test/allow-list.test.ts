import { describe, expect, it } from 'vitest';
import { AllowList, entryForUrl, parseAllowList } from '../src/proxy/allow-list.js';

describe('proxy allow-list', () => {
  const allow = new AllowList([
    ...parseAllowList('github.com, registry.npmjs.org:8443, *.githubusercontent.com, 127.0.0.1:4567, [::1]:99'),
    entryForUrl('http://fake-gh.test:8081'),
  ]);

  it('a bare host means ports 80 and 443', () => {
    expect(allow.allows('github.com', 443)).toBe(true);
    expect(allow.allows('GitHub.com.', 80)).toBe(true);
    expect(allow.allows('github.com', 22)).toBe(false);
    expect(allow.allows('api.github.com', 443)).toBe(false);
    expect(allow.allows('evilgithub.com', 443)).toBe(false);
  });

  it('host:port means that port only', () => {
    expect(allow.allows('registry.npmjs.org', 8443)).toBe(true);
    expect(allow.allows('registry.npmjs.org', 443)).toBe(false);
    expect(allow.allows('127.0.0.1', 4567)).toBe(true);
    expect(allow.allows('127.0.0.1', 4568)).toBe(false);
    expect(allow.allows('::1', 99)).toBe(true);
  });

  it('*.domain means subdomains, not the domain itself', () => {
    expect(allow.allows('objects.githubusercontent.com', 443)).toBe(true);
    expect(allow.allows('a.b.githubusercontent.com', 443)).toBe(true);
    expect(allow.allows('githubusercontent.com', 443)).toBe(false);
    expect(allow.allows('githubusercontent.com.evil.com', 443)).toBe(false);
  });

  it('GITHUB_URL adds its host and port', () => {
    expect(allow.allows('fake-gh.test', 8081)).toBe(true);
    expect(allow.allows('fake-gh.test', 443)).toBe(false);
    expect(entryForUrl('https://github.com')).toEqual({ host: 'github.com', port: 443, wildcard: false });
  });

  it('names the bad entry', () => {
    expect(() => parseAllowList('github.com, http://x.com')).toThrow(/http:\/\/x.com/);
    expect(() => parseAllowList('a.com:0')).toThrow(/port/);
    expect(() => parseAllowList('a b.com')).toThrow(/a b.com/);
  });
});
