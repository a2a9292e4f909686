"""The models carry every field of the contracts' JSON Schemas (packages/contracts/schemas), so
a field added to the API fails here until the client has it."""

import json
from pathlib import Path

import pytest

from berth.models import ContainerView, ExecResult, Health, LogLine, Pool, SetupStatus

SCHEMAS = Path(__file__).resolve().parents[3] / "packages" / "contracts" / "schemas"


def properties(file: str, name: str) -> set:
    return set(json.loads((SCHEMAS / file).read_text())["$defs"][name]["properties"])


def aliases(model) -> set:
    return {f.alias or n for n, f in model.model_fields.items()}


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason="outside the berth repository")
@pytest.mark.parametrize(
    "model,file,name",
    [
        (ContainerView, "http.Container.schema.json", "Container"),
        (ExecResult, "http.ExecResult.schema.json", "ExecResult"),
        (LogLine, "http.LogEvent.schema.json", "LogEvent"),
        (Health, "http.Health.schema.json", "Health"),
        (Pool, "http.PoolList.schema.json", "Pool"),
        (SetupStatus, "nats.berth.setup.get.reply.schema.json", "SetupStatus"),
    ],
)
def test_model_has_every_schema_field(model, file, name):
    assert properties(file, name) <= aliases(model)
