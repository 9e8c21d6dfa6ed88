"""The repository contract, run against every implementation."""

from __future__ import annotations

import pytest

from minari_namespaces.testing.contract import NamespaceRepositoryContract, RepositoryHarness


class TestRepositoryContract(NamespaceRepositoryContract):
    @pytest.fixture
    def harness(self, any_harness: RepositoryHarness) -> RepositoryHarness:
        return any_harness
