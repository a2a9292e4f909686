import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentListener } from '../src/agent/agent-listener.js';
import type { AgentRegistry } from '../src/agent/agent-registry.js';
import type { OutputChunk } from '../src/driver/exec-process.js';
import { FileChannel } from '../src/files/file-channel.js';

// The real agent (docker/agent) on a temp socket, its file operations through pool-manager's
// FileChannel: what a transfer and a list cost in frames and copies on the way.
const AGENT = resolve(import.meta.dirname, '../../../docker/agent/berth-agent.mjs');
let dir: string;
let listener: AgentListener;
let agent: ChildProcess;
const agents = { take: (_id: string, waitMs: number) => listener.take(waitMs) } as unknown as AgentRegistry;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-agent-files-'));
  listener = new AgentListener(join(dir, 'agent.sock'));
  await listener.listen();
  agent = spawn(process.execPath, [AGENT, '--socket', join(dir, 'agent.sock')], { stdio: 'inherit' });
  if (!(await listener.waitIdle(10_000))) throw new Error('agent did not connect');
});

afterAll(() => {
  agent?.kill('SIGTERM');
  listener?.close();
  rmSync(dir, { recursive: true, force: true });
});

const open = (request: Record<string, unknown>) => FileChannel.open(agents, 'ws', request, String(request.path));

describe('file operations through the agent', () => {
  it('downloads in 512 kB frames, each as it was read (not copied into a frame again on either side)', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 123);
    writeFileSync(join(dir, 'down.bin'), data);
    const concat = vi.spyOn(Buffer, 'concat');
    const ch = await open({ op: 'read', path: join(dir, 'down.bin') });
    try {
      await ch.expect('meta');
      const chunks: Buffer[] = [];
      for await (const c of ch.conn.decoder as AsyncIterable<OutputChunk>) chunks.push(c.data);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
      expect(chunks.slice(0, -1).every((c) => c.length === 512 * 1024)).toBe(true);
      // Each frame arrives in many socket reads: joined once per frame, not once per read.
      expect(concat.mock.calls.length).toBeLessThanOrEqual(2 * chunks.length);
    } finally {
      concat.mockRestore();
      ch.close();
    }
  });

  it('writes an upload byte for byte, its chunks not copied into frames, and renames it into place', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 7);
    const ch = await open({ op: 'write', path: join(dir, 'up/nested/up.bin'), maxBytes: 16 * 1024 * 1024 });
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      await ch.expect('ready');
      for (let i = 0; i < data.length; i += 512 * 1024) await ch.write(data.subarray(i, i + 512 * 1024));
      expect(concat).not.toHaveBeenCalled();
      ch.send({ type: 'eof' });
      const result = await ch.expect('result');
      expect(result.entry).toMatchObject({ type: 'file', size: data.length });
      expect(readFileSync(join(dir, 'up/nested/up.bin')).equals(data)).toBe(true);
    } finally {
      concat.mockRestore();
      ch.close();
    }
  });

  it('lists 1,000 entries in one message, sorted, with what each is', async () => {
    const many = join(dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < 1000; i++) writeFileSync(join(many, `f${String(i).padStart(4, '0')}`), 'x'.repeat(i % 7));
    const ch = await open({ op: 'list', path: many, maxEntries: 5000 });
    try {
      const msg = await ch.expect('entries');
      const entries = msg.entries as { name: string; size: number; type: string; mtime: string }[];
      expect(entries).toHaveLength(1000);
      expect(entries.map((e) => e.name)).toEqual([...entries.map((e) => e.name)].sort());
      expect(entries[3]).toMatchObject({ path: 'f0003', name: 'f0003', type: 'file', size: 3, mode: 0o644 });
      expect(new Date(entries[3]!.mtime).toISOString()).toBe(entries[3]!.mtime);
      expect(await ch.expect('result')).toEqual({ type: 'result', truncated: false });
    } finally {
      ch.close();
    }
  });

  it('splits a list of long, escaped names into messages far below the frame limit', async () => {
    const odd = join(dir, 'odd');
    mkdirSync(odd);
    // Control characters: six bytes of JSON each.
    const names = Array.from({ length: 600 }, (_, i) => `${String(i).padStart(3, '0')}${'\u0001'.repeat(240)}`);
    for (const n of names) writeFileSync(join(odd, n), '');
    const ch = await open({ op: 'list', path: odd, maxEntries: 5000 });
    try {
      let got = 0;
      for (;;) {
        const msg = await ch.next();
        if (msg.type === 'result') break;
        const list = (msg as { entries: unknown[] }).entries;
        expect(JSON.stringify(msg).length).toBeLessThan(512 * 1024);
        got += list.length;
      }
      expect(got).toBe(600);
    } finally {
      ch.close();
    }
  });
});
