"""These tests run against a real berth stack: BERTH_URL and BERTH_API_KEY name it (the vitest test
test/e2e/python-client.int.test.ts starts one and runs them; `./scripts/test` runs that)."""

import os

import pytest

from berth import Berth


def pytest_collection_modifyitems(config, items):
    if os.environ.get("BERTH_URL") and os.environ.get("BERTH_API_KEY"):
        return
    skip = pytest.mark.skip(reason="needs a running stack: BERTH_URL and BERTH_API_KEY")
    for item in items:
        if "stack" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "stack: needs the real berth stack")


@pytest.fixture(scope="session")
def berth():
    with Berth() as client:
        yield client


@pytest.fixture(scope="module")
def container(berth):
    c = berth.containers.create()
    yield c
    c.delete()
