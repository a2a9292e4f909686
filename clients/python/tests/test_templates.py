import pytest

from berth import BerthApiError, TemplateBuildResult

pytestmark = pytest.mark.stack
# test/e2e/python-client.int.test.ts removes this template's image and trees after the run.
NAME = "py-tmpl"
DOCKERFILE = "FROM berth/workspace:latest\nRUN echo py-step-output && echo from-python-template > /workspace/marker\n"


def test_a_template_is_built_streamed_used_and_deleted(berth):
    output = []
    built = berth.templates.build(NAME, dockerfile=DOCKERFILE, on_output=lambda data, host: output.append((host, data)), timeout=300)
    assert isinstance(built, TemplateBuildResult)
    assert (built.name, built.failed, len(built.built)) == (NAME, [], 1)
    assert "py-step-output" in "".join(d for _, d in output)
    assert {h for h, _ in output} == {built.built[0].host_id}

    assert [h.host_id for h in berth.templates.get(NAME).hosts] == [built.built[0].host_id]
    listed = berth.templates.list()
    assert NAME in [t.name for t in listed.templates] and listed.limit >= 1

    c = berth.containers.create(template=NAME, pool=False, timeout=120)
    try:
        assert c.exec("id -u; cat /workspace/marker").stdout == "1000\nfrom-python-template\n"
    finally:
        c.delete()

    gone = berth.templates.delete(NAME)
    assert (gone.name, gone.removed) == (NAME, True)
    with pytest.raises(BerthApiError) as missing:
        berth.templates.get(NAME)
    assert (missing.value.code, missing.value.status) == ("TEMPLATE_NOT_FOUND", 404)


def test_a_refused_dockerfile_raises_its_code(berth):
    with pytest.raises(BerthApiError) as refused:
        berth.templates.build("py-refused", dockerfile="FROM alpine:latest\n")
    assert (refused.value.code, refused.value.status) == ("TEMPLATE_BASE_NOT_ALLOWED", 400)
    with pytest.raises(ValueError):
        berth.templates.build("py-both")
