import type { Parsed } from './args.js';
import { UsageError } from './io.js';

/** `--cpus 0.5 --memory 1024 --disk 2048` (memory and disk in MiB) as a create's limits. */
export function limitsOf(p: Parsed): { cpus?: number; memoryMb?: number; diskMb?: number } {
  const num = (v: string | undefined, flag: string, int: boolean) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || n <= 0 || (int && !Number.isInteger(n)))
      throw new UsageError(`--${flag} must be a positive ${int ? 'whole number of MiB' : 'number'}, not ${v}`);
    return n;
  };
  const cpus = num(p.values.cpus, 'cpus', false);
  const memoryMb = num(p.values.memory, 'memory', true);
  const diskMb = num(p.values.disk, 'disk', true);
  return { ...(cpus !== undefined && { cpus }), ...(memoryMb !== undefined && { memoryMb }), ...(diskMb !== undefined && { diskMb }) };
}
