// berth dashboard: pools, containers, live logs, a terminal, files and templates, on the public API only.
// The API key stays in sessionStorage and goes only into Authorization headers: never in a URL,
// a cookie or the page. A terminal authenticates with a single-use ticket in a WebSocket
// subprotocol, since browsers cannot put headers on a WebSocket.
import { closeFiles, openFiles } from './files.js';
import { readEvents } from './sse.js';
import { closeTemplates, initTemplates, refreshTemplates } from './templates.js';

const KEY = 'berth.apiKey';
const REFRESH_MS = 3000;
const MAX_LOG_LINES = 2000;
const $ = (id) => document.getElementById(id);
const encoder = new TextEncoder();

let apiKey = sessionStorage.getItem(KEY);
let selected = null;
let logsAbort = null;
let terminal = null;
let refreshTimer = null;
/** The last usage sample per container id, shown until the next one arrives. */
const usageById = new Map();
const MAX_USAGE_ROWS = 20;

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error ? body.error.code : undefined;
  }
}

/** Calls the API. With `stream` ({accept, signal}), an answer that is not an error is the Response, to read as it comes. */
async function api(method, path, body, stream) {
  const headers = { authorization: `Bearer ${apiKey}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (stream) headers.accept = stream.accept;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: stream?.signal });
  if (stream && res.ok) return res;
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

const containerPath = (id) => `/api/containers/${encodeURIComponent(id)}`;

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '-' : String(text);
  row.appendChild(td);
  return td;
}

function setStatus(text) {
  $('status').textContent = text;
}

// --- sign in / out -------------------------------------------------------------------------

function showMain(signedIn) {
  $('login').hidden = signedIn;
  $('main').hidden = !signedIn;
  $('logout').hidden = !signedIn;
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = $('api-key');
  apiKey = input.value.trim();
  input.value = '';
  $('login-error').textContent = '';
  try {
    await api('GET', '/api/pools');
    sessionStorage.setItem(KEY, apiKey);
    start();
  } catch (err) {
    apiKey = null;
    $('login-error').textContent = err.status === 401 ? 'That key was refused.' : `Could not sign in: ${err.message}`;
  }
});

$('logout').addEventListener('click', () => signOut(''));

function signOut(message) {
  sessionStorage.removeItem(KEY);
  apiKey = null;
  clearInterval(refreshTimer);
  closeDetail();
  closeTemplates();
  showMain(false);
  $('login-error').textContent = message;
  setStatus('');
}

// --- pools and containers ------------------------------------------------------------------

function renderPools(pools) {
  const body = $('pools').tBodies[0];
  body.replaceChildren();
  for (const p of pools) {
    const row = body.insertRow();
    row.dataset.pool = p.name;
    cell(row, p.name);
    const fill = cell(row, '');
    const bar = document.createElement('div');
    bar.className = 'fill';
    bar.title = `${p.warm} warm of ${p.targetSize}`;
    const inner = document.createElement('div');
    inner.style.width = `${p.targetSize > 0 ? Math.min(100, Math.round((100 * p.warm) / p.targetSize)) : 0}%`;
    bar.appendChild(inner);
    fill.appendChild(bar);
    cell(row, p.warm);
    cell(row, p.creating);
    cell(row, p.claimed);
    cell(row, p.targetSize);
    cell(row, `${p.memoryMb} MB`);
  }
}

function renderContainers(containers) {
  const body = $('containers').tBodies[0];
  body.replaceChildren();
  for (const c of containers) {
    const row = body.insertRow();
    row.className = `selectable${selected === c.id ? ' selected' : ''}`;
    row.dataset.id = c.id;
    cell(row, c.id);
    cell(row, c.name);
    cell(row, c.pool);
    cell(row, c.state);
    portsCell(row, c);
    cell(row, c.lastActiveAt);
    showUsage(row, usageById.get(c.id));
    row.addEventListener('click', () => select(c.id));
  }
  if (selected && !containers.some((c) => c.id === selected)) closeDetail();
  for (const id of [...usageById.keys()]) if (!containers.some((c) => c.id === id)) usageById.delete(id);
}

/** Published ports, each with a preview button: a one-hour share link opened in a new tab. */
function portsCell(row, c) {
  const td = cell(row, Object.keys(c.ports).length === 0 ? '-' : '');
  for (const [inside, host] of Object.entries(c.ports)) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'preview';
    button.textContent = `${inside}→${host} ↗`;
    button.title = `Open a preview of port ${inside} (a share link valid for one hour)`;
    button.addEventListener('click', (ev) => {
      ev.stopPropagation();
      openPreview(c.id, Number(inside));
    });
    td.appendChild(button);
  }
}

async function openPreview(id, port) {
  // Opened first (a popup needs the click), pointed at the link once it exists; noopener-like:
  // the preview page gets no handle on the dashboard.
  const tab = window.open('about:blank', '_blank');
  if (tab) tab.opener = null;
  try {
    const link = await api('POST', `${containerPath(id)}/previews`, { port, expiresInSeconds: 3600 });
    if (tab) tab.location.href = link.url;
    else window.open(link.url, '_blank', 'noopener,noreferrer');
  } catch (err) {
    if (tab) tab.close();
    setStatus(`preview of port ${port}: ${err.message}`);
  }
}

const mb = (bytes) => `${Math.round(bytes / 1048576)}`;

/** LLM calls through egress: requests, tokens in + out, spend. */
const llmText = (llm) => (llm ? `${llm.requests} req · ${llm.inputTokens + llm.outputTokens} tok · $${llm.costUsd.toFixed(4)}` : '-');

/** CPU, memory and LLM cells of a container row (created on first use, updated in place). */
function showUsage(row, u) {
  const cpu = row.querySelector('td.cpu') || cell(row, '');
  const mem = row.querySelector('td.mem') || cell(row, '');
  const llm = row.querySelector('td.llm') || cell(row, '');
  cpu.className = 'cpu';
  mem.className = 'mem';
  llm.className = 'llm';
  cpu.textContent = u ? `${u.cpuPercent.toFixed(1)} %` : '-';
  mem.textContent = u ? `${mb(u.memoryBytes)} / ${mb(u.memoryLimitBytes)} MB` : '-';
  llm.textContent = llmText(u?.llm);
}

/** One stats sample per container (about a second each, in parallel); rows update when they arrive. */
function refreshUsage(containers) {
  for (const c of containers.slice(0, MAX_USAGE_ROWS)) {
    api('GET', `${containerPath(c.id)}/usage`)
      .then((u) => {
        usageById.set(c.id, u);
        const row = [...$('containers').tBodies[0].rows].find((r) => r.dataset.id === c.id);
        if (row) showUsage(row, u);
      })
      .catch(() => undefined);
  }
}

async function refresh() {
  try {
    const [pools, list] = await Promise.all([api('GET', '/api/pools'), api('GET', '/api/containers')]);
    renderPools(pools.pools);
    renderContainers(list.containers);
    refreshUsage(list.containers);
    setStatus(`${list.count} containers · updated ${new Date().toLocaleTimeString()}`);
    void refreshTemplates();
  } catch (err) {
    if (err.status === 401) signOut('The key is no longer accepted.');
    else setStatus(`refresh failed: ${err.message}`);
  }
}

/** A new container (`body`: {} for the default pool, {template} for one of the caller's templates), then shown. */
async function createContainer(body) {
  try {
    const c = await api('POST', '/api/containers', body);
    await refresh();
    select(c.id);
  } catch (err) {
    setStatus(`create failed: ${err.message}`);
  }
}

$('create').addEventListener('click', () => createContainer({}));
initTemplates(api, createContainer);

// --- one container: live logs and terminal -------------------------------------------------

function select(id) {
  if (selected === id) return;
  closeDetail();
  selected = id;
  $('detail').hidden = false;
  $('detail-id').textContent = id;
  for (const row of $('containers').tBodies[0].rows) row.classList.toggle('selected', row.dataset.id === id);
  followLogs(id);
  openFiles(id, api, () => apiKey);
}

function closeDetail() {
  selected = null;
  if (logsAbort) logsAbort.abort();
  logsAbort = null;
  closeTerminal();
  closeFiles();
  $('detail').hidden = true;
  $('logs').replaceChildren();
}

$('remove').addEventListener('click', async () => {
  const id = selected;
  if (!id) return;
  try {
    await api('DELETE', containerPath(id));
  } catch (err) {
    setStatus(`remove failed: ${err.message}`);
  }
  closeDetail();
  await refresh();
});

// Pause frees the container's memory for others; a command (or Resume) brings it back.
for (const action of ['pause', 'resume']) {
  $(action).addEventListener('click', async () => {
    const id = selected;
    if (!id) return;
    try {
      await api('POST', `${containerPath(id)}/${action}`);
    } catch (err) {
      setStatus(`${action} failed: ${err.message}`);
    }
    await refresh();
  });
}

function appendLog(event) {
  const pre = $('logs');
  const line = document.createElement('div');
  line.className = event.stream;
  line.textContent = event.line;
  if (event.phase) line.title = `setup: ${event.phase}`;
  pre.appendChild(line);
  while (pre.childElementCount > MAX_LOG_LINES) pre.firstElementChild.remove();
  pre.scrollTop = pre.scrollHeight;
}

/** The container's logs as Server-Sent Events (sse.js), resumed with Last-Event-ID. */
async function followLogs(id) {
  const abort = new AbortController();
  logsAbort = abort;
  let lastId = null;
  while (!abort.signal.aborted) {
    try {
      const headers = { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' };
      if (lastId !== null) headers['last-event-id'] = lastId;
      const res = await fetch(`${containerPath(id)}/logs?tail=200`, { headers, signal: abort.signal });
      if (!res.ok) {
        setStatus(`logs: HTTP ${res.status}`);
        if (res.status < 500) return;
      } else {
        await readEvents(res.body, (id, data) => {
          if (id !== null) lastId = id;
          if (data) appendLog(JSON.parse(data));
          return false;
        });
      }
    } catch (err) {
      if (abort.signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function closeTerminal() {
  if (!terminal) return;
  terminal.socket.close(1000);
  terminal.term.dispose();
  terminal = null;
  $('terminal-state').textContent = '';
}

$('open-terminal').addEventListener('click', async () => {
  const id = selected;
  if (!id) return;
  closeTerminal();
  try {
    const { ticket } = await api('POST', `${containerPath(id)}/tickets`);
    const term = new window.Terminal({ cols: 80, rows: 22, cursorBlink: true, fontSize: 13 });
    term.open($('terminal'));
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}${containerPath(id)}/terminal?cols=${term.cols}&rows=${term.rows}`, [
      'berth.terminal.v1',
      `berth.ticket.${ticket}`,
    ]);
    socket.binaryType = 'arraybuffer';
    terminal = { term, socket };
    socket.addEventListener('open', () => {
      $('terminal-state').textContent = '(connected)';
      term.focus();
    });
    socket.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') {
        term.write(new Uint8Array(ev.data));
        return;
      }
      const frame = JSON.parse(ev.data);
      $('terminal-state').textContent = frame.type === 'exit' ? `(exited ${frame.code})` : `(${frame.code}: ${frame.message})`;
    });
    socket.addEventListener('close', () => {
      if (!$('terminal-state').textContent.startsWith('(exit')) $('terminal-state').textContent = '(closed)';
    });
    term.onData((d) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(d));
    });
    term.onResize(({ cols, rows }) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'resize', cols, rows }));
    });
  } catch (err) {
    $('terminal-state').textContent = `(failed: ${err.message})`;
  }
});

// --- start ---------------------------------------------------------------------------------

function start() {
  showMain(true);
  void refresh();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(refresh, REFRESH_MS);
}

if (apiKey) start();
else showMain(false);
