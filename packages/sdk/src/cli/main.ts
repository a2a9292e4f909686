#!/usr/bin/env node
import { text } from 'node:stream/consumers';
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  readStdin: () => text(process.stdin),
  stdinIsTty: process.stdin.isTTY === true,
  env: process.env,
  onInterrupt: (listener) => {
    process.on('SIGINT', listener);
    return () => process.off('SIGINT', listener);
  },
  tty: {
    stdin: process.stdin,
    stdout: process.stdout,
    onResize: (listener) => {
      process.on('SIGWINCH', listener);
      return () => process.off('SIGWINCH', listener);
    },
  },
});
