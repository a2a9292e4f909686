"""The models carry every field of the contracts' JSON Schemas (packages/contracts/schemas), so
a field added to the API fails here until the client has it."""

import json
from pathlib import Path

import pytest

from berth.models import (
    ContainerView,
    CreatedPreview,
    ExecResult,
    FileEntry,
    FileList,
    FileWatchEvent,
    Health,
    LogLine,
    Pool,
    SetupStatus,
    TemplateDeleted,
    TemplateInfo,
    TemplateList,
    TemplateOnHost,
    Volume,
    VolumeList,
)

SCHEMAS = Path(__file__).resolve().parents[3] / "packages" / "contracts" / "schemas"


def properties(file: str, name: str) -> set:
    schema = json.loads((SCHEMAS / file).read_text())["$defs"][name]
    # A union (FileWatchEvent, by `kind`): the model has the fields of every variant.
    variants = schema.get("oneOf") or schema.get("anyOf") or [schema]
    return set().union(*(v["properties"] for v in variants))


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
        (FileEntry, "http.FileEntry.schema.json", "FileEntry"),
        (FileList, "http.FileList.schema.json", "FileList"),
        (FileWatchEvent, "http.FileWatchEvent.schema.json", "FileWatchEvent"),
        (CreatedPreview, "http.CreatedPreview.schema.json", "CreatedPreview"),
        (TemplateInfo, "http.TemplateInfo.schema.json", "TemplateInfo"),
        (TemplateOnHost, "http.TemplateInfo.schema.json", "TemplateOnHost"),
        (TemplateList, "http.TemplateList.schema.json", "TemplateList"),
        (TemplateDeleted, "http.TemplateDeleted.schema.json", "TemplateDeleted"),
        (VolumeList, "http.VolumeList.schema.json", "VolumeList"),
        (Volume, "http.VolumeList.schema.json", "Volume"),
    ],
)
def test_model_has_every_schema_field(model, file, name):
    assert properties(file, name) <= aliases(model)
