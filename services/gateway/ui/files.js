// The dashboard's file pane: a directory of the selected container (files/list), a text file
// opened read-only (files GET), both refreshed on the directory's watch events (files/watch,
// Server-Sent Events over fetch, resumed with Last-Event-ID). Names are shown as text, never HTML.
import { readEvents } from './sse.js';

const HOME = '/workspace';
/** What of a file is shown (a Range request): the pane is a viewer, not a download. */
const VIEW_BYTES = 256 * 1024;
const REFRESH_DELAY_MS = 150;
const $ = (id) => document.getElementById(id);

let state = null;

const filesPath = (id, route, path) => `/api/containers/${encodeURIComponent(id)}/files${route}?path=${encodeURIComponent(path)}`;
const join = (dir, name) => (dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`);
const parent = (dir) => (dir === HOME ? HOME : dir.slice(0, dir.lastIndexOf('/')) || '/');

/** Opens the pane on `id`'s /workspace. `api(method, path)` calls the API; `key()` is the API key. */
export function openFiles(id, api, key) {
  closeFiles();
  state = { id, api, key, dir: HOME, file: null, abort: null, timer: null };
  void show(HOME);
}

export function closeFiles() {
  if (!state) return;
  state.abort?.abort();
  clearTimeout(state.timer);
  state = null;
  $('files-list').replaceChildren();
  $('file-view').textContent = '';
  $('files-path').textContent = '';
  $('files-state').textContent = '';
}

async function show(dir) {
  const s = state;
  s.abort?.abort();
  s.dir = dir;
  $('files-path').textContent = dir;
  await list(s);
  if (state === s && s.dir === dir) void watch(s, dir);
}

async function list(s) {
  try {
    const { entries, truncated } = await s.api('GET', `${filesPath(s.id, '/list', s.dir)}`);
    if (state !== s) return;
    const ul = $('files-list');
    const items = [];
    if (s.dir !== HOME) items.push(item('..', 'directory', () => show(parent(s.dir))));
    for (const e of entries) {
      const path = join(s.dir, e.name);
      items.push(item(e.type === 'directory' ? `${e.name}/` : e.name, e.type, () => (e.type === 'directory' ? show(path) : openFile(s, path)), path));
    }
    if (truncated) items.push(item('… (more entries)', 'other', null));
    ul.replaceChildren(...items);
  } catch (err) {
    if (state === s) $('files-state').textContent = `(list failed: ${err.message})`;
  }
}

function item(label, type, onClick, path) {
  const li = document.createElement('li');
  li.className = `entry ${type}`;
  li.textContent = label;
  if (path) li.dataset.path = path;
  if (onClick) li.addEventListener('click', onClick);
  return li;
}

async function openFile(s, path) {
  s.file = path;
  $('file-view').dataset.path = path;
  try {
    const res = await fetch(filesPath(s.id, '', path), { headers: { authorization: `Bearer ${s.key()}`, range: `bytes=0-${VIEW_BYTES - 1}` } });
    if (state !== s || s.file !== path) return;
    if (res.status === 416) {
      $('file-view').textContent = '';
      return;
    }
    if (!res.ok) {
      $('file-view').textContent = `(${path}: HTTP ${res.status})`;
      return;
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (state !== s || s.file !== path) return;
    $('file-view').textContent = bytes.includes(0) ? '(binary file)' : new TextDecoder().decode(bytes);
  } catch (err) {
    if (state === s) $('file-view').textContent = `(${path}: ${err.message})`;
  }
}

/** Lists again (and reloads the open file) a moment after the last event of a burst. */
function changed(s, event) {
  if (event.path && event.path === s.file) {
    if (event.kind === 'deleted') $('file-view').textContent = `(${s.file} was deleted)`;
    else void openFile(s, s.file);
  }
  clearTimeout(s.timer);
  s.timer = setTimeout(() => void list(s), REFRESH_DELAY_MS);
}

async function watch(s, dir) {
  const abort = new AbortController();
  s.abort = abort;
  let lastId = null;
  while (!abort.signal.aborted) {
    try {
      const headers = { authorization: `Bearer ${s.key()}`, accept: 'text/event-stream' };
      if (lastId !== null) headers['last-event-id'] = lastId;
      const res = await fetch(filesPath(s.id, '/watch', dir), { headers, signal: abort.signal });
      if (!res.ok) {
        $('files-state').textContent = `(not watched: HTTP ${res.status})`;
        return;
      }
      $('files-state').textContent = '(watching)';
      const ended = await readEvents(res.body, (id, data) => {
        if (id !== null) lastId = id;
        if (!data) return false;
        const event = JSON.parse(data);
        if (event.kind === 'end') {
          $('files-state').textContent = `(watch ended: ${event.reason})`;
          return true;
        }
        changed(s, event);
        return false;
      });
      if (ended) return;
    } catch {
      if (abort.signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
