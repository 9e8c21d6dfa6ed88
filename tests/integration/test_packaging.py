"""Installing the package prints no packaging warning (issue 13, point 12): the
license is an SPDX expression, with no license classifier beside it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_distribution_declares_its_license_as_an_spdx_expression() -> None:
    installed = metadata("minari-namespaces")
    assert installed["License-Expression"] == "MIT"
    assert [c for c in installed.get_all("Classifier") or [] if c.startswith("License ::")] == []


@pytest.mark.processes
def test_building_the_package_prints_no_packaging_warning(tmp_path: Path) -> None:
    """What ``make`` runs, up to the build backend: pip builds the metadata in an
    isolated environment with the newest setuptools the project allows."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
         str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Would install minari-namespaces-" in result.stdout
    assert "warning" not in output.lower(), output
    assert "deprecat" not in output.lower(), output
