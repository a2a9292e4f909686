"""`container.logs()`: an iterator over log lines; following, it reconnects with Last-Event-ID."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Iterator, Optional, Union
from urllib.parse import urlencode

from pydantic import ValidationError

from ._transport import Transport
from .errors import BerthApiError, BerthNetworkError, BerthResponseError
from .models import LogLine

#: Reconnects in a row without any line in between before the last error is raised; first delay, cap (seconds).
LOGS_RECONNECT = {"attempts": 10, "delay": 0.25, "max_delay": 5.0}


def _query(follow: bool, tail: Optional[int], since: Union[datetime, str, None]) -> dict:
    q: dict = {}
    if not follow:
        q["follow"] = "false"
    if tail is not None:
        q["tail"] = str(tail)
    if since is not None:
        # The API takes UTC with a Z; a naive datetime is local time.
        q["since"] = since if isinstance(since, str) else since.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return q


def sse_events(lines: Iterator[str]) -> Iterator[dict]:
    """SSE framing: `field: value` lines, a blank line ends an event; comments (`:`) are skipped."""
    event: dict = {}
    data: list = []
    for line in lines:
        if line == "":
            if data:
                yield {**event, "data": "\n".join(data)}
            event, data = {}, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field in ("event", "id"):
            event[field] = value


def stream_logs(
    transport: Transport,
    path: str,
    follow: bool = True,
    tail: Optional[int] = None,
    since: Union[datetime, str, None] = None,
    after: Optional[str] = None,
    timeout: Optional[float] = None,
) -> Iterator[LogLine]:
    """`timeout` bounds connecting and each wait for a line (None: wait as long as the stream is open)."""
    path = f"{path}/logs"
    params = _query(follow, tail, since)
    if params:
        path += "?" + urlencode(params)
    if not follow:
        with transport.open("GET", path, headers={"accept": "text/plain"}, timeout=timeout, read_timeout=timeout) as res:
            for line in res.iter_lines():
                yield LogLine(line=line)
        return
    last_id, failures = after, 0
    while True:
        headers = {"accept": "text/event-stream"}
        if last_id is not None:
            headers["last-event-id"] = last_id
        try:
            with transport.open("GET", path, headers=headers, timeout=timeout, read_timeout=timeout) as res:
                for e in sse_events(res.iter_lines()):
                    # berth's log events are unnamed (`message`); older gateways named them `log`.
                    if e.get("event", "message") not in ("log", "message"):
                        continue
                    try:
                        line = LogLine.model_validate({**json.loads(e["data"]), **({"id": e["id"]} if "id" in e else {})})
                    except (ValueError, ValidationError):
                        raise BerthResponseError("GET", path, res.status_code, "a log event is not a LogEvent") from None
                    failures = 0
                    last_id = line.id or last_id
                    yield line
        except (BerthNetworkError, BerthApiError) as err:
            if isinstance(err, BerthApiError) and not err.retryable:
                raise
            failures += 1
            if failures > LOGS_RECONNECT["attempts"]:
                raise
        # A followed stream ends only when the connection does: resume after the last line.
        time.sleep(min(LOGS_RECONNECT["max_delay"], LOGS_RECONNECT["delay"] * 2 ** max(0, failures - 1)))
