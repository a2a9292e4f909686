import time
from datetime import datetime, timedelta, timezone

import pytest

from berth import BerthTimeoutError

pytestmark = pytest.mark.stack


def test_logs_iterator_follow_tail_after(container):
    tag = f"pylog{time.time_ns()}"
    # Output of the container's first process is its log.
    container.exec(f"for i in 1 2 3; do echo {tag}-$i; done > /proc/1/fd/1")
    lines = []
    for _ in range(50):
        lines = [l.line for l in container.logs(follow=False) if l.line.startswith(tag)]
        if len(lines) == 3:
            break
        time.sleep(0.1)
    assert lines == [f"{tag}-1", f"{tag}-2", f"{tag}-3"]

    followed = container.logs(tail=2, timeout=10)
    tail = [next(followed), next(followed)]
    followed.close()
    assert [(l.line, l.stream) for l in tail] == [(f"{tag}-2", "stdout"), (f"{tag}-3", "stdout")]
    assert all(l.id for l in tail)

    # A zone-aware datetime (`+00:00`) survives the query string.
    since = datetime.now(timezone.utc) - timedelta(minutes=5)
    assert f"{tag}-1" in [l.line for l in container.logs(follow=False, since=since)]

    after = container.logs(after=tail[0].id, timeout=1.5)
    assert next(after).line == f"{tag}-3"
    with pytest.raises(BerthTimeoutError):
        next(after)
