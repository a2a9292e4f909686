import pytest

pytestmark = pytest.mark.stack


def test_pause_and_resume_keep_the_files(berth):
    c = berth.containers.create()
    try:
        c.files.write("kept.txt", b"still here")
        assert c.pause().state == "paused"
        assert c.pause().state == "paused"  # idempotent
        assert berth.containers.get(c.id).state == "paused"
        assert c.resume().state == "claimed"
        assert c.files.read("kept.txt") == b"still here"
        assert c.exec("echo up").stdout == "up\n"
    finally:
        c.delete()
