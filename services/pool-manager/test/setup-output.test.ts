import { SETUP_APPEND_MAX_LINES, SETUP_LINE_CUT_MARK, SETUP_LINE_MAX_BYTES, type SetupOutputLine } from '@berth/contracts';
import { describe, expect, it } from 'vitest';
import { LINE_COST, LineSplitter, OutputAllowance, cleanLine, lineSecrets } from '../src/setup/setup-lines.js';
import { SETUP_OUTPUT_LIMITS, SetupOutput } from '../src/setup/setup-output.js';

const TOKEN = `ghp_${'A1b2C3d4'.repeat(4)}`;
const ENV = 'env-secret-value-0042';
const secrets = lineSecrets([TOKEN, ENV, 'multi\nline-secret-part']);

describe('setup lines: scrubbed and bounded', () => {
  it('replaces secrets, credentials in URLs and token shapes, also when escapes or control characters split them', () => {
    expect(cleanLine(`token=${TOKEN} env=${ENV}`, secrets)).toBe('token=*** env=***');
    expect(cleanLine('fetch https://user:hunter22@example.com/x.git', secrets)).toBe('fetch https://***@example.com/x.git');
    expect(cleanLine(`unknown ghp_${'z'.repeat(36)}`, [])).toBe('unknown ***');
    expect(cleanLine(`coloured ${ENV.slice(0, 5)}\u001b[31m${ENV.slice(5)}\u001b[0m`, secrets)).toBe('coloured ***');
    expect(cleanLine(`bell ${ENV.slice(0, 5)}\u0007${ENV.slice(5)}`, secrets)).toBe('bell ***');
    // A secret with a newline reaches us line by line: each of its lines is a secret too.
    expect(cleanLine('line-secret-part', secrets)).toBe('***');
  });

  it('keeps what a progress bar drew last, drops escape sequences and control characters', () => {
    expect(cleanLine('10%\r50%\r100% done\r', [])).toBe('100% done');
    expect(cleanLine('\u001b]0;title\u0007\u001b[2J\u001b[1mbold\u001b[0m\ttab\u0000\u009b', [])).toBe('bold\ttab');
  });

  it('cuts a long line at SETUP_LINE_MAX_BYTES without splitting a character', () => {
    const cut = cleanLine('é'.repeat(SETUP_LINE_MAX_BYTES), []);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(SETUP_LINE_MAX_BYTES);
    expect(cut.endsWith(SETUP_LINE_CUT_MARK)).toBe(true);
    expect(cut).not.toContain('\uFFFD');
  });

  it('splits output cut anywhere (a secret or a character across chunks) into clean lines', () => {
    const s = new LineSplitter(secrets);
    const text = Buffer.from(`a ${TOKEN} é\nsecond ${ENV}\nlast`);
    const out: string[] = [];
    for (let i = 0; i < text.length; i += 3) out.push(...s.push(text.subarray(i, i + 3)));
    out.push(...s.end());
    expect(out).toEqual(['a *** é', 'second ***', 'last']);
  });

  it('holds a bounded part of a line without newline: shown cut (scrubbed whole), the rest of it dropped', () => {
    const s = new LineSplitter(secrets);
    const first = s.push(`${'x'.repeat(SETUP_LINE_MAX_BYTES - 20)}${TOKEN}${'y'.repeat(70_000)}`);
    expect(first).toHaveLength(1);
    expect(first[0]).toContain('***');
    expect(first[0]).not.toContain(TOKEN.slice(0, 8));
    expect(s.push('more of the same line\nnext\n')).toEqual(['next']);
  });

  it('allows a burst, then bytes at the rate (each line costs its length plus LINE_COST)', () => {
    let now = 0;
    const a = new OutputAllowance(1000, 2 * (100 + LINE_COST), () => now);
    const line = 'x'.repeat(100);
    expect([a.take(line), a.take(line), a.take(line)]).toEqual([true, true, false]);
    now += 200;
    expect(a.take(line)).toBe(true);
    expect(a.take(line)).toBe(false);
  });
});

/** A sender that records batches; `gate` holds each send until released. */
function recorder(fail = false) {
  const batches: SetupOutputLine[][] = [];
  return {
    batches,
    lines: () => batches.flat().map((l) => `${l.phase}:${l.line}`),
    send: async (_id: string, lines: SetupOutputLine[]) => {
      if (fail) throw new Error('no log-streamer');
      batches.push(lines);
    },
  };
}
const quiet = { warn: () => undefined };

describe('SetupOutput', () => {
  it('sends phase lines and process output in order, each with its phase; phase() waits until what came before is sent', async () => {
    const r = recorder();
    const out = new SetupOutput('ws_1', [ENV], r.send, quiet);
    await out.phase('installing', 'installing: npm ci');
    const p = out.process();
    p.write({ stream: 'stdout', data: Buffer.from(`added 1 package\nenv ${ENV}\npart`) });
    p.write({ stream: 'stderr', data: Buffer.from('warn deprecated\n') });
    p.end();
    await out.phase('ready', 'ready');
    expect(r.lines()).toEqual([
      'installing:[setup] installing: npm ci',
      'installing:added 1 package',
      'installing:env ***',
      'installing:warn deprecated',
      'installing:part',
      'ready:[setup] ready',
    ]);
  });

  it('drops what is over the rate and says how many lines were not shown; phase lines always go', async () => {
    let now = 0;
    const r = recorder();
    const limits = { ...SETUP_OUTPUT_LIMITS, bytesPerSecond: 1000, burstBytes: 10 * (10 + LINE_COST) };
    const out = new SetupOutput('ws_1', [], r.send, quiet, limits, () => now);
    out.text(Array.from({ length: 50 }, (_, i) => `line ${String(i).padStart(4, '0')}`).join('\n'));
    out.note('still here');
    now += 10_000;
    out.text('after the pause');
    await out.flush();
    const lines = r.batches.flat().map((l) => l.line);
    expect(lines.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${String(i).padStart(4, '0')}`));
    expect(lines.slice(10)).toEqual(['[setup] 40 lines of output not shown (over the setup output limit)', '[setup] still here', 'after the pause']);
  });

  it('sends at most SETUP_APPEND_MAX_LINES lines and batchBytes a request', async () => {
    const r = recorder();
    const out = new SetupOutput('ws_1', [], r.send, quiet, { ...SETUP_OUTPUT_LIMITS, burstBytes: 10 * 1024 * 1024, queueBytes: 10 * 1024 * 1024 });
    out.text(Array.from({ length: 1200 }, (_, i) => `l${i}`).join('\n'));
    out.text(Array.from({ length: 40 }, () => 'z'.repeat(4000)).join('\n'));
    await out.flush();
    expect(r.batches.flat()).toHaveLength(1240);
    expect(Math.max(...r.batches.map((b) => b.length))).toBeLessThanOrEqual(SETUP_APPEND_MAX_LINES);
    expect(Math.max(...r.batches.map((b) => b.reduce((n, l) => n + Buffer.byteLength(l.line) + 64, 0)))).toBeLessThanOrEqual(SETUP_OUTPUT_LIMITS.batchBytes);
  });

  it('never fails or holds up the setup when log-streamer does not answer', async () => {
    const out = new SetupOutput('ws_1', [], recorder(true).send, quiet);
    out.text('lost');
    await expect(out.phase('ready', 'ready')).resolves.toBeUndefined();
    const stuck = new SetupOutput('ws_1', [], () => new Promise<void>(() => undefined), quiet, { ...SETUP_OUTPUT_LIMITS, flushWaitMs: 50 });
    stuck.text('never acknowledged');
    const started = Date.now();
    await stuck.phase('failed', 'failed');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
