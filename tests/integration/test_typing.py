"""Type checkers see the package after ``make`` (issue 13, point 9).

A user's script, outside the repository, is checked by ``mypy --strict`` from the
project's virtual environment: the development install must be one that mypy
follows (setuptools' default editable install for a flat layout is an import hook
that it does not), and the package's own annotations must reach the script.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes

USER_SCRIPT = """\
import json

from pydantic import BaseModel

from minari_namespaces import (
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
    NamespaceNotFoundError,
    TransferReport,
)
from minari_namespaces.testing import InMemoryNamespaceRepository


class Job(BaseModel):
    target: NamespaceId


def top_levels(service: NamespaceService) -> list[str]:
    return [ns.name for ns in service.list_local() if ns.parent is None]


def describe(service: NamespaceService, ns: str) -> str | None:
    try:
        return service.get(ns).description
    except NamespaceNotFoundError:
        return None


def publish(service: NamespaceService) -> TransferReport:
    return service.upload_tree("D4RL", overwrite=False)


service = NamespaceService(InMemoryNamespaceRepository())
created: NamespaceId = service.create("D4RL/door", description="Door opening")
metadata: NamespaceMetadata = service.get(created)
text: str = json.dumps(metadata.to_dict())
job = Job(target=created / "expert")
print(top_levels(service), describe(service, "D4RL"), text, job.model_dump_json())
"""


def mypy(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``mypy --strict`` of ``script`` from a folder outside the repository."""
    (tmp_path / "user.py").write_text(script)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "user.py"],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip


def test_a_typed_user_script_passes_mypy_strict(tmp_path: Path) -> None:
    result = mypy(USER_SCRIPT, tmp_path)
    assert "Cannot find implementation or library stub" not in result.stdout
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("Success: no issues found in 1 source file")


def test_the_packages_own_annotations_reach_the_user_script(tmp_path: Path) -> None:
    """Not ``Any``: a wrong use is an error that names the package's types."""
    wrong = USER_SCRIPT + 'count: int = service.get("D4RL")\n'
    result = mypy(wrong, tmp_path)
    assert result.returncode == 1, result.stdout
    line = len(USER_SCRIPT.splitlines()) + 1
    assert (
        f"user.py:{line}: error: Incompatible types in assignment (expression has type "
        '"NamespaceMetadata", variable has type "int")  [assignment]'
    ) in result.stdout
    assert "Found 1 error in 1 file" in result.stdout


def test_the_user_script_runs(tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(USER_SCRIPT)
    result = subprocess.run(
        [sys.executable, "user.py"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        '[\'D4RL\'] None {"description": "Door opening"} {"target":"D4RL/door/expert"}\n'
    )
