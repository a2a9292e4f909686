import io
import os
import tarfile
import threading
import time

import pytest

from berth import BerthApiError, FileEntry

pytestmark = pytest.mark.stack


def code_of(call) -> tuple:
    with pytest.raises(BerthApiError) as e:
        call()
    return e.value.code, e.value.status


def test_a_binary_file_over_a_megabyte_reads_back_byte_for_byte(container):
    data = os.urandom(1536 * 1024) + bytes(range(256))
    entry = container.files.write("py/blob.bin", data)
    assert isinstance(entry, FileEntry)
    assert (entry.type, entry.size, entry.mode) == ("file", len(data), 0o644)
    assert container.files.read("py/blob.bin") == data
    assert b"".join(container.files.read_stream("/workspace/py/blob.bin")) == data
    # A file-like object and an iterable of chunks are streamed; str is UTF-8.
    assert container.files.write("py/from-file.bin", io.BytesIO(data)).size == len(data)
    assert container.files.read("py/from-file.bin") == data
    container.files.write("py/chunks.bin", iter([data[:1000], data[1000:]]))
    assert container.files.read("py/chunks.bin") == data
    container.files.write("py/run.sh", "#!/bin/sh\necho ünï\n", mode=0o755)
    assert container.exec("./py/run.sh").stdout == "ünï\n"
    assert container.files.read_text("py/run.sh") == "#!/bin/sh\necho ünï\n"


def test_range_reads(container):
    container.files.write("py/range.txt", b"0123456789")
    assert container.files.read("py/range.txt", range=(2, 5)) == b"2345"
    assert container.files.read("py/range.txt", range=7) == b"789"
    assert container.files.read_text("py/range.txt", range=(8, None)) == "89"
    assert code_of(lambda: container.files.read("py/range.txt", range=50)) == ("RANGE_NOT_SATISFIABLE", 416)


def test_list_mkdir_move_remove(container):
    d = container.files.mkdir("py/tree/sub")
    assert (d.type, d.name) == ("directory", "sub")
    container.files.write("py/tree/a.txt", b"a")
    container.files.write("py/tree/sub/b.txt", b"bb")
    top = container.files.list("py/tree")
    assert [(e.name, e.type) for e in top.entries] == [("a.txt", "file"), ("sub", "directory")]
    assert top.truncated is False
    deep = container.files.list("py/tree", depth=2)
    assert ("sub/b.txt", 2) in [(e.path, e.size) for e in deep.entries]

    moved = container.files.move("py/tree/a.txt", "py/tree/sub/c.txt")
    assert (moved.name, moved.size) == ("c.txt", 1)
    assert container.files.rename("py/tree/sub/c.txt", "py/tree/d.txt").name == "d.txt"
    assert sorted(e.name for e in container.files.list("py/tree/sub").entries) == ["b.txt"]

    assert code_of(lambda: container.files.remove("py/tree/sub", recursive=False)) == ("DIRECTORY_NOT_EMPTY", 409)
    container.files.remove("py/tree/sub")
    container.files.remove("py/tree/d.txt")
    assert container.files.list("py/tree").entries == []


def test_errors_have_their_codes(container):
    container.files.write("py/plain.txt", b"x")
    assert code_of(lambda: container.files.read("py/missing.txt")) == ("FILE_NOT_FOUND", 404)
    assert code_of(lambda: next(container.files.read_stream("py/missing.txt"))) == ("FILE_NOT_FOUND", 404)
    assert code_of(lambda: container.files.list("py/plain.txt")) == ("NOT_A_DIRECTORY", 409)
    assert code_of(lambda: container.files.mkdir("py/plain.txt")) == ("FILE_EXISTS", 409)
    assert code_of(lambda: container.files.read("py")) == ("IS_A_DIRECTORY", 409)
    assert code_of(lambda: container.files.read("/etc/shadow")) == ("FILE_PERMISSION_DENIED", 403)
    assert code_of(lambda: container.files.remove("py/missing.txt")) == ("FILE_NOT_FOUND", 404)
    assert code_of(lambda: container.files.write("a\0b", b"x"))[1] == 400


def test_directories_up_and_down_as_tar(container):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, body in [("one.txt", b"one"), ("nested/two.bin", bytes(range(256)) * 4)]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    container.files.upload("py/unpacked", buf.getvalue())
    assert container.files.read("py/unpacked/nested/two.bin") == bytes(range(256)) * 4
    got = tarfile.open(fileobj=io.BytesIO(b"".join(container.files.download("py/unpacked"))), mode="r:")
    files = {m.name.lstrip("./"): got.extractfile(m).read() for m in got.getmembers() if m.isfile()}
    assert files == {"one.txt": b"one", "nested/two.bin": bytes(range(256)) * 4}


def test_watch_sees_changes_and_ends_when_the_workspace_pauses(berth):
    c = berth.containers.create()
    try:
        c.files.mkdir("watched")
        events = []
        watch = c.files.watch("watched", recursive=True, timeout=30)

        def consume():
            try:
                for e in watch:
                    events.append(e)
            except Exception as err:  # shown by the assertions below
                events.append(err)

        reader = threading.Thread(target=consume, daemon=True)
        reader.start()
        # The agent's first scan is the baseline: a file written before it is no event, so write
        # another one until an event comes.
        written = []
        deadline = time.monotonic() + 20
        while not any(getattr(e, "kind", None) == "created" for e in events) and time.monotonic() < deadline:
            written.append(f"watched/new-{len(written)}.txt")
            c.files.write(written[-1], b"hello")
            time.sleep(1)
        created = next((e for e in events if getattr(e, "kind", None) == "created"), events)
        assert created.path in written and (created.type, created.size) == ("file", 5)
        assert created.id.startswith("w_")

        c.pause()
        reader.join(15)
        assert not reader.is_alive(), "the watch did not end when the workspace paused"
        assert (events[-1].kind, events[-1].reason) == ("end", "paused"), events[-1]
        # A watch never resumes a paused workspace; a command does (autoResume is on by default).
        assert code_of(lambda: next(c.files.watch("watched"))) == ("CONTAINER_PAUSED", 409)
        assert c.refresh().state == "paused"
        assert c.exec("cat watched/new-0.txt").stdout == "hello"
        assert c.refresh().state == "claimed"
    finally:
        c.delete()
