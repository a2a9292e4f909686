"""HTTP to the gateway: the bearer key, deadlines, and every failure mapped to a BerthError."""

from __future__ import annotations

import contextlib
import json
from typing import Any, Dict, Iterable, Iterator, Optional, Sequence, Type, Union

import httpx
from pydantic import BaseModel

from .errors import BerthApiError, BerthNetworkError, BerthResponseError, BerthTimeoutError

DEFAULT_TIMEOUT = 30.0


class Transport:
    def __init__(self, url: str, api_key: str, timeout: float, http: Optional[httpx.Client] = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        # The key lives only in the client's default headers: never in errors, URLs or repr().
        self._http = http or httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {api_key}"}, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Optional[Dict[str, str]] = None,
        ok: Sequence[int] = (200,),
        timeout: Optional[float] = None,
        model: Optional[Type[BaseModel]] = None,
        field: Optional[str] = None,
    ) -> Any:
        """One call; answers the JSON body of an `ok` status (its `field` when given) as `model` (a
        list of them for a list), raises a BerthError otherwise: a body that does not fit `model` is a
        BerthResponseError, never a pydantic error."""
        limit = self.timeout if timeout is None else timeout
        with self.open(method, path, body, headers, limit, read_timeout=limit) as res:
            res.read()
            if res.status_code not in ok:
                raise api_error(res, method, path)
            return parse_answer(res, method, path, model, field)

    @contextlib.contextmanager
    def open(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Optional[Dict[str, str]] = None,
        timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        content: Union[bytes, Iterable[bytes], None] = None,
    ) -> Iterator[httpx.Response]:
        """A streamed response; a non-2xx is raised as its BerthApiError. `timeout` bounds connecting
        and each read (`read_timeout`, None = wait as long as the stream is open). `content` is a raw
        body (bytes, or chunks sent as they come), instead of `body` as JSON."""
        limit = self.timeout if timeout is None else timeout
        t = httpx.Timeout(limit, read=read_timeout)
        if body is not None:
            content = json.dumps(body).encode()
        h = {"content-type": "application/json"} if body is not None else {}
        h.update(headers or {})
        try:
            with self._http.stream(method, path, content=content, headers=h, timeout=t) as res:
                if res.status_code >= 300:
                    res.read()
                    raise api_error(res, method, path)
                yield res
        except httpx.TimeoutException:
            raise BerthTimeoutError(method, path, limit) from None
        except httpx.TransportError as err:
            raise BerthNetworkError(f"{method} {path} failed: {type(err).__name__}") from None


def parse_answer(
    res: httpx.Response, method: str, path: str, model: Optional[Type[BaseModel]] = None, field: Optional[str] = None
) -> Any:
    """The JSON body of a read answer (its `field` when given) as `model` (a list of them for a
    list); a body that does not fit is a BerthResponseError, never a pydantic error."""
    if res.status_code == 204 or not res.content:
        return None
    try:
        data = res.json()
        if field is not None:
            data = data[field]
        if model is None:
            return data
        return [model.model_validate(v) for v in data] if isinstance(data, list) else model.model_validate(data)
    except (ValueError, KeyError, TypeError) as err:  # ValidationError is a ValueError
        problem = f"not {model.__name__ if model else 'JSON'}: {type(err).__name__}"
        raise BerthResponseError(method, path, res.status_code, problem) from None


def api_error(res: httpx.Response, method: str, path: str) -> BerthApiError | BerthResponseError:
    """The error body `{error: {code, message, retryable, retryAfterSeconds?, details?}}` as an exception."""
    try:
        e = res.json()["error"]
        code, message = str(e["code"]), str(e["message"])
    except (ValueError, KeyError, TypeError):
        return BerthResponseError(method, path, res.status_code, "an error answer without an error body")
    retry_after = e.get("retryAfterSeconds")
    if retry_after is None and res.headers.get("retry-after", "").isdigit():
        retry_after = int(res.headers["retry-after"])
    request_id = e.get("requestId") or res.headers.get("x-request-id")
    return BerthApiError(
        code, message, res.status_code, bool(e.get("retryable", False)), retry_after, e.get("details"), method, path, request_id
    )
