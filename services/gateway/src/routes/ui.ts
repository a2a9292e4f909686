import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

const require = createRequire(import.meta.url);
const own = (name: string) => fileURLToPath(new URL(`../../ui/${name}`, import.meta.url));
const xterm = (path: string) => require.resolve(`@xterm/xterm/${path}`);

/** Every file the dashboard serves, by URL below /ui: nothing else is readable from here. */
const FILES: Record<string, { path: string; type: string }> = {
  '': { path: own('index.html'), type: 'text/html; charset=utf-8' },
  'app.js': { path: own('app.js'), type: 'text/javascript; charset=utf-8' },
  'files.js': { path: own('files.js'), type: 'text/javascript; charset=utf-8' },
  'sse.js': { path: own('sse.js'), type: 'text/javascript; charset=utf-8' },
  'templates.js': { path: own('templates.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { path: own('app.css'), type: 'text/css; charset=utf-8' },
  'vendor/xterm.js': { path: xterm('lib/xterm.js'), type: 'text/javascript; charset=utf-8' },
  'vendor/xterm.css': { path: xterm('css/xterm.css'), type: 'text/css; charset=utf-8' },
};

/**
 * Scripts and connections only to this origin; no framing, no referrer. The API key lives in the
 * page's sessionStorage and goes only into Authorization headers (a terminal uses a ticket).
 */
const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

/** The web dashboard: static files under /ui (public; every call it makes needs the API key). */
export const uiRoutes: FastifyPluginAsync = async (app) => {
  const cache = new Map<string, Buffer>();
  const send = async (name: string) => {
    const file = FILES[name]!;
    let body = cache.get(name);
    if (!body) {
      body = await readFile(file.path);
      cache.set(name, body);
    }
    return { body, type: file.type };
  };
  app.get('/ui', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui/', 308));
  app.get('/ui/*', { schema: { hide: true } }, async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    if (!(name in FILES)) return reply.code(404).type('text/plain').send('not found');
    const { body, type } = await send(name);
    return reply.headers(HEADERS).type(type).send(body);
  });
};
