import base64
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from berth import BerthApiError

pytestmark = pytest.mark.stack
TOKEN = os.environ.get("BERTH_TEST_GITHUB_TOKEN", "")
# Artie's documented callback secret: a plain string, signed with its UTF-8 bytes.
SECRET = "secret123"


def verify_standard_webhook(key: bytes, body: bytes, headers) -> bool:
    """docs/callbacks.md's hand-written check (the Python standardwebhooks package is not on the mirror)."""
    msg_id, ts, sigs = headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
    if abs(time.time() - int(ts)) > 300:
        return False
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    return any(hmac.compare_digest(expected, s) for s in sigs.split(" "))


@pytest.fixture
def receiver():
    got = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            got.append((json.loads(body), verify_standard_webhook(SECRET.encode(), body, self.headers), self.headers["webhook-id"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/hook", got
    srv.shutdown()
    srv.server_close()


def test_setup_reports_progress_and_its_callbacks_verify(berth, receiver):
    url, got = receiver
    c = berth.containers.create()
    try:
        phases = []
        done = c.setup("acme/app", "main", githubToken=TOKEN, callbackUrl=url, callbackSecret=SECRET,
                       on_progress=lambda s: phases.append(s.phase), poll_interval=0.1, timeout=90)
        assert (done.phase, done.repo, done.branch) == ("ready", "acme/app", "main")
        assert phases[0] == "queued" and phases[-1] == "ready" and "installing" in phases
        assert c.setup_status().seq == done.seq
        deadline = time.monotonic() + 20
        while not any(s["phase"] == "ready" for s, _, _ in got) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert got and all(ok for _, ok, _ in got)
        assert [i for _, _, i in got] == [f"{c.id}:{s['seq']}" for s, _, _ in got]
        assert got[-1][0]["phase"] == "ready"
    finally:
        c.delete()


def test_a_failed_setup_raises_its_code_with_the_status(berth):
    c = berth.containers.create()
    try:
        with pytest.raises(BerthApiError) as e:
            c.setup("acme/app", "main", githubToken=TOKEN, installCommand='echo "install broke" >&2; exit 9', poll_interval=0.1, timeout=90)
        assert (e.value.code, e.value.status, e.value.retryable) == ("INSTALL_FAILED", 422, False)
        assert e.value.setup.phase == "failed"
        assert "install broke" in e.value.setup.log_tail
    finally:
        c.delete()
