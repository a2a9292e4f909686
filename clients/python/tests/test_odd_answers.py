"""A server that answers the new calls wrongly: every odd answer is a BerthError, never a raw
exception, and the API key is in none of them (no stack needed: a fake gateway on 127.0.0.1)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from berth import Berth, BerthApiError, BerthError, BerthResponseError
from berth.container import Container
from berth.models import ContainerView

KEY = "berth-canary-key-0123456789abcdef"
SSE = "text/event-stream"
ANSWERS = {
    # path (without the query) -> (status, content type, body)
    "/api/containers/ws_1/files/list": (200, "application/json", b'{"entries": [{"name": 5}], "truncated": false}'),
    "/api/containers/ws_1/files": (201, "application/json", b"not json"),
    "/api/containers/ws_1/files/move": (200, "application/json", b'{"path": "x"}'),
    "/api/containers/ws_1/files/watch": (200, SSE, b"id: w_1.1\nevent: created\ndata: {oops\n\n"),
    "/api/containers/ws_2/files/watch": (200, SSE, b'event: error\ndata: {"error": {"code": "WATCH_TOO_LARGE", "message": "too many"}}\n\n'),
    "/api/containers/ws_3/files/watch": (200, SSE, b'id: w_1.1\nevent: created\ndata: {"kind": "exploded"}\n\n'),
    "/api/containers/ws_1/previews": (201, "application/json", b'{"url": 7}'),
    "/api/templates": (200, "application/x-ndjson", b'{"type": "output", "hostId": "h", "data": "x"}\n{"type": "built", "template": {}}\n'),
    "/api/templates/short": (200, "application/json", b'{"name": "short"}'),
    "/api/volumes": (200, "application/json", b'{"volumes": "none"}'),
}


class Odd(BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        elif self.headers.get("transfer-encoding") == "chunked":
            while True:
                size = int(self.rfile.readline().strip(), 16)
                self.rfile.read(size + 2)
                if size == 0:
                    break
        status, type_, body = ANSWERS.get(self.path.split("?")[0], (404, "text/html", b"<html>nope</html>"))
        self.send_response(status)
        self.send_header("content-type", type_)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def odd():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Odd)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with Berth(f"http://127.0.0.1:{srv.server_address[1]}", KEY, timeout=5) as b:
        yield b
    srv.shutdown()
    srv.server_close()


def container(berth, id):
    view = ContainerView(id=id, name="x", pool="default", image="i", state="claimed", createdAt="2026-01-01T00:00:00Z")
    return Container(berth._transport, view)


def raised(call, kind=BerthError):
    with pytest.raises(kind) as e:
        call()
    assert KEY not in str(e.value) and KEY not in repr(e.value)
    return e.value


def test_odd_file_answers_are_response_errors(odd):
    c = container(odd, "ws_1")
    raised(lambda: c.files.list("."), BerthResponseError)
    raised(lambda: c.files.write("a", b"x"), BerthResponseError)
    raised(lambda: c.files.write("a", iter([b"chunked"])), BerthResponseError)
    raised(lambda: c.files.move("a", "b"), BerthResponseError)
    # An error answer without berth's error body (a proxy's HTML page).
    assert raised(lambda: container(odd, "ws_9").files.read("a"), BerthResponseError).status == 404


def test_odd_watch_streams_are_berth_errors(odd):
    raised(lambda: next(container(odd, "ws_1").files.watch(".")), BerthResponseError)
    raised(lambda: next(container(odd, "ws_3").files.watch(".")), BerthResponseError)
    err = raised(lambda: next(container(odd, "ws_2").files.watch(".")), BerthApiError)
    assert (err.code, err.status) == ("WATCH_TOO_LARGE", 422)


def test_odd_preview_template_and_volume_answers_are_response_errors(odd):
    raised(lambda: container(odd, "ws_1").previews.share(3000), BerthResponseError)
    seen = []
    raised(lambda: odd.templates.build("t", dockerfile="FROM x", on_output=lambda d, h: seen.append(d)), BerthResponseError)
    assert seen == ["x"]
    raised(lambda: odd.templates.get("short"), BerthResponseError)
    raised(lambda: odd.volumes.list(), BerthResponseError)
    assert KEY not in repr(odd)
