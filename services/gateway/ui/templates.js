// The dashboard's templates: the caller's templates (GET /api/templates) with a delete and a "new
// container" per template, and a build form (POST /api/templates) whose output is shown live as
// the build streams it (TemplateBuildEvents as Server-Sent Events), then each host's outcome.
// Every call goes through the page's `api` (the key only in its Authorization header); names and
// output are shown as text, never HTML.
import { readEvents } from './sse.js';

/** Output chunks kept on screen (the oldest go first): a build can print a lot. */
const MAX_OUTPUT_CHUNKS = 5000;
const $ = (id) => document.getElementById(id);

let state = null;

/**
 * Wires the section once. `api(method, path, body, stream)` calls the API (with `stream`, answers a
 * Response to read); `create(body)` makes a container as the page's own create button does.
 */
export function initTemplates(api, create) {
  state = { api, create, listing: false, build: null };
  $('template-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void build();
  });
  $('template-cancel').addEventListener('click', () => state.build?.abort());
}

/** Lists the caller's templates again (skipped while the last list is still on its way). */
export async function refreshTemplates() {
  const s = state;
  if (s.listing) return;
  s.listing = true;
  try {
    const list = await s.api('GET', '/api/templates');
    $('templates-count').textContent = `${list.count} (at most ${list.limit} per host)`;
    $('templates-state').textContent = '';
    renderTemplates(list.templates);
  } catch (err) {
    $('templates-state').textContent = `templates: ${err.message}`;
  } finally {
    s.listing = false;
  }
}

/** Signed out: a running build is cancelled (closing its stream cancels it) and nothing stays on screen. */
export function closeTemplates() {
  state.build?.abort();
  $('templates').tBodies[0].replaceChildren();
  for (const id of ['templates-count', 'templates-state', 'template-state']) $(id).textContent = '';
  $('template-output').replaceChildren();
  $('template-result').replaceChildren();
}

function text(parent, tag, value, className) {
  const el = document.createElement(tag);
  el.textContent = value === null || value === undefined ? '-' : String(value);
  if (className) el.className = className;
  parent.appendChild(el);
  return el;
}

function button(parent, label, onClick, className) {
  const b = text(parent, 'button', label, className);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/** One row per template; its hosts, images and creation times one per line in their cells. */
function renderTemplates(templates) {
  const body = $('templates').tBodies[0];
  body.replaceChildren();
  for (const t of templates) {
    const row = body.insertRow();
    row.dataset.template = t.name;
    text(row, 'td', t.name);
    const [hosts, images, created] = [text(row, 'td', ''), text(row, 'td', ''), text(row, 'td', '')];
    for (const h of t.hosts) {
      text(hosts, 'div', h.hostId);
      text(images, 'div', h.image).title = h.imageId;
      text(created, 'div', h.createdAt);
    }
    const actions = text(row, 'td', '');
    button(actions, 'New container', () => state.create({ template: t.name }), 'new-container');
    button(actions, 'Delete', () => remove(t.name), 'danger delete');
  }
}

async function remove(name) {
  if (!window.confirm(`Delete the template ${name}? Workspaces already made from it keep running.`)) return;
  try {
    await state.api('DELETE', `/api/templates/${encodeURIComponent(name)}`);
  } catch (err) {
    $('templates-state').textContent = `delete ${name}: ${err.message}`;
  }
  await refreshTemplates();
}

// --- a build -------------------------------------------------------------------------------

function setBuildState(message, isError = false) {
  $('template-state').textContent = message;
  $('template-state').classList.toggle('error', isError);
}

function appendOutput(event) {
  const pre = $('template-output');
  if (pre.firstElementChild && pre.firstElementChild.dataset.host !== event.hostId) pre.classList.add('multi-host');
  const chunk = text(pre, 'span', event.data);
  chunk.dataset.host = event.hostId;
  while (pre.childElementCount > MAX_OUTPUT_CHUNKS) pre.firstElementChild.remove();
  pre.scrollTop = pre.scrollHeight;
}

/** Shows one TemplateBuildEvent; true once the build is over (`done` is the last event). */
function onBuildEvent(event) {
  const result = $('template-result');
  switch (event.type) {
    case 'output':
      appendOutput(event);
      return false;
    case 'built':
      text(result, 'li', `built on ${event.hostId}: ${event.template.image}`, 'built');
      return false;
    case 'failed':
      text(result, 'li', `failed on ${event.hostId}: ${event.error.code}: ${event.error.message}`, 'failed error');
      return false;
    case 'done':
      setBuildState(
        `${event.name}: built on ${event.built.length ? event.built.join(', ') : 'no host'}${event.failed.length ? `; failed on ${event.failed.join(', ')}` : ''}`,
        event.built.length === 0,
      );
      return true;
    default:
      return false;
  }
}

async function build() {
  const s = state;
  if (s.build) return;
  const abort = new AbortController();
  s.build = abort;
  $('template-build').disabled = true;
  $('template-cancel').hidden = false;
  $('template-output').replaceChildren();
  $('template-output').classList.remove('multi-host');
  $('template-result').replaceChildren();
  const body = { name: $('template-name').value.trim(), dockerfile: $('template-dockerfile').value };
  setBuildState(`building ${body.name}…`);
  try {
    const res = await s.api('POST', '/api/templates', body, { accept: 'text/event-stream', signal: abort.signal });
    const ended = await readEvents(res.body, (_id, data) => (data ? onBuildEvent(JSON.parse(data)) : false));
    if (!ended) setBuildState(`${body.name}: the stream ended before the build did`, true);
  } catch (err) {
    // An API error has a code (a refusal before anything built); anything else is the connection's.
    const outcome = abort.signal.aborted ? 'cancelled' : err.code ? `refused: ${err.message}` : `build failed: ${err.message}`;
    setBuildState(`${body.name}: ${outcome}`, true);
  } finally {
    s.build = null;
    $('template-build').disabled = false;
    $('template-cancel').hidden = true;
    // Cancelled (or signed out): the next refresh lists what is there.
    if (!abort.signal.aborted) await refreshTemplates();
  }
}
