import time

import pytest

pytestmark = pytest.mark.stack


def test_exec_plain(container):
    r = container.exec("echo out; echo err >&2; exit 3", timeout=10)
    assert (r.exit_code, r.stdout, r.stderr, r.timed_out, r.truncated) == (3, "out\n", "err\n", False, False)
    assert container.exec(["printf", "%s|", "a b", "$HOME"]).stdout == "a b|$HOME|"
    assert container.exec("echo $X in $(pwd)", env={"X": "y"}, cwd="/tmp").stdout == "y in /tmp\n"
    assert container.exec("sleep 5", timeout=0.3).timed_out is True


def test_commands_run_is_exec_in_e2bs_shape(container):
    r = container.commands.run("echo $GREETING", envs={"GREETING": "hi"})
    assert (r.exit_code, r.stdout) == (0, "hi\n")


def test_exec_streaming_delivers_output_as_it_happens(container):
    seen = []
    started = time.monotonic()
    r = container.exec(
        "echo first; sleep 1.5; echo second >&2; echo third",
        on_stdout=lambda d: seen.append(("out", d, time.monotonic() - started)),
        on_stderr=lambda d: seen.append(("err", d, time.monotonic() - started)),
    )
    total = time.monotonic() - started
    assert (r.exit_code, r.stdout, r.stderr) == (0, "first\nthird\n", "second\n")
    assert [s[:2] for s in seen] == [("out", "first\n"), ("err", "second\n"), ("out", "third\n")]
    assert total - seen[0][2] > 1.0, "the first chunk came only with the end"


def test_exec_in_a_missing_container_is_container_not_found(berth):
    from berth import BerthApiError

    c = berth.containers.create()
    c.delete()
    with pytest.raises(BerthApiError) as e:
        c.exec("true")
    assert e.value.code == "CONTAINER_NOT_FOUND"
