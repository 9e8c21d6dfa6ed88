"""The installed ``minari-namespaces`` script and ``python -m minari_namespaces``, as real
processes: exit codes, stderr without tracebacks, and quiet output when piped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("minari-namespaces")


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "MINARI_REMOTE"}
    env["MINARI_DATASETS_PATH"] = str(tmp_path / "datasets")
    return env


def cli(env: dict[str, str], *args: str, module: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "minari_namespaces"] if module else [str(SCRIPT)]
    return subprocess.run(
        [*command, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("module", [False, True], ids=["script", "python-m"])
def test_a_session_at_the_shell(environment: dict[str, str], tmp_path: Path, module: bool) -> None:
    remote = (tmp_path / "remote").as_uri()
    assert cli(environment, "create", "D4RL/door", "-d", "Door", module=module).returncode == 0
    listed = cli(environment, "list", "--json", module=module)
    assert [item["id"] for item in json.loads(listed.stdout)] == ["D4RL", "D4RL/door"]

    upload = cli(environment, "upload", "--tree", "--remote", remote, module=module)
    assert upload.returncode == 0
    assert upload.stderr == ""  # no progress bar when piped
    assert "copied  D4RL/door" in upload.stdout

    environment["MINARI_REMOTE"] = remote
    diff = cli(environment, "diff", module=module)
    assert (diff.returncode, diff.stdout) == (0, "In sync (2 namespace(s) on both sides)\n")


def test_errors_exit_1_with_one_line_and_no_traceback(environment: dict[str, str]) -> None:
    result = cli(environment, "show", "nowhere")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: Namespace 'nowhere' does not exist in ")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_errors_exit_2(environment: dict[str, str]) -> None:
    result = cli(environment, "create")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


def test_help_and_version(environment: dict[str, str]) -> None:
    assert cli(environment, "--version").stdout.startswith("minari-namespaces ")
    help_text = cli(environment, "--help").stdout
    assert "Examples:" in help_text
    assert "upload" in help_text
