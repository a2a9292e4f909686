#!/usr/bin/env node
// The `berth` command. Inside the berth repository it runs the TypeScript source through tsx (so
// `pnpm berth` needs no build); an installed package has no src/ and runs its build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/sdk/src/cli/main.js');
}
