"""`container.exec`: plain (one JSON answer) or streaming (NDJSON events as the output happens)."""

from __future__ import annotations

import json
from typing import Callable, Dict, List, Optional, Union

from ._transport import Transport
from .errors import BerthResponseError, streamed_api_error
from .models import ExecResult

#: How much longer than the command's own timeout the client waits for its answer (as the TS SDK).
EXEC_ANSWER_MARGIN = 10.0
#: The server's default command timeout, seconds.
EXEC_DEFAULT_TIMEOUT = 30.0
#: Each stream is kept up to this many bytes, as the plain answer (EXEC_OUTPUT_CAP_BYTES).
EXEC_OUTPUT_CAP_BYTES = 1024 * 1024

Command = Union[str, List[str]]
OnOutput = Callable[[str], None]


def exec_command(
    transport: Transport,
    path: str,
    command: Command,
    timeout: Optional[float],
    env: Optional[Dict[str, str]],
    cwd: Optional[str],
    on_stdout: Optional[OnOutput],
    on_stderr: Optional[OnOutput],
) -> ExecResult:
    body: dict = {"command": command}
    if timeout is not None:
        body["timeout"] = int(timeout * 1000)
    if env is not None:
        body["env"] = env
    if cwd is not None:
        body["cwd"] = cwd
    wait = (EXEC_DEFAULT_TIMEOUT if timeout is None else timeout) + EXEC_ANSWER_MARGIN
    if on_stdout is None and on_stderr is None:
        return transport.request("POST", f"{path}/exec", body, timeout=wait, model=ExecResult)
    return _streaming(transport, f"{path}/exec?stream=true", body, wait, on_stdout, on_stderr)


class _Capped:
    def __init__(self) -> None:
        self.parts: List[str] = []
        self.size = 0
        self.truncated = False

    def add(self, data: str) -> None:
        n = len(data.encode())
        if self.truncated or self.size + n > EXEC_OUTPUT_CAP_BYTES:
            self.truncated = True
            return
        self.parts.append(data)
        self.size += n


def _streaming(
    transport: Transport, path: str, body: dict, wait: float, on_stdout: Optional[OnOutput], on_stderr: Optional[OnOutput]
) -> ExecResult:
    out = {"stdout": _Capped(), "stderr": _Capped()}
    callbacks = {"stdout": on_stdout, "stderr": on_stderr}
    with transport.open("POST", path, body, {"accept": "application/x-ndjson"}, timeout=wait, read_timeout=wait) as res:
        for line in res.iter_lines():
            if not line.strip():
                continue
            try:
                e = json.loads(line)
                kind = e["type"]
            except (ValueError, KeyError, TypeError):
                raise BerthResponseError("POST", path, res.status_code, "a stream line is not an exec event") from None
            if kind == "error":
                err = e.get("error") or {}
                raise streamed_api_error(str(err.get("code", "INTERNAL")), str(err.get("message", "")), "POST", path, err.get("retryable"))
            if kind == "exit":
                so, se = out["stdout"], out["stderr"]
                return ExecResult(
                    exit_code=e.get("exitCode"), timed_out=bool(e.get("timedOut")), duration_ms=int(e.get("durationMs", 0)),
                    stdout="".join(so.parts), stderr="".join(se.parts),
                    stdout_truncated=so.truncated, stderr_truncated=se.truncated, truncated=so.truncated or se.truncated,
                )
            if kind in out:
                out[kind].add(str(e.get("data", "")))
                cb = callbacks[kind]
                if cb is not None:
                    cb(str(e.get("data", "")))
        raise BerthResponseError("POST", path, res.status_code, "the stream ended before the command's exit")
