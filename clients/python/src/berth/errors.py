"""Errors of the berth client. Every one is a BerthError; API errors carry the contracts' code."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional


class BerthError(Exception):
    """Base of every error this client raises."""


class BerthApiError(BerthError):
    """berth answered with an error body: `code` is one of packages/contracts' ERROR_CODES."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int,
        retryable: bool = False,
        retry_after_seconds: Optional[float] = None,
        details: Any = None,
        method: str = "",
        path: str = "",
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(f"{code}: {message} ({method} {path}, HTTP {status})")
        self.code = code
        self.status = status
        self.retryable = retryable
        self.retry_after_seconds = retry_after_seconds
        self.details = details
        self.method = method
        self.path = path
        #: The request's id (its X-Request-Id answer header), to quote when reporting a problem.
        self.request_id = request_id
        #: For a failed setup: its last status (with `error` and `log_tail`).
        self.setup: Any = None


class BerthTimeoutError(BerthError):
    """The call did not finish within its timeout (seconds)."""

    def __init__(self, method: str, path: str, timeout: float) -> None:
        super().__init__(f"{method} {path} timed out after {timeout} s")
        self.timeout = timeout


class BerthNetworkError(BerthError):
    """No HTTP answer at all: connection refused or reset, DNS, TLS."""


class BerthResponseError(BerthError):
    """An answer that is not what the contracts promise (not JSON, or not the expected shape)."""

    def __init__(self, method: str, path: str, status: int, problem: str) -> None:
        super().__init__(f"malformed response from berth to {method} {path} (HTTP {status}): {problem}")
        self.status = status


def _load_codes() -> Dict[str, Dict[str, Any]]:
    from importlib.resources import files

    return json.loads(files(__package__).joinpath("error_codes.json").read_text("utf-8"))


#: Every code berth returns, with its HTTP status and whether a retry can succeed (packages/contracts).
ERROR_CODES: Dict[str, Dict[str, Any]] = _load_codes()


def streamed_api_error(code: str, message: str, method: str, path: str, retryable: Optional[bool] = None) -> BerthApiError:
    """An error that arrived inside a stream or a failed setup: the status is the one its code maps to."""
    known = ERROR_CODES.get(code) or ERROR_CODES["INTERNAL"]
    return BerthApiError(code, message, int(known["status"]), known["retryable"] if retryable is None else retryable, method=method, path=path)
