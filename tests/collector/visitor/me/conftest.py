"""The app the /api/me tests run against: the demo site and ``other``, jobs run by hand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from clearsignal.settings import JobSettings, Settings
from collector.app import create_app
from tests.support.me_visitor import other_site


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """Two sites, jobs run by hand."""
    manual = settings.model_copy(
        update={"sites": [*settings.sites, other_site()], "jobs": JobSettings(in_process=False)}
    )
    with TestClient(create_app(manual)) as test_client:
        yield test_client
