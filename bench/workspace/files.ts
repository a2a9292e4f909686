// The files part of `pnpm bench:workspace`: a 64 MB file up and down through the gateway and the
// workspace's agent beside `docker cp` both ways in the same run, and listing 1,000 entries.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { round, summary } from '../lib/stats.js';
import type { PartResult, WorkspaceBenchContext } from './context.js';

const SIZE = 64 * 1024 * 1024;
const RUNS = Number(process.env.BENCH_FILE_RUNS ?? 3);
const LISTS = Number(process.env.BENCH_LISTS ?? 50);

/** One raw HTTP transfer to the gateway; resolves with the bytes received. */
function transfer(ctx: WorkspaceBenchContext, method: 'GET' | 'PUT', path: string, body?: Buffer): Promise<number> {
  const url = new URL(ctx.stack.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: `/api/containers/${ctx.id}/files?path=${encodeURIComponent(path)}`,
        headers: { authorization: `Bearer ${ctx.stack.token}`, ...(body && { 'content-length': body.length }) },
      },
      (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
        });
        res.on('end', () => (res.statusCode && res.statusCode < 300 ? resolve(n) : reject(new Error(`${method} ${path}: ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function best(fn: () => Promise<unknown> | unknown): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return times;
}

const mbPerS = (seconds: number[]) => round(SIZE / 2 ** 20 / Math.min(...seconds));

export async function measure(ctx: WorkspaceBenchContext): Promise<PartResult> {
  const data = randomBytes(SIZE);
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-files-'));
  try {
    const local = join(dir, 'blob');
    writeFileSync(local, data);
    await transfer(ctx, 'PUT', 'warmup', data.subarray(0, 1024 * 1024));
    const up = await best(() => transfer(ctx, 'PUT', 'bench.bin', data));
    const down = await best(async () => {
      const n = await transfer(ctx, 'GET', 'bench.bin');
      if (n !== SIZE) throw new Error(`read ${n} bytes of ${SIZE}`);
    });
    const cpUp = await best(() => execFileSync('docker', ['cp', local, `${ctx.ref}:/workspace/cp.bin`], { stdio: 'ignore' }));
    const cpDown = await best(() => execFileSync('docker', ['cp', `${ctx.ref}:/workspace/cp.bin`, join(dir, 'back')], { stdio: 'ignore' }));

    await ctx.client.ok('POST', `/api/containers/${ctx.id}/exec`, {
      command: 'mkdir -p /workspace/many && cd /workspace/many && for i in $(seq 1 1000); do : > f$i; done',
    });
    const lists: number[] = [];
    for (let i = 0; i < LISTS + 5; i++) {
      const t0 = performance.now();
      const r = await ctx.client.ok('GET', `/api/containers/${ctx.id}/files/list?path=many`);
      if (i >= 5) lists.push(performance.now() - t0);
      if ((r.entries as unknown[]).length !== 1000) throw new Error('list did not answer 1,000 entries');
    }
    const list = summary(lists);
    const figures = {
      upload_mb_per_s: mbPerS(up),
      download_mb_per_s: mbPerS(down),
      docker_cp_upload_mb_per_s: mbPerS(cpUp),
      docker_cp_download_mb_per_s: mbPerS(cpDown),
      files_list_p50_ms: list.p50,
    };
    return {
      figures,
      rows: [
        {
          measure: 'upload 64 MB (PUT …/files, best of runs)',
          value: `${figures.upload_mb_per_s} MB/s`,
          baseline: `docker cp ${figures.docker_cp_upload_mb_per_s} MB/s`,
          target: '≥ docker cp',
        },
        {
          measure: 'download 64 MB (GET …/files, best of runs)',
          value: `${figures.download_mb_per_s} MB/s`,
          baseline: `docker cp ${figures.docker_cp_download_mb_per_s} MB/s`,
          target: '≥ docker cp',
        },
        { measure: 'list 1,000 entries (p50 / p99)', value: `${list.p50} / ${list.p99} ms`, baseline: '', target: '≤ 10 ms' },
      ],
      detail: { up, down, cpUp, cpDown, list },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
