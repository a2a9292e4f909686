import { describe, expect, it } from 'vitest';
import { BUILDS, ImageBuildRequestSchema, mainImageTag, RepoNameSchema, sameRepo } from '../src/index.js';

describe('mainImageTag', () => {
  it.each([
    ['acme/web', 'berth/acme-web:main'],
    ['Acme/Web.App', 'berth/acme-web.app:main'],
    ['a-b/c_d', 'berth/a-b-c_d:main'],
    ['o/x__y', 'berth/o-x__y:main'],
  ])('%s becomes %s', (repo, tag) => {
    expect(RepoNameSchema.safeParse(repo).success).toBe(true);
    expect(mainImageTag(repo)).toBe(tag);
  });

  // Valid GitHub-style names Docker cannot spell: refused, not mangled into another repo's tag.
  it.each(['acme/_x', 'acme/x-', 'acme/x_', 'acme/a._b', 'acme/a___b', 'acme/a.-b', 'acme', 'a/b/c'])('refuses %s', (repo) => {
    expect(mainImageTag(repo)).toBeUndefined();
  });

  it('compares repo labels case-insensitively and never matches a missing label', () => {
    expect(sameRepo('Acme/Web', 'acme/web')).toBe(true);
    expect(sameRepo('a-b/c', 'a/b-c')).toBe(false);
    expect(mainImageTag('a-b/c')).toBe(mainImageTag('a/b-c'));
    expect(sameRepo(undefined, 'acme/web')).toBe(false);
  });
});

describe('BUILDS', () => {
  it('addresses each host on its own subject under the stream, with its own durable', () => {
    expect(BUILDS.subject('h-1')).toBe('berth.build.image.h-1');
    expect(BUILDS.subject('h-1').split('.').length).toBe(BUILDS.pattern.split('.').length);
    expect(BUILDS.durable('h-1')).toBe('image-builder-h-1');
    expect(BUILDS.msgId({ id: 'ws_0123456789abcdef', sha: 'a'.repeat(40) })).toBe(`build-ws_0123456789abcdef-${'a'.repeat(40)}`);
    expect(BUILDS.schema).toBe(ImageBuildRequestSchema);
  });
});
