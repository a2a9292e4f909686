"""`container.previews`: URLs of a workspace's published ports (docs/previews.md)."""

from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from ._transport import Transport
from .models import CreatedPreview


class Previews:
    """`url(port)` is the path form, opened with your API key (the `authorization` header);
    `share(port)` makes a link that works without a key until it expires or is revoked."""

    def __init__(self, transport: Transport, container_path: str) -> None:
        self._transport = transport
        self._container_path = container_path

    def url(self, port: int, path: str = "/") -> str:
        """The path-form URL of `port` (and `path` in it), for requests that carry your API key."""
        return f"{self._transport.url}{self._container_path}/preview/{int(port)}{path if path.startswith('/') else '/' + path}"

    def share(self, port: int, *, expires_in_seconds: Optional[int] = None, timeout: Optional[float] = None) -> CreatedPreview:
        """A link that opens `port` without an API key for `expires_in_seconds` (1 h by default, at
        most 7 days). Not retried: a retried create would mint a second link."""
        body = {"port": port, **({} if expires_in_seconds is None else {"expiresInSeconds": expires_in_seconds})}
        return self._transport.request("POST", f"{self._container_path}/previews", body, ok=(201,), timeout=timeout, model=CreatedPreview)

    def revoke(self, preview_id: str, *, timeout: Optional[float] = None) -> None:
        """Revokes a share link at once (PREVIEW_NOT_FOUND when unknown, expired or already revoked)."""
        self._transport.request("DELETE", f"{self._container_path}/previews/{quote(preview_id, safe='')}", timeout=timeout)
