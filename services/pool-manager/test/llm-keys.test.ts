import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError, LLM_KEY_PATTERN, type LlmKeyRegisterRequest, type RequestOf } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import { beforeEach, describe, expect, it } from 'vitest';
import type { LlmEgress } from '../src/llm/egress-client.js';
import { llmKeyHash } from '@berth/service-kit';
import { readKeyFile } from '../src/llm/key-file.js';
import { memoryKeyStore, type KeyStore } from '../src/llm/key-store.js';
import { LlmKeys } from '../src/llm/llm-keys.js';
import type { WorkspaceRecord } from '../src/state/workspace-record.js';

const URL = 'http://egress:3128';
const WS = { id: 'ws_00000000000000a1', owner: 'alice' };

/** Records what egress was asked; `down` makes every request fail as NATS does without responders. */
class FakeEgress implements LlmEgress {
  registered: LlmKeyRegisterRequest[] = [];
  revoked: string[] = [];
  synced: RequestOf<'llmKeySync'>[] = [];
  down = false;
  private check() {
    if (this.down) throw new BerthError('SERVICE_UNAVAILABLE', 'no service is answering', { retryAfterSeconds: 1 });
  }
  async register(req: LlmKeyRegisterRequest) {
    await Promise.resolve();
    this.check();
    this.registered.push(req);
  }
  async revoke(id: string) {
    await Promise.resolve();
    this.check();
    this.revoked.push(id);
  }
  async sync(req: RequestOf<'llmKeySync'>) {
    await Promise.resolve();
    this.check();
    this.synced.push(req);
  }
}

class FakeStore {
  limits = new Map<string, string>();
  records: Partial<WorkspaceRecord>[] = [];
  all() {
    return Promise.resolve(this.records as WorkspaceRecord[]);
  }
  setLlmLimits(id: string, json: string) {
    this.limits.set(id, json);
    return Promise.resolve();
  }
  llmLimits(id: string) {
    return Promise.resolve(this.limits.get(id) ?? null);
  }
}

const logged: string[] = [];
const logger = {
  warn: (...args: unknown[]) => {
    logged.push(JSON.stringify(args));
  },
} as unknown as Logger;

let egress: FakeEgress;
let store: FakeStore;
let keys: KeyStore;
let llm: LlmKeys;
beforeEach(() => {
  egress = new FakeEgress();
  store = new FakeStore();
  keys = memoryKeyStore();
  llm = new LlmKeys(keys, egress, store, { egressUrl: URL, hostId: 'h1' }, logger);
  logged.length = 0;
});

describe('LlmKeys', () => {
  it('mints a key at claim, registers only its hash with owner, host and limits, and hands it to commands', async () => {
    await llm.activate(WS, { requestsPerMinute: 5 });
    const key = await keys.read(WS.id);
    expect(key).toMatch(LLM_KEY_PATTERN);
    expect(egress.registered).toEqual([{ workspaceId: WS.id, owner: 'alice', hostId: 'h1', keyHash: llmKeyHash(key!), limits: { requestsPerMinute: 5 } }]);
    expect(JSON.stringify(egress.registered)).not.toContain(key);
    expect(await llm.env(WS.id)).toMatchObject({ OPENAI_API_KEY: key, ANTHROPIC_API_KEY: key, OPENAI_BASE_URL: `${URL}/llm/openai/v1` });
    expect(JSON.parse(store.limits.get(WS.id)!)).toEqual({ requestsPerMinute: 5 });
  });

  it('a key prepared when the workspace was made is the one registered at claim, and is not registered before', async () => {
    await llm.prepare(WS.id);
    const prepared = await keys.read(WS.id);
    expect(prepared).toMatch(LLM_KEY_PATTERN);
    expect(egress.registered).toHaveLength(0);
    await llm.activate(WS);
    expect(await keys.read(WS.id)).toBe(prepared);
    expect(egress.registered.map((r) => r.keyHash)).toEqual([llmKeyHash(prepared!)]);
  });

  it('after a restart (nothing remembered) the claim registers the prepared key read back from the store', async () => {
    await llm.prepare(WS.id);
    const prepared = await keys.read(WS.id);
    const restarted = new LlmKeys(keys, egress, store, { egressUrl: URL, hostId: 'h1' }, logger);
    await restarted.activate(WS);
    expect(await keys.read(WS.id)).toBe(prepared);
    expect(egress.registered.map((r) => r.keyHash)).toEqual([llmKeyHash(prepared!)]);
  });

  it('egress silent at claim: the claim still gets its key, the warning never holds the key', async () => {
    egress.down = true;
    await llm.activate(WS);
    const key = await keys.read(WS.id);
    expect(key).toMatch(LLM_KEY_PATTERN);
    expect(logged.join()).toContain('reconcile will');
    expect(logged.join()).not.toContain(key);
    expect(logged.join()).not.toContain(llmKeyHash(key!));
  });

  it('revoke removes the key from new commands and tells egress; idempotent', async () => {
    await llm.activate(WS);
    await llm.revoke(WS.id);
    await llm.revoke(WS.id);
    expect(await llm.env(WS.id)).toEqual({});
    expect(egress.revoked).toEqual([WS.id, WS.id]);
  });

  it('revoke that egress does not confirm is 503, the key already gone from the workspace', async () => {
    await llm.activate(WS);
    egress.down = true;
    await expect(llm.revoke(WS.id)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 2 });
    expect(await llm.env(WS.id)).toEqual({});
  });

  it('rotate gives a new key registered with the limits set at claim', async () => {
    await llm.activate(WS, { tokensPerDay: 1000 });
    const old = await keys.read(WS.id);
    await llm.rotate(WS);
    const next = await keys.read(WS.id);
    expect(next).toMatch(LLM_KEY_PATTERN);
    expect(next).not.toBe(old);
    expect(egress.registered[1]).toEqual({ workspaceId: WS.id, owner: 'alice', hostId: 'h1', keyHash: llmKeyHash(next!), limits: { tokensPerDay: 1000 } });
  });

  it('rotate with egress down is 503 and changes nothing', async () => {
    await llm.activate(WS);
    const old = await keys.read(WS.id);
    egress.down = true;
    await expect(llm.rotate(WS)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 2 });
    expect(await keys.read(WS.id)).toBe(old);
  });

  it('rotate with the file store leaves no temp file behind when egress refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-keys-'));
    try {
      const { fileKeyStore } = await import('../src/llm/key-store.js');
      const agents = { dir: () => dir } as never;
      const fileLlm = new LlmKeys(fileKeyStore(agents), egress, store, { egressUrl: URL, hostId: 'h1' }, logger);
      await fileLlm.activate(WS);
      const old = await readKeyFile(dir);
      egress.down = true;
      await expect(fileLlm.rotate(WS)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(await readKeyFile(dir)).toBe(old);
      const { readdirSync } = await import('node:fs');
      expect(readdirSync(dir)).toEqual(['llm-key']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("forget on removal drops the key; only a claimed workspace's (registered) key is revoked at egress", async () => {
    await llm.activate(WS);
    await llm.prepare('ws_00000000000000c3');
    await llm.forget(WS.id, true);
    await llm.forget('ws_00000000000000c3', false);
    await new Promise((r) => setImmediate(r));
    expect(await keys.read(WS.id)).toBeUndefined();
    expect(await keys.read('ws_00000000000000c3')).toBeUndefined();
    expect(egress.revoked).toEqual([WS.id]);
  });

  it('sync lists the claimed workspaces that have a key, by hash, with the time the list was taken', async () => {
    const other = { id: 'ws_00000000000000b2', owner: 'bob' };
    await llm.activate(WS);
    await llm.activate(other);
    await llm.revoke(other.id);
    store.records = [
      { ...WS, state: 'claimed' },
      { ...other, state: 'claimed' },
      { id: 'ws_00000000000000c3', owner: '', state: 'warm' },
    ];
    const before = Date.now();
    await llm.sync();
    expect(egress.synced).toHaveLength(1);
    const sync = egress.synced[0]!;
    expect(sync.hostId).toBe('h1');
    expect(sync.asOf).toBeGreaterThanOrEqual(before);
    expect(sync.keys).toEqual([{ workspaceId: WS.id, owner: 'alice', keyHash: llmKeyHash((await keys.read(WS.id))!) }]);
  });

  it('off (no key store): no key, no env, no egress calls; rotate is refused', async () => {
    const off = new LlmKeys(undefined, egress, store, { egressUrl: '', hostId: 'h1' }, logger);
    await off.activate(WS);
    await off.sync();
    await off.revoke(WS.id);
    expect(await off.env(WS.id)).toEqual({});
    await expect(off.rotate(WS)).rejects.toMatchObject({ code: 'LLM_KEYS_DISABLED' });
    expect([...egress.registered, ...egress.revoked, ...egress.synced]).toHaveLength(0);
  });
});
