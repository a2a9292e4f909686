import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLM_KEY_PATTERN, SUBJECTS } from '@berth/contracts';
import { bindHost, request, type NatsConnection } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientNats, removeAllOf, startInfra, startInProcess, testHostEnv, WORKSPACE_IMAGE, type Infra, type RunningPoolManager } from './harness.js';
import { newRequestId, waitForWarm } from './helpers.js';

const OWNER = 'llm-recreate';

describe('a workspace recreated from an image (main images) keeps its LLM key', () => {
  let infra: Infra;
  let pm: RunningPoolManager;
  let nc: NatsConnection & { close(): Promise<void> };
  let agentRoot: string;
  const seen: { subject: string; data: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    infra = await startInfra();
    nc = await clientNats(infra);
    // egress's side, played on the real NATS: records and answers.
    for (const [subject, reply] of [
      [SUBJECTS.llmKeyRegister.subject, { registered: true }],
      [SUBJECTS.llmKeyRevoke.subject, { revoked: true }],
    ] as const) {
      nc.subscribe(subject, {
        callback: (_err, msg) => {
          seen.push({ subject, data: msg.json() });
          msg.respond(JSON.stringify(reply));
        },
      });
    }
    agentRoot = mkdtempSync(join(tmpdir(), 'berth-llm-recreate-'));
    pm = await startInProcess(
      infra,
      testHostEnv({
        POOLS: JSON.stringify([{ name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]),
        AGENT_SOCKET_DIR: agentRoot,
        LLM_EGRESS_URL: 'http://egress.test:3128',
      }),
    );
    bindHost(nc, pm.config.BERTH_HOST_ID);
    await waitForWarm(nc, 1, 60_000);
  });

  afterAll(async () => {
    await nc?.close();
    await pm?.stop();
    if (pm) await removeAllOf(pm.config.BERTH_HOST_ID);
    await infra?.dispose();
    rmSync(agentRoot, { recursive: true, force: true });
  });

  const keyOf = async (id: string) =>
    (await request(nc, 'containerExec', { id, owner: OWNER, command: 'printf %s "$OPENAI_API_KEY"', timeoutMs: 10_000 }, { timeoutMs: 20_000 })).stdout;

  it('same key in the new container, nothing revoked or registered again', async () => {
    const ws = await request(nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER }, { timeoutMs: 60_000 });
    const before = await keyOf(ws.id);
    expect(before).toMatch(LLM_KEY_PATTERN);
    const messages = seen.length;
    const oldRef = (await pm.store.get(ws.id))?.ref;
    await pm.lifecycle.recreateFrom(ws.id, OWNER, WORKSPACE_IMAGE);
    expect((await pm.store.get(ws.id))?.ref).not.toBe(oldRef);
    expect(await keyOf(ws.id)).toBe(before);
    expect(seen.slice(messages)).toEqual([]);
  });
});
