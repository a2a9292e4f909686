"""`berth.templates`: workspace images built from a Dockerfile on every host (docs/templates.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple
from urllib.parse import quote, urlencode

from pydantic import ValidationError

from ._transport import Transport
from .errors import BerthApiError, BerthResponseError, streamed_api_error
from .files import FileData, body_chunks
from .models import TemplateDeleted, TemplateInfo, TemplateList, TemplateOnHost

#: A build runs two image builds per host: each wait for its output is bounded by this (seconds).
TEMPLATE_BUILD_DEFAULT_TIMEOUT = 15 * 60.0

OnBuildOutput = Callable[[str, str], None]


@dataclass
class TemplateBuildResult:
    name: str
    #: The template on each host it was built on (a create can use it there).
    built: List[TemplateOnHost] = field(default_factory=list)
    #: Hosts whose build failed: (host id, why).
    failed: List[Tuple[str, BerthApiError]] = field(default_factory=list)


def _event(line: str, path: str, status: int) -> dict:
    try:
        e = json.loads(line)
        if not isinstance(e, dict) or not isinstance(e.get("type"), str):
            raise TypeError
        return e
    except (ValueError, TypeError):
        raise BerthResponseError("POST", path, status, "a stream line is not a TemplateBuildEvent") from None


class Templates:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def build(self, name: str, *, dockerfile: Optional[str] = None, context: Optional[FileData] = None,
              on_output: Optional[OnBuildOutput] = None, timeout: Optional[float] = None) -> TemplateBuildResult:
        """Builds the template on every host from `dockerfile` (its text, an empty context) or
        `context` (an uncompressed tar with a `Dockerfile` at its root), each host's output to
        `on_output(data, host_id)` as it comes. Returns when every host is done; raises the first
        host's error when no host built it (a refused Dockerfile, name or base raises at once)."""
        if (dockerfile is None) == (context is None):
            raise ValueError("give one of dockerfile= or context=")
        limit = TEMPLATE_BUILD_DEFAULT_TIMEOUT if timeout is None else timeout
        headers = {"accept": "application/x-ndjson"}
        if dockerfile is not None:
            path, body, content = "/api/templates", {"name": name, "dockerfile": dockerfile}, None
        else:
            path, body, content = f"/api/templates?{urlencode({'name': name})}", None, body_chunks(context)
            headers["content-type"] = "application/x-tar"
        result = TemplateBuildResult(name)
        with self._transport.open("POST", path, body, headers, timeout=limit, read_timeout=limit, content=content) as res:
            for line in res.iter_lines():
                if not line.strip():
                    continue
                e = _event(line, path, res.status_code)
                kind, output = e["type"], None
                try:
                    if kind == "output":
                        output = (str(e["data"]), str(e["hostId"]))
                    elif kind == "built":
                        result.built.append(TemplateOnHost.model_validate(e["template"]))
                    elif kind == "failed":
                        err = e["error"]
                        why = streamed_api_error(str(err["code"]), str(err["message"]), "POST", path, err.get("retryable"))
                        result.failed.append((str(e["hostId"]), why))
                    elif kind == "done":
                        if not result.built and result.failed:
                            raise result.failed[0][1]
                        return result
                except (KeyError, TypeError, ValidationError):
                    raise BerthResponseError("POST", path, res.status_code, "an event is not a TemplateBuildEvent") from None
                if output is not None and on_output is not None:
                    on_output(*output)
        raise BerthResponseError("POST", path, 200, "the stream ended before the build was done")

    def list(self, *, timeout: Optional[float] = None) -> TemplateList:
        """Your templates, each with the hosts it is built on, and the per-host limit."""
        return self._transport.request("GET", "/api/templates", timeout=timeout, model=TemplateList)

    def get(self, name: str, *, timeout: Optional[float] = None) -> TemplateInfo:
        """One of your templates (TEMPLATE_NOT_FOUND otherwise)."""
        return self._transport.request("GET", f"/api/templates/{quote(name, safe='')}", timeout=timeout, model=TemplateInfo)

    def delete(self, name: str, *, timeout: Optional[float] = None) -> TemplateDeleted:
        """Deletes it on every host: new workspaces cannot use it, running ones keep it."""
        return self._transport.request("DELETE", f"/api/templates/{quote(name, safe='')}", timeout=timeout, model=TemplateDeleted)

