"""`container.setup()`: start a repository setup and wait for it, reporting each new status."""

from __future__ import annotations

import time
from typing import Callable, Optional

from ._transport import Transport
from .errors import BerthTimeoutError, streamed_api_error
from .models import SetupStatus

#: A whole setup (clone, install, build, start) can take minutes (seconds).
SETUP_DEFAULT_TIMEOUT = 15 * 60.0


def get_setup_status(transport: Transport, path: str, timeout: Optional[float] = None) -> SetupStatus:
    return transport.request("GET", f"{path}/setup", timeout=timeout, model=SetupStatus)


def run_setup(
    transport: Transport,
    path: str,
    body: dict,
    on_progress: Optional[Callable[[SetupStatus], None]],
    poll_interval: float,
    timeout: Optional[float],
) -> SetupStatus:
    limit = SETUP_DEFAULT_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + limit
    last_seq = 0

    def seen(s: SetupStatus) -> None:
        nonlocal last_seq
        if s.seq > last_seq:
            last_seq = s.seq
            if on_progress is not None:
                on_progress(s)

    status = transport.request("POST", f"{path}/setup", body, ok=(200, 201, 202), model=SetupStatus)
    seen(status)
    while status.phase not in ("ready", "failed"):
        if time.monotonic() + poll_interval > deadline:
            raise BerthTimeoutError("POST", f"{path}/setup", limit)
        time.sleep(poll_interval)
        status = get_setup_status(transport, path)
        seen(status)
    if status.phase == "failed":
        code = status.error.code if status.error else "INTERNAL"
        err = streamed_api_error(code, status.error.message if status.error else "setup failed", "POST", f"{path}/setup")
        err.setup = status
        raise err
    return status
