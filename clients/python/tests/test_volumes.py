import pytest

from berth import BerthApiError

pytestmark = pytest.mark.stack


def test_a_named_volume_is_listed_kept_and_deleted(berth):
    c = berth.containers.create(volumeName="py-vol", pool=False, timeout=120)
    try:
        c.files.write("kept.txt", b"on the volume")
        vols = {v.name: v for v in berth.volumes.list().volumes}
        assert vols["py-vol"].in_use is True
        with pytest.raises(BerthApiError) as busy:
            berth.volumes.delete("py-vol")
        assert busy.value.code == "VOLUME_IN_USE"
    finally:
        c.delete()
    berth.volumes.delete("py-vol")
    assert "py-vol" not in [v.name for v in berth.volumes.list().volumes]
