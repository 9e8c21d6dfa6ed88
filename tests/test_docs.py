"""The documentation builds without warnings, and every example in it runs."""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from tests.support.terminal import run_in_terminal

pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for this module with warnings as errors."""
    out = tmp_path_factory.mktemp("docs") / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def test_the_documentation_builds_with_warnings_as_errors(html: Path) -> None:
    assert (html / "index.html").exists()
    assert {page.stem for page in html.glob("*.html")} >= {page.stem for page in PAGES}


#: The API page's sections, in order (issue 13, point 13), and the module of each.
API_SECTIONS = {
    "The service": ("minari_namespaces.service",),
    "Identifiers": ("minari_namespaces.identifier",),
    "Metadata": ("minari_namespaces.metadata",),
    "Datasets and the catalog": (
        "minari_namespaces.datasets",
        "minari_namespaces.catalog",
        "minari_namespaces.catalog.pages",
    ),
    "Moving datasets": ("minari_namespaces.transfer.datasets",),
    "Repositories and backends": (
        "minari_namespaces.repository",
        "minari_namespaces.stores.local",
        "minari_namespaces.stores.fsspec",
    ),
    "Errors and warnings": ("minari_namespaces.errors",),
    "Minari compatibility": ("minari_namespaces.compat",),
    "Testing helpers": (
        "minari_namespaces.testing.memory",
        "minari_namespaces.testing.strategies",
        "minari_namespaces.testing.contract",
        "minari_namespaces.testing.hub.server",
    ),
}
#: Internals that once showed on the API page.
INTERNALS = ("check_batch_twins", "decode_metadata", "encode_metadata", "warn_skipped",
             "OS_JUNK_FILES", "NamespaceStoreBase", "check_json_object", "is_valid_segment",
             "ID_PATTERN", "StoreTexts")  # fmt: skip
FIELD_ORDER = ["Parameters", "Returns", "Return type", "Raises"]


def api_page(html: Path) -> BeautifulSoup:
    return BeautifulSoup((html / "api.html").read_text(encoding="utf-8"), "html.parser")


def title(section: Tag) -> str:
    heading = section.find("h2")
    assert heading is not None
    return heading.get_text(strip=True).rstrip("¶")


def test_the_api_page_shows_the_public_api_only_service_first(html: Path) -> None:
    page = api_page(html)
    sections = page.select("article section > section")
    assert [title(section) for section in sections] == list(API_SECTIONS)
    for section, modules in zip(sections, API_SECTIONS.values(), strict=True):
        ids = [str(dt["id"]) for dt in section.select("dl.py > dt[id]")]
        top_level = [i for i in ids if i.rsplit(".", 1)[0] in modules]
        public = {f"{module}.{name}" for module in modules
                  for name in importlib.import_module(module).__all__}  # fmt: skip
        assert set(top_level) == public, title(section)
        members = [i for i in ids if i not in top_level]
        assert all(i.rsplit(".", 1)[0] in top_level for i in members), title(section)
    assert page.select("dl.py > dt[id]")[0]["id"] == "minari_namespaces.service.NamespaceService"
    text = page.get_text()
    for internal in INTERNALS:
        assert internal not in text, internal


def test_every_field_list_puts_parameters_before_raises(html: Path) -> None:
    checked = 0
    for definition in api_page(html).select("dl.py > dd"):
        fields = definition.find("dl", class_="field-list", recursive=False)
        if fields is None:
            continue
        names = [
            dt.get_text(strip=True).rstrip(":") for dt in fields.find_all("dt", recursive=False)
        ]
        ranked = [FIELD_ORDER.index(name) for name in names if name in FIELD_ORDER]
        assert ranked == sorted(ranked), names
        checked += "Parameters" in names and "Raises" in names
    assert checked >= 10


def test_every_documented_constant_has_its_description(html: Path) -> None:
    constants = api_page(html).select("dl.py.data")
    assert len(constants) >= 14
    for constant in constants:
        name, definition = constant.find("dt"), constant.find("dd")
        assert name is not None
        assert definition is not None
        description = definition.find("p")
        assert description is not None, name
        assert len(description.get_text(strip=True)) > 10, name
        # No part of the sentence was taken for a type ("The limit: 1 MiB" once was).
        assert definition.find("dl", class_="field-list") is None, name


def test_long_lines_in_code_blocks_wrap_on_every_page(html: Path) -> None:
    stylesheet = (html / "_static" / "code-blocks.css").read_text()
    assert re.search(r"\.highlight pre[^{]*\{[^}]*white-space: pre-wrap", stylesheet)
    for page in PAGES:
        built = BeautifulSoup((html / f"{page.stem}.html").read_text(), "html.parser")
        links = {link.get("href") for link in built.find_all("link", rel="stylesheet")}
        assert any(str(href).startswith("_static/code-blocks.css") for href in links), page.name


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
                                      ROOT / "minari_namespaces/testing/contract.py",
                                      ROOT / "minari_namespaces/testing/dataset_contract.py",
                                      ROOT / "minari_namespaces/testing/transfer_contract.py"]
    )  # fmt: skip
    for file, name in references:
        if file:
            assert (ROOT / file).exists(), file
            if name:
                assert f"def {name}(" in (ROOT / file).read_text(), (file, name)
        else:
            assert f"def {name}(" in every_test, name


SESSION = re.compile(r"^## A session\n.*?^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: What may differ from run to run: the rate and the time on a progress bar.
_VARYING = [(re.compile(r"\b[\d,]+/s\b"), "N/s"), (re.compile(r"\b\d+:\d\d:\d\d\b"), "H:MM:SS")]


def _session() -> list[tuple[str, str]]:
    """The CLI page's session: each ``$ `` command with the lines it printed."""
    match = SESSION.search((DOCS / "cli.md").read_text(encoding="utf-8"))
    assert match is not None, "docs/cli.md has no ```console block under '## A session'"
    steps: list[tuple[str, list[str]]] = []
    for line in match.group(1).splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in steps]


def _steady(text: str) -> str:
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return text


def test_the_cli_page_session_runs_exactly_as_shown(tmp_path: Path) -> None:
    """Issue 13: the terminal session on the CLI page is run at a terminal (a pty, so
    the progress bars appear) in a fresh folder standing for /tmp/demo; every line it
    prints must be the page's, up to the rate and the time."""
    demo = tmp_path / "demo"
    environment = _clean_environment(tmp_path)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment["PATH"]])
    steps = _session()
    commands = [command for command, _ in steps]
    assert [command.split()[:2] for command in commands[1:5]] == [
        ["minari-namespaces", "create"]] * 3 + [["minari-namespaces", "list"]]  # fmt: skip
    for needed in ("upload --tree", "diff; echo", "download --tree"):
        assert needed in "\n".join(commands)
    for shown, expected in steps:
        command = shown.replace("/tmp/demo", str(demo))
        if command.startswith("export "):
            for assignment in shlex.split(command)[1:]:
                key, _, value = assignment.partition("=")
                environment[key] = value
            continue
        status, text = run_in_terminal(["bash", "-c", command], environment, cwd=tmp_path)
        assert status == 0, (shown, text)
        assert _steady(text.replace(str(demo), "/tmp/demo")) == _steady(expected), shown
