"""A claimed workspace, and `berth.containers`: create, get, list, delete."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Callable, Dict, Iterator, List, Optional, Union
from urllib.parse import quote

from ._transport import Transport
from .exec import Command, OnOutput, exec_command
from .files import Files
from .logs import stream_logs
from .models import ContainerView, ExecResult, LogLine, SetupStatus
from .previews import Previews
from .setup import get_setup_status, run_setup


def container_path(id: str) -> str:
    return f"/api/containers/{quote(id, safe='')}"


class Commands:
    """E2B's shape: `container.commands.run(...)` is `container.exec(...)`."""

    def __init__(self, container: "Container") -> None:
        self._container = container

    def run(self, command: Command, *, timeout: Optional[float] = None, envs: Optional[Dict[str, str]] = None,
            cwd: Optional[str] = None, on_stdout: Optional[OnOutput] = None, on_stderr: Optional[OnOutput] = None) -> ExecResult:
        return self._container.exec(command, timeout=timeout, env=envs, cwd=cwd, on_stdout=on_stdout, on_stderr=on_stderr)


class Container:
    """A claimed workspace. Fields reflect the last answer; `refresh()` reads them again."""

    def __init__(self, transport: Transport, view: ContainerView, warm: Optional[bool] = None) -> None:
        self._transport = transport
        self.view = view
        #: True when it came from the warm pool; known only for a container this client created.
        self.warm = warm
        self.commands = Commands(self)
        #: Its files, as the workspace user (docs/files.md).
        self.files = Files(transport, container_path(view.id))
        #: Preview URLs of its published ports: `url(port)`, `share(port)`, `revoke(preview_id)`.
        self.previews = Previews(transport, container_path(view.id))

    def __getattr__(self, name: str) -> Any:
        # id, name, pool, image, state, host_port, ports, created_at, ... come from the view.
        return getattr(self.__dict__["view"], name)

    def __repr__(self) -> str:
        return f"Container(id={self.view.id!r}, name={self.view.name!r}, state={self.view.state!r})"

    @property
    def _path(self) -> str:
        return container_path(self.view.id)

    def exec(self, command: Command, *, timeout: Optional[float] = None, env: Optional[Dict[str, str]] = None,
             cwd: Optional[str] = None, on_stdout: Optional[OnOutput] = None, on_stderr: Optional[OnOutput] = None) -> ExecResult:
        """Runs a command and waits for it. A string runs under `sh -c`, a list as argv. `timeout`
        (seconds) is the command's own; one that runs out resolves with `timed_out=True`, never
        retried. With `on_stdout`/`on_stderr` the output arrives as it happens (the streaming API)."""
        return exec_command(self._transport, self._path, command, timeout, env, cwd, on_stdout, on_stderr)

    def logs(self, *, follow: bool = True, tail: Optional[int] = None, since: Union[datetime, str, None] = None,
             after: Optional[str] = None, timeout: Optional[float] = None) -> Iterator[LogLine]:
        """The container's output. Following (the default), it reconnects after a dropped
        connection and resumes right after the last line seen. `follow=False` reads what is stored."""
        return stream_logs(self._transport, self._path, follow, tail, since, after, timeout)

    def setup(self, repo: str, branch: str, *, on_progress: Optional[Callable[[SetupStatus], None]] = None,
              poll_interval: float = 1.0, timeout: Optional[float] = None, **fields: Any) -> SetupStatus:
        """Sets the workspace up from a repository and waits until `ready`; `on_progress` sees each
        new status once. Other body fields by their API names: `githubToken`, `callbackUrl`,
        `callbackSecret`, `envVars`, `installCommand`, ... A failed setup raises BerthApiError with
        its code and `.setup` (the failed status)."""
        body = {"repo": repo, "branch": branch, **{k: v for k, v in fields.items() if v is not None}}
        return run_setup(self._transport, self._path, body, on_progress, poll_interval, timeout)

    def setup_status(self, *, timeout: Optional[float] = None) -> SetupStatus:
        """The latest setup status (SETUP_NOT_FOUND when none was started)."""
        return get_setup_status(self._transport, self._path, timeout)

    def refresh(self, *, timeout: Optional[float] = None) -> "Container":
        self.view = self._transport.request("GET", self._path, timeout=timeout, model=ContainerView)
        return self

    def pause(self, *, timeout: Optional[float] = None) -> "Container":
        """Freezes the container's processes and takes its memory out of the host budget; files,
        ports, setup and LLM key stay. A command for it resumes it unless its autoResume is off."""
        self.view = self._transport.request("POST", f"{self._path}/pause", timeout=timeout, model=ContainerView)
        return self

    def resume(self, *, timeout: Optional[float] = None) -> "Container":
        """Thaws a paused container (CAPACITY_EXHAUSTED when the host has no room for it now)."""
        self.view = self._transport.request("POST", f"{self._path}/resume", timeout=timeout, model=ContainerView)
        return self

    def delete(self, *, timeout: Optional[float] = None) -> None:
        """Removes the container and releases its host ports."""
        self._transport.request("DELETE", self._path, ok=(200, 204), timeout=timeout)


class Containers:
    """`berth.containers`: the caller's claimed workspaces."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(self, *, idempotency_key: Optional[str] = None, timeout: Optional[float] = None, **body: Any) -> Container:
        """Claims a warm container from a pool, or cold-creates one. Body fields by their API names
        (`name`, `pool`, `image`, `env`, ...). A retried create with the same `idempotency_key`
        returns the same container (a random key is sent when none is given)."""
        view = self._transport.request(
            "POST", "/api/containers", {k: v for k, v in body.items() if v is not None},
            headers={"idempotency-key": idempotency_key or str(uuid.uuid4())}, ok=(201,), timeout=timeout, model=ContainerView,
        )
        return Container(self._transport, view, (view.model_extra or {}).get("warm"))

    def get(self, id: str, *, timeout: Optional[float] = None) -> Container:
        return Container(self._transport, self._transport.request("GET", container_path(id), timeout=timeout, model=ContainerView))

    def list(self, *, timeout: Optional[float] = None) -> List[Container]:
        views = self._transport.request("GET", "/api/containers", timeout=timeout, model=ContainerView, field="containers")
        return [Container(self._transport, v) for v in views]

    def delete(self, id: str, *, timeout: Optional[float] = None) -> None:
        """Removes a container by id; a missing one raises BerthApiError CONTAINER_NOT_FOUND."""
        self._transport.request("DELETE", container_path(id), ok=(200, 204), timeout=timeout)
