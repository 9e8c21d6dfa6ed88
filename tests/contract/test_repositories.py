"""The repository contract, run against every implementation."""

from __future__ import annotations

from pathlib import Path

import pytest

from minari_namespaces.testing.contract import NamespaceRepositoryContract, RepositoryHarness
from tests.conftest import HARNESSES


class TestRepositoryContract(NamespaceRepositoryContract):
    @pytest.fixture(params=sorted(HARNESSES))
    def harness(self, request: pytest.FixtureRequest, tmp_path: Path) -> RepositoryHarness:
        return HARNESSES[request.param](tmp_path)
