"""`berth.volumes`: the caller's named volumes (made by `volumeName` on a create)."""

from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from ._transport import Transport
from .models import VolumeList


class Volumes:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self, *, timeout: Optional[float] = None) -> VolumeList:
        """Your volumes, with whether a container mounts them, and your limit."""
        return self._transport.request("GET", "/api/volumes", timeout=timeout, model=VolumeList)

    def delete(self, name: str, *, timeout: Optional[float] = None) -> None:
        """Removes a volume and its data; VOLUME_IN_USE while a container mounts it."""
        self._transport.request("DELETE", f"/api/volumes/{quote(name, safe='')}", timeout=timeout)
