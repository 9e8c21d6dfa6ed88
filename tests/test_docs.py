"""The documentation builds without warnings, and every example in it runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)

_DOCTEST = """
import doctest, json, sys
result = doctest.testfile(sys.argv[1], module_relative=False,
                          optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
print(json.dumps(result._asdict()))
"""


def _clean_environment(tmp_path: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "MINARI_REMOTE"}
    environment["MINARI_DATASETS_PATH"] = str(tmp_path / "minari-home")
    return environment


def test_the_documentation_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "html" / "index.html").exists()


@pytest.mark.parametrize("page", [p for p in PAGES if ">>>" in p.read_text()], ids=lambda p: p.name)
def test_every_interactive_example_runs(page: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _DOCTEST, str(page)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
        env=_clean_environment(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["attempted"] > 0
    assert outcome["failed"] == 0, result.stdout


def _blocks(path: Path) -> list[str]:
    return [block for block in FENCE.findall(path.read_text()) if ">>>" not in block]


@pytest.mark.parametrize("path", [ROOT / "README.md", *PAGES], ids=lambda p: p.name)
def test_every_other_python_example_compiles(path: Path) -> None:
    for block in _blocks(path):
        compile(block, str(path), "exec")


def test_the_readme_example_runs_and_runs_again(tmp_path: Path) -> None:
    """Issue 13, point 11: the second run raised NamespaceExistsError."""
    (example,) = [block for block in _blocks(ROOT / "README.md") if "NamespaceService" in block]
    script = example.replace("/tmp/", f"{tmp_path}/")
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True, text=True, timeout=120, check=False,
            env=_clean_environment(tmp_path),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout.splitlines() == [
            "{'description': 'Door opening', 'maintainer': 'farama'}",
            "[NamespaceId('D4RL'), NamespaceId('D4RL/door')]",
            "True",
        ]


def test_the_contract_snippet_runs_as_a_test_module(tmp_path: Path) -> None:
    (snippet,) = [b for b in _blocks(DOCS / "testing.md") if "NamespaceRepositoryContract" in b]
    module = tmp_path / "test_my_repository.py"
    module.write_text(snippet)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
        env=_clean_environment(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert re.search(r"\b[3-9]\d passed\b", result.stdout), result.stdout


def test_every_test_the_guarantees_page_names_exists() -> None:
    text = (DOCS / "guarantees.md").read_text()
    references = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", text)
    references += [(None, name) for name in re.findall(r"`(test_\w+)`", text)]
    assert len(references) > 10
    every_test = "\n".join(
        path.read_text() for path in [*ROOT.joinpath("tests").rglob("*.py"),
                                      ROOT / "minari_namespaces/testing/contract.py"]
    )  # fmt: skip
    for file, name in references:
        if file:
            assert (ROOT / file).exists(), file
            if name:
                assert f"def {name}(" in (ROOT / file).read_text(), (file, name)
        else:
            assert f"def {name}(" in every_test, name
