import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const CLI_MAIN = MAIN;

/**
 * `berth ...` as a real child process with only the environment given (plus PATH). With
 * `stopAfterLines`, the process is stopped (SIGTERM) once that many lines came on stdout: for
 * commands that follow.
 */
export function berthCli(args: string[], env: Record<string, string>, stdin = '', stopAfterLines?: number): Promise<CliResult> {
  return startBerth(args, env, stdin, stopAfterLines).result;
}

/** `berth ...` as a child process, for a test that signals it while it runs; `stdout()` is the output so far. */
export function startBerth(
  args: string[],
  env: Record<string, string>,
  stdin = '',
  stopAfterLines?: number,
): {
  child: ChildProcess;
  stdout(): string;
  result: Promise<CliResult>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  const result = new Promise<CliResult>((resolve, reject) => {
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stopAfterLines !== undefined && stdout.split('\n').length > stopAfterLines) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
  return { child, stdout: () => stdout, result };
}
