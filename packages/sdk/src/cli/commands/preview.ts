import { allowOnly, positiveInt } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';
import { json } from '../table.js';

/**
 * `berth preview ID PORT [--expires S]`: a share link to the port (the URL alone on stdout);
 * `berth preview revoke ID PREVIEW_ID`: ends one.
 */
export const preview: Command = async (p, { io, client }) => {
  allowOnly(p, ['json', 'expires']);
  if (p.positionals[0] === 'revoke') {
    const [, id, previewId, ...more] = p.positionals;
    if (!id || !previewId || more.length > 0) throw new UsageError('usage: berth preview revoke ID PREVIEW_ID');
    await (await client()).containers.get(id).then((c) => c.previews.revoke(previewId));
    io.out(`${previewId}\n`);
    return EXIT.ok;
  }
  const [id, portText, ...more] = p.positionals;
  if (!id || !portText || more.length > 0) throw new UsageError('usage: berth preview ID PORT [--expires SECONDS]');
  const port = positiveInt(portText, 'port') as number;
  const expiresInSeconds = positiveInt(p.values.expires, 'expires');
  const c = await (await client()).containers.get(id);
  const link = await c.previews.share({ port, ...(expiresInSeconds !== undefined && { expiresInSeconds }) });
  if (p.values.json) {
    io.out(json(link));
  } else {
    io.out(`${link.url}\n`);
    io.err(`share link ${link.previewId} to port ${port}, until ${link.expiresAt} (berth preview revoke ${id} ${link.previewId})\n`);
  }
  return EXIT.ok;
};
