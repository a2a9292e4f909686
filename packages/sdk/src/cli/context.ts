import type { Berth } from '../berth.js';
import type { Parsed } from './args.js';
import type { Io } from './io.js';

interface Context {
  io: Io;
  /** A client from flags > env > config file; throws a UsageError when none is configured. */
  client(): Promise<Berth>;
}

export type Command = (p: Parsed, ctx: Context) => Promise<number>;
