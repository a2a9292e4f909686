import socket
import threading

import pytest

from berth import Berth, BerthApiError, BerthNetworkError, BerthResponseError, BerthTimeoutError, Container

pytestmark = pytest.mark.stack


def test_berth_reads_its_url_and_key_from_the_environment(berth, monkeypatch):
    assert berth.health().status == "ok"
    monkeypatch.delenv("BERTH_API_KEY")
    with pytest.raises(ValueError, match="BERTH_API_KEY"):
        Berth()
    assert berth.pools.list()[0].name == "default"


def test_create_get_list_delete(berth):
    c = berth.containers.create(name="py-one")
    assert isinstance(c, Container)
    assert (c.name, c.pool, c.state) == ("py-one", "default", "claimed")
    assert c.host_port == c.ports["3000"]
    assert berth.containers.get(c.id).name == "py-one"
    assert c.id in [x.id for x in berth.containers.list()]
    assert c.refresh().id == c.id
    c.delete()
    with pytest.raises(BerthApiError) as gone:
        berth.containers.get(c.id)
    assert (gone.value.code, gone.value.status, gone.value.retryable) == ("CONTAINER_NOT_FOUND", 404, False)
    assert "CONTAINER_NOT_FOUND" in str(gone.value)
    assert gone.value.request_id is not None and gone.value.request_id.startswith("req_")


def test_the_same_idempotency_key_gives_the_same_container(berth):
    a = berth.containers.create(idempotency_key="py-idem-1")
    b = berth.containers.create(idempotency_key="py-idem-1")
    assert a.id == b.id
    berth.containers.delete(a.id)
    with pytest.raises(BerthApiError, match="CONTAINER_NOT_FOUND"):
        berth.containers.delete(a.id)


def test_api_errors_keep_their_code(berth):
    c = berth.containers.create(name="py-taken")
    try:
        with pytest.raises(BerthApiError) as conflict:
            berth.containers.create(name="py-taken")
        assert (conflict.value.code, conflict.value.status) == ("NAME_CONFLICT", 409)
        with pytest.raises(BerthApiError) as pool:
            berth.containers.create(pool="nope")
        assert pool.value.code == "POOL_NOT_FOUND"
        with pytest.raises(BerthApiError) as bad:
            berth.containers.create(bogus=1)
        assert bad.value.status == 400
    finally:
        c.delete()
    with Berth(berth.url, "wrong-key-123456") as wrong:
        with pytest.raises(BerthApiError) as unauth:
            wrong.containers.list()
    assert (unauth.value.code, unauth.value.status) == ("UNAUTHORIZED", 401)
    assert "wrong-key" not in str(unauth.value)


def test_an_id_is_one_path_segment_and_a_wrong_answer_is_a_berth_error(berth):
    # Unquoted, `../pools` would be normalised to /api/pools and its answer taken for a container.
    with pytest.raises(BerthApiError):
        berth.containers.get("../pools")
    with pytest.raises(BerthApiError):
        berth.containers.get("x?y=1#z")


def test_a_malformed_answer_is_a_berth_response_error():
    import http.server

    class Wrong(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"status": 5, "containers": [{"id": 1}]}'
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Wrong)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with Berth(f"http://127.0.0.1:{srv.server_address[1]}", "k") as wrong:
            with pytest.raises(BerthResponseError, match="not ContainerView"):
                wrong.containers.list()
    finally:
        srv.shutdown()
        srv.server_close()


def test_timeouts_and_network_errors():
    # A server that accepts and never answers: the client's timeout ends the call.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    held = []
    threading.Thread(target=lambda: held.append(srv.accept()), daemon=True).start()
    try:
        with Berth(f"http://127.0.0.1:{srv.getsockname()[1]}", "k", timeout=0.3) as slow:
            with pytest.raises(BerthTimeoutError) as t:
                slow.health()
        assert t.value.timeout == 0.3
    finally:
        srv.close()
    with Berth("http://127.0.0.1:1", "k") as closed:
        with pytest.raises(BerthNetworkError):
            closed.health()
