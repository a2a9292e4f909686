import { Berth } from '../../berth.js';
import { allowOnly } from '../args.js';
import { configPath, writeConfigFile } from '../config.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';

/** `berth login --url URL --api-key-stdin`: checks the key against the gateway, then saves both (mode 600). */
export const login: Command = async (p, { io }) => {
  allowOnly(p, ['api-key-stdin']);
  const url = p.values.url || io.env.BERTH_URL;
  if (!url) throw new UsageError('login needs --url URL');
  if (!p.values['api-key-stdin']) throw new UsageError('login reads the API key from stdin: berth login --url URL --api-key-stdin');
  if (io.stdinIsTty) io.err('paste the API key, then press Enter and Ctrl-D\n');
  const apiKey = (await io.readStdin()).trim();
  if (!apiKey) throw new UsageError('no API key on stdin');
  await new Berth({ url, apiKey }).containers.list({ timeoutMs: 10_000 });
  const path = configPath(io.env);
  await writeConfigFile(path, { url, apiKey });
  io.err(`logged in to ${url}; saved to ${path}\n`);
  return EXIT.ok;
};
