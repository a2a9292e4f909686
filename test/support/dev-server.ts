/**
 * A dependency-free dev server for a workspace (Node only): a page that opens a WebSocket (relative
 * URL `hmr`, so it works under any path prefix) and shows each message in `#status`, like a dev
 * server's hot reload; `GET …/reload` pushes `reload:<n>` to every open socket; `GET …/stream` sends
 * one chunk and holds the answer open; anything else echoes what the server saw as JSON. A socket
 * echoes text frames back as `echo:<text>`.
 */
const DEV_SERVER_JS = String.raw`
const http = require('http'), crypto = require('crypto');
const PORT = Number(process.argv[2] || 3000);
const page = '<!doctype html><title>dev</title><div id="status">loading</div><script>'
  + 'const u = new URL("hmr", location.href); u.protocol = u.protocol.replace("http", "ws");'
  + 'const ws = new WebSocket(u); ws.onmessage = (e) => { document.getElementById("status").textContent = e.data; };'
  + '</script>';
const sockets = new Set();
let reloads = 0;
function send(sock, text) {
  const b = Buffer.from(text);
  sock.write(Buffer.concat([Buffer.from([0x81, b.length]), b]));
}
const server = http.createServer((q, r) => {
  const path = q.url.split('?')[0];
  if (path.endsWith('/reload')) { reloads++; for (const s of sockets) send(s, 'reload:' + reloads); r.end('sent ' + sockets.size); return; }
  if (path.endsWith('/stream')) { r.writeHead(200, { 'content-type': 'text/event-stream' }); r.write('data: first\n\n'); setTimeout(() => r.end('data: last\n\n'), 3000); return; }
  if (path === '/' || path.endsWith('/index.html')) { r.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'dev=1; Path=/' }); r.end(page); return; }
  let body = '';
  q.on('data', (c) => { body += c; });
  q.on('end', () => { r.writeHead(200, { 'content-type': 'application/json' }); r.end(JSON.stringify({ method: q.method, url: q.url, headers: q.headers, body })); });
});
server.on('upgrade', (q, sock) => {
  const accept = crypto.createHash('sha1').update(q.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n');
  sockets.add(sock);
  sock.on('close', () => sockets.delete(sock));
  sock.on('error', () => sockets.delete(sock));
  sock.on('data', (d) => {
    if ((d[0] & 0x0f) !== 1) return;
    const len = d[1] & 0x7f, mask = d.subarray(2, 6);
    const text = Buffer.from(d.subarray(6, 6 + len).map((x, i) => x ^ mask[i % 4])).toString();
    send(sock, 'echo:' + text);
  });
  send(sock, 'hello');
});
server.listen(PORT, '0.0.0.0');
`;

/** The shell command that writes the server to /tmp and starts it in the background on `port`. */
export function startDevServerCommand(port: number): string {
  const b64 = Buffer.from(DEV_SERVER_JS).toString('base64');
  return `echo ${b64} | base64 -d > /tmp/dev-server.js && nohup node /tmp/dev-server.js ${port} >/tmp/dev-server.log 2>&1 < /dev/null &`;
}
