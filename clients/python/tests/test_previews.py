import os
import time

import httpx
import pytest

from berth import BerthApiError

pytestmark = pytest.mark.stack

SERVER_JS = "require('http').createServer((q, s) => s.end('hi from ' + q.url)).listen(3000)\n"


@pytest.fixture(scope="module")
def served(berth):
    c = berth.containers.create()
    c.files.write("/tmp/srv.js", SERVER_JS)
    c.exec("nohup node /tmp/srv.js >/tmp/srv.log 2>&1 </dev/null &")
    yield c
    c.delete()


def get(url, **headers):
    deadline = time.monotonic() + 15
    while True:
        r = httpx.get(url, headers=headers, follow_redirects=False)
        # 502: nothing listens on the port yet.
        if r.status_code != 502 or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def test_the_path_form_url_reaches_the_workspace_server_with_the_key(served):
    url = served.previews.url(3000, "page?q=1")
    assert url == f"{served.previews.url(3000)}page?q=1"
    r = get(url, authorization=f"Bearer {os.environ['BERTH_API_KEY']}")
    assert (r.status_code, r.text) == (200, "hi from /page?q=1")
    assert get(url).status_code == 401


def test_a_share_link_works_without_the_key_until_revoked(served):
    link = served.previews.share(3000, expires_in_seconds=600)
    assert (link.id, link.port) == (served.id, 3000)
    assert link.preview_id.startswith("pv_")
    assert link.url not in repr(link)
    r = get(link.url + "shared")
    assert (r.status_code, r.text) == (200, "hi from /shared")
    served.previews.revoke(link.preview_id)
    assert get(link.url).status_code in (401, 404)
    with pytest.raises(BerthApiError) as again:
        served.previews.revoke(link.preview_id)
    assert again.value.code == "PREVIEW_NOT_FOUND"
    with pytest.raises(BerthApiError) as unpublished:
        served.previews.share(3999)
    assert unpublished.value.status in (400, 404)
