import { describe, expect, it } from 'vitest';
import { logTail, scrub } from '../src/setup/log-tail.js';
import { defaultInstallCommand, defaultStartCommand, detachedToContainerLog, seedVolumeName, taskResult } from '../src/setup/setup-commands.js';
import { mirrorHostPath } from '../src/setup/clone-phase.js';
import { TailBuffer } from '../src/driver/tail-buffer.js';

describe('setup commands', () => {
  it('picks the install command from the lockfile, none without one', () => {
    expect(defaultInstallCommand('package-lock.json')).toMatch(/^npm ci --prefer-offline/);
    expect(defaultInstallCommand('pnpm-lock.yaml')).toContain('pnpm install --frozen-lockfile');
    expect(defaultInstallCommand('yarn.lock')).toContain('yarn install --frozen-lockfile');
    expect(defaultInstallCommand(null)).toBeUndefined();
    expect(defaultStartCommand(true)).toBe('npm run dev');
    expect(defaultStartCommand(false)).toBeUndefined();
  });

  it('passes the start command as an argument, never inside the script', () => {
    const argv = detachedToContainerLog('echo "$(id)"; rm -rf /');
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv[2]).not.toContain('rm -rf');
    expect(argv.at(-1)).toBe('echo "$(id)"; rm -rf /');
  });

  it('names seed volumes per host, caller and repo, as a valid Docker volume name', () => {
    const a = seedVolumeName('h1', 'default', 'a-b/c');
    expect(a).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]+$/);
    expect(a).not.toBe(seedVolumeName('h1', 'default', 'a/b-c'));
    expect(a).not.toBe(seedVolumeName('h2', 'default', 'a-b/c'));
    expect(a).not.toBe(seedVolumeName('h1', 'other', 'a-b/c'));
  });

  it('reads the last BERTH_RESULT line of a task', () => {
    expect(taskResult('noise\nBERTH_RESULT {"a":1}\nBERTH_RESULT {"a":2}\ntrailer')).toEqual({ a: 2 });
    expect(taskResult('BERTH_RESULT {broken')).toBeUndefined();
    expect(taskResult('nothing')).toBeUndefined();
  });

  it('refuses mirror paths that leave the mirrors directory', () => {
    expect(mirrorHostPath('/m', 'acme/web.git')).toBe('/m/acme/web.git');
    for (const bad of ['../etc', 'acme/../../x', '/abs', 'a//b', 'a/./b', '']) expect(() => mirrorHostPath('/m', bad), bad).toThrow();
  });
});

describe('log tails', () => {
  it('replaces secrets and credential-shaped text, longest first', () => {
    const out = scrub('token abcd1234 and abcd1234567 at https://x-access-token:zzz@github.com/a/b ghp_0123456789abcdefghijklmn', ['abcd1234', 'abcd1234567']);
    expect(out).toBe('token *** and *** at https://***@github.com/a/b ***');
  });

  it('keeps the last lines within 8000 bytes, without terminal escapes', () => {
    const text = Array.from({ length: 500 }, (_, i) => `\u001b[31mline ${i} ${'x'.repeat(200)}`).join('\n');
    const tail = logTail(text, []);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(8000);
    expect(tail).toContain('line 499');
    expect(tail).not.toContain('line 400 ');
    expect(tail).not.toContain('\u001b');
  });

  it('TailBuffer keeps the last bytes written', () => {
    const t = new TailBuffer(10);
    for (const s of ['aaaa', 'bbbb', 'cccc', 'dd']) t.write(Buffer.from(s));
    expect(t.text()).toBe('bbbbccccdd');
    t.write(Buffer.from('e'.repeat(25)));
    expect(t.text()).toBe('e'.repeat(10));
  });
});
