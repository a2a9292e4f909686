"""`Berth`: a client for one berth gateway."""

from __future__ import annotations

import os
from typing import List, Optional

from ._transport import DEFAULT_TIMEOUT, Transport
from .container import Containers
from .models import Health, Pool
from .templates import Templates
from .volumes import Volumes


class Pools:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self, *, timeout: Optional[float] = None) -> List[Pool]:
        return self._transport.request("GET", "/api/pools", timeout=timeout, model=Pool, field="pools")


class Berth:
    """A client for one berth gateway. `url` and `api_key` default to `BERTH_URL` and
    `BERTH_API_KEY`; `timeout` (seconds, default 30) applies to every call that does not give its own.
    Errors are BerthApiError (with the contracts' code), BerthTimeoutError, BerthNetworkError or
    BerthResponseError, all BerthError."""

    def __init__(self, url: Optional[str] = None, api_key: Optional[str] = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        url = url or os.environ.get("BERTH_URL")
        api_key = api_key or os.environ.get("BERTH_API_KEY")
        if not url:
            raise ValueError("no berth URL: pass url= or set BERTH_URL")
        if not api_key:
            raise ValueError("no API key: pass api_key= or set BERTH_API_KEY")
        self._transport = Transport(url, api_key, timeout)
        self.containers = Containers(self._transport)
        self.pools = Pools(self._transport)
        self.templates = Templates(self._transport)
        self.volumes = Volumes(self._transport)

    @property
    def url(self) -> str:
        return self._transport.url

    def __repr__(self) -> str:
        return f"Berth(url={self.url!r})"

    def health(self, *, timeout: Optional[float] = None) -> Health:
        """Gateway health; a degraded gateway answers 503 with `status: 'degraded'`, returned as is."""
        return self._transport.request("GET", "/health", ok=(200, 503), timeout=timeout, model=Health)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "Berth":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
