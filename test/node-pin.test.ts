import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_MAJOR, repoRoot } from '@berth/service-kit/testing';
import { describe, expect, it } from 'vitest';

// berth's Node major is pinned in one place, .node-version: the scripts derive the install prefix
// and the image names from it (scripts/lib/node.sh), the tests from @berth/service-kit/testing's
// nodeImage(). Any other file naming a major of berth's own Node (an image tag, a prefix, an npm
// install, a version check, the types, the docs) must name that one, so moving the pin moves all.

const root = repoRoot();
/** Measurements of the past keep the Node they ran on; the lockfile resolves what package.json asks. */
const HISTORY = [/^bench\/results\//, /^bench\/RESULTS\.md$/, /^pnpm-lock\.yaml$/, /^test\/node-pin\.test\.ts$/];

/** Ways berth's files name its Node's major (group 1). Foreign images (node:NN-slim) are not berth's Node. */
const MENTIONS: [string, RegExp][] = [
  ['berth Node image', /\bberth\/(?:node|runtime|runtime-git):(\d+)\b/g],
  ['install prefix', /\/opt\/node(\d+)\b/g],
  ['npm install spec', /(?<![\w/.-])node@(\d+)\b/g],
  ['version glob', /\bv(\d+)\.\*/g],
  ['Node version', /\bv(\d{2})\.\d+\.\d+\b/g],
  ['@types/node range', /"@types\/node":\s*"[\^~>=]*(\d+)/g],
  // "Node 24", not a floor ("Node 22.18 or later", "Node 22+"): those stay true when the pin moves.
  ['prose', /\bNode(?:\.js)? (\d+)\b(?![.+\d]|\+| or (?:later|newer))/g],
];

function files(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  return out
    .split('\0')
    .filter(Boolean)
    .filter((f) => !HISTORY.some((h) => h.test(f)));
}

function read(file: string): string | undefined {
  try {
    const text = readFileSync(join(root, file), 'utf8');
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined; // listed but deleted in the work tree
  }
}

describe('the Node pin (.node-version)', () => {
  it('is one major', () => {
    expect(NODE_MAJOR).toMatch(/^\d+$/);
  });

  it('is the only major of berth`s Node any file names', () => {
    const wrong: string[] = [];
    let seen = 0;
    for (const file of files()) {
      const text = read(file);
      if (text === undefined) continue;
      for (const [kind, re] of MENTIONS) {
        for (const m of text.matchAll(re)) {
          seen++;
          if (m[1] !== NODE_MAJOR) {
            const line = text.slice(0, m.index).split('\n').length;
            wrong.push(`${file}:${line}: ${kind} '${m[0]}'`);
          }
        }
      }
    }
    expect(wrong, `these name another Node major than .node-version's ${NODE_MAJOR}`).toEqual([]);
    expect(seen).toBeGreaterThan(0);
  });

  it('is the engine the root package.json asks for', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } };
    expect(pkg.engines?.node).toBe(`>=${NODE_MAJOR}`);
  });

  it('moves the scripts` prefix and image names when it changes (scripts/lib/node.sh)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-node-pin-'));
    try {
      writeFileSync(join(dir, '.node-version'), '99\n');
      const lib = join(root, 'scripts/lib/node.sh');
      const script = `. "${lib}" && echo "$BERTH_NODE_PREFIX $BERTH_NODE_IMAGE $BERTH_RUNTIME_IMAGE $BERTH_RUNTIME_GIT_IMAGE"`;
      const env = { PATH: process.env.PATH ?? '', BERTH_ROOT: dir };
      const out = execFileSync('bash', ['-c', script], { env, encoding: 'utf8' }).trim();
      expect(out).toBe('/opt/node99 berth/node:99 berth/runtime:99 berth/runtime-git:99');
      writeFileSync(join(dir, '.node-version'), 'lts\n');
      expect(() => execFileSync('bash', ['-c', script], { env, stdio: 'pipe' })).toThrow(/must hold a Node major/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
