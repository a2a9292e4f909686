"""`container.files`: a workspace's files over HTTP (docs/files.md), as the workspace user."""

from __future__ import annotations

from typing import IO, Any, Dict, Iterable, Iterator, Optional, Tuple, Union
from urllib.parse import urlencode

from ._transport import Transport, parse_answer
from .models import FileEntry, FileList, FileWatchEvent
from .watch import watch_files

TAR = "application/x-tar"
#: Bytes read from a file-like object per chunk of an upload.
UPLOAD_CHUNK_BYTES = 1024 * 1024

#: bytes or str (UTF-8) whole, a binary file-like object (read in chunks), or an iterable of byte chunks.
FileData = Union[bytes, bytearray, str, IO[bytes], Iterable[bytes]]
#: (start, end) inclusive, or (start, None) / start alone: to the end of the file.
ByteRange = Union[int, Tuple[int, Optional[int]]]


def body_chunks(data: FileData) -> Union[bytes, Iterable[bytes]]:
    """A raw request body: bytes whole, anything else as chunks sent as they are read."""
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    read = getattr(data, "read", None)
    if read is not None:
        return iter(lambda: read(UPLOAD_CHUNK_BYTES), b"")
    return data


def _range_header(range: Optional[ByteRange]) -> Dict[str, str]:
    if range is None:
        return {}
    start, end = (range, None) if isinstance(range, int) else range
    return {"range": f"bytes={start}-{'' if end is None else end}"}


class Files:
    """The workspace's files, as its user: paths are absolute or relative to /workspace. Errors are
    BerthApiErrors with codes such as FILE_NOT_FOUND, NOT_A_DIRECTORY or FILE_TOO_LARGE."""

    def __init__(self, transport: Transport, container_path: str) -> None:
        self._transport = transport
        self._base = f"{container_path}/files"

    def _limit(self, timeout: Optional[float]) -> float:
        # Each read of a transfer waits at most the call's timeout, else the client's default.
        return self._transport.timeout if timeout is None else timeout

    def _path(self, route: str, **query: Any) -> str:
        q = {k: v for k, v in query.items() if v is not None}
        return f"{self._base}{route}?{urlencode(q)}"

    def read(self, path: str, *, range: Optional[ByteRange] = None, timeout: Optional[float] = None) -> bytes:
        """The file's bytes, or `range` of them: `(start, end)` inclusive, or `start` to the end."""
        route, headers = self._path("", path=path), _range_header(range)
        with self._transport.open("GET", route, headers=headers, timeout=timeout, read_timeout=self._limit(timeout)) as res:
            return res.read()

    def read_text(self, path: str, *, range: Optional[ByteRange] = None, timeout: Optional[float] = None) -> str:
        """The file's text (UTF-8; an undecodable byte becomes U+FFFD)."""
        return self.read(path, range=range, timeout=timeout).decode("utf-8", errors="replace")

    def read_stream(self, path: str, *, timeout: Optional[float] = None) -> Iterator[bytes]:
        """The file's bytes in chunks as they arrive (nothing held in memory); close the iterator to stop early."""
        return self._stream("GET", self._path("", path=path), {}, timeout)

    def write(self, path: str, data: FileData, *, mode: Optional[int] = None, timeout: Optional[float] = None) -> FileEntry:
        """Writes the file whole (parent directories made); it appears only once complete. `mode` is
        the permission bits, e.g. 0o755 (default 0o644). A file-like object or an iterable of chunks is
        streamed, never read whole."""
        query = self._path("", path=path, mode=None if mode is None else format(mode, "03o"))
        return self._put(query, data, "application/octet-stream", timeout)

    def upload(self, dir: str, tar: FileData, *, timeout: Optional[float] = None) -> FileEntry:
        """Unpacks an (uncompressed) tar archive into the directory `dir`, made when missing."""
        return self._put(self._path("", path=dir), tar, TAR, timeout)

    def download(self, dir: str, *, timeout: Optional[float] = None) -> Iterator[bytes]:
        """The directory `dir` as a tar stream, in chunks as they arrive."""
        return self._stream("GET", self._path("", path=dir), {"accept": TAR}, timeout)

    def list(self, path: str, *, depth: Optional[int] = None, timeout: Optional[float] = None) -> FileList:
        """The directory's entries, `depth` levels deep (1 to 32, default 1), sorted per directory."""
        return self._transport.request("GET", self._path("/list", path=path, depth=depth), timeout=timeout, model=FileList)

    def remove(self, path: str, *, recursive: Optional[bool] = None, timeout: Optional[float] = None) -> None:
        """Removes a file, a link or a directory (recursively unless `recursive=False`: then
        DIRECTORY_NOT_EMPTY for a directory with entries)."""
        flag = None if recursive is None else str(recursive).lower()
        self._transport.request("DELETE", self._path("", path=path, recursive=flag), timeout=timeout)

    def move(self, src: str, dst: str, *, timeout: Optional[float] = None) -> FileEntry:
        """Moves (renames) a file or directory; answers the entry at `dst`."""
        return self._transport.request("POST", f"{self._base}/move", {"from": src, "to": dst}, timeout=timeout, model=FileEntry)

    #: E2B's name for `move`.
    rename = move

    def mkdir(self, path: str, *, timeout: Optional[float] = None) -> FileEntry:
        """Makes the directory and its parents (FILE_EXISTS when a file is there)."""
        return self._transport.request("POST", f"{self._base}/mkdir", {"path": path}, timeout=timeout, model=FileEntry)

    def watch(self, path: str, *, recursive: bool = False, after: Optional[str] = None, timeout: Optional[float] = None) -> Iterator[FileWatchEvent]:
        """The directory's changes as they happen (created, modified, deleted), until an `end`
        event (the workspace paused or deleted, the directory removed). A dropped connection is
        resumed after the last event; `after` resumes after an earlier event's `id`. `timeout`
        bounds each wait for an event (None: as long as the stream is open)."""
        return watch_files(self._transport, self._path("/watch", path=path, recursive="true" if recursive else None), after, timeout)

    def _put(self, path: str, data: FileData, content_type: str, timeout: Optional[float]) -> FileEntry:
        headers = {"content-type": content_type}
        limit = self._limit(timeout)
        with self._transport.open("PUT", path, headers=headers, timeout=timeout, read_timeout=limit, content=body_chunks(data)) as res:
            res.read()
            return parse_answer(res, "PUT", path, FileEntry)

    def _stream(self, method: str, path: str, headers: Dict[str, str], timeout: Optional[float]) -> Iterator[bytes]:
        with self._transport.open(method, path, headers=headers, timeout=timeout, read_timeout=self._limit(timeout)) as res:
            yield from res.iter_bytes()
