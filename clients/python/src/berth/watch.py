"""`container.files.watch()`: a directory's changes as Server-Sent Events, resumed with Last-Event-ID."""

from __future__ import annotations

import json
import time
from typing import Iterator, Optional

from pydantic import ValidationError

from ._transport import Transport
from .errors import BerthApiError, BerthNetworkError, BerthResponseError, streamed_api_error
from .logs import LOGS_RECONNECT, sse_events
from .models import FileWatchEvent


def _error_event(data: str, path: str, status: int) -> BerthApiError:
    try:
        e = json.loads(data)["error"]
        return streamed_api_error(str(e["code"]), str(e["message"]), "GET", path, e.get("retryable"))
    except (ValueError, KeyError, TypeError):
        raise BerthResponseError("GET", path, status, "an error event without an error body") from None


def watch_files(transport: Transport, path: str, after: Optional[str], timeout: Optional[float]) -> Iterator[FileWatchEvent]:
    last_id, failures = after, 0
    while True:
        headers = {"accept": "text/event-stream"}
        if last_id is not None:
            headers["last-event-id"] = last_id
        try:
            with transport.open("GET", path, headers=headers, timeout=timeout, read_timeout=timeout) as res:
                for e in sse_events(res.iter_lines()):
                    if e.get("event") == "error":
                        raise _error_event(e["data"], path, res.status_code)
                    try:
                        event = FileWatchEvent.model_validate({**json.loads(e["data"]), "id": e["id"]})
                    except (ValueError, KeyError, ValidationError):
                        raise BerthResponseError("GET", path, res.status_code, "a watch event is not a FileWatchEvent") from None
                    failures = 0
                    last_id = event.id
                    yield event
                    if event.kind == "end":
                        return
        except (BerthNetworkError, BerthApiError) as err:
            if isinstance(err, BerthApiError) and not err.retryable:
                raise
            failures += 1
            if failures > LOGS_RECONNECT["attempts"]:
                raise
        # The stream ended without an `end` event: the connection dropped; resume after the last event.
        time.sleep(min(LOGS_RECONNECT["max_delay"], LOGS_RECONNECT["delay"] * 2 ** max(0, failures - 1)))
