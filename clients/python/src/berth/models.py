"""The API's answers as pydantic models: the fields of packages/contracts' JSON Schemas, snake_case
in Python (camelCase on the wire). Unknown fields are kept, so a newer server does not break an
older client; tests/test_models.py fails when a schema gains a field a model lacks."""

from __future__ import annotations

from typing import Dict, List, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True)


class ContainerView(_Model):
    id: str
    name: str
    pool: str
    image: str
    state: str
    host_port: Optional[int] = None
    ports: Dict[str, int] = {}
    created_at: str
    claimed_at: Optional[str] = None
    last_active_at: Optional[str] = None
    volume_name: Optional[str] = None


class ExecResult(_Model):
    exit_code: Optional[int] = None
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    truncated: bool = False
    timed_out: bool = False
    duration_ms: int = 0


class SetupError(_Model):
    code: str
    message: str


class SetupStatus(_Model):
    id: str
    seq: int
    phase: Literal["queued", "cloning", "installing", "starting", "ready", "failed"]
    repo: str
    branch: str
    sha: Optional[str] = None
    source: Optional[str] = None
    at: str
    started_at: str
    durations: Dict[str, int] = {}
    error: Optional[SetupError] = None
    log_tail: Optional[str] = None


class LogLine(_Model):
    """One line (or piece of a long line) of container output. `id` is opaque: pass it as `after`."""

    line: str
    stream: Optional[str] = None
    time: Optional[str] = None
    timestamp: Optional[int] = None  # `time` in ms since the epoch
    continued: Optional[bool] = None
    phase: Optional[str] = None  # on stream "setup": the setup phase the line belongs to
    id: Optional[str] = None


class Health(_Model):
    status: str
    container_count: Optional[int] = None
    uptime: Optional[float] = None
    version: Optional[str] = None


class Pool(_Model):
    name: str
    image: str
    repo: Optional[str] = None
    template: Optional[str] = None
    owner: Optional[str] = None
    target_size: int
    min_size: Optional[int] = None
    max_creating: Optional[int] = None
    container_ports: List[int] = []
    cpus: Optional[float] = None
    memory_mb: Optional[int] = None
    pids: Optional[int] = None
    warm: int = 0
    creating: int = 0
    claimed: int = 0


class FileEntry(_Model):
    """A file or directory of a workspace. `mode` is the permission bits (420 is 0o644)."""

    path: str
    name: str
    type: Literal["file", "directory", "symlink", "other"]
    size: int
    mode: int
    mtime: str


class FileList(_Model):
    entries: List[FileEntry]
    truncated: bool


class FileWatchEvent(_Model):
    """One event of `files.watch()`: `kind` created/modified/deleted (with `path`, `type`, `size`,
    `mtime`), `overflow` (`count`: list again), `reset` (`reason`: events may be missing, list
    again) or `end` (`reason`: the iteration stops). `id` resumes after it (`after=`)."""

    kind: Literal["created", "modified", "deleted", "overflow", "reset", "end"]
    id: str
    path: Optional[str] = None
    type: Optional[str] = None
    size: Optional[int] = None
    mtime: Optional[str] = None
    count: Optional[int] = None
    reason: Optional[str] = None


class CreatedPreview(_Model):
    """A share link: `url` opens the port without an API key until `expires_at` or a revoke."""

    preview_id: str
    id: str
    port: int
    expires_at: str
    #: Holds the link's secret: kept out of repr() (and so out of logs that print the object).
    url: str = Field(repr=False)


class TemplateOnHost(_Model):
    host_id: str
    image: str
    image_id: str
    created_at: str
    tree: bool


class TemplateInfo(_Model):
    name: str
    hosts: List[TemplateOnHost]


class TemplateList(_Model):
    templates: List[TemplateInfo]
    count: int
    limit: int


class TemplateDeleted(_Model):
    name: str
    removed: bool
    hosts: List[str]


class Volume(_Model):
    name: str
    created_at: Optional[str] = None
    in_use: bool


class VolumeList(_Model):
    volumes: List[Volume]
    count: int
    limit: int
    next_cursor: Optional[str] = None
