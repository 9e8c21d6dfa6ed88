"""The installed ``minari-namespaces`` script and ``python -m minari_namespaces``, as real
processes: exit codes, stderr without tracebacks, and quiet output when piped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.terminal import run_in_terminal

pytestmark = pytest.mark.processes

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
    assert "copied    D4RL/door" in upload.stdout

    environment["MINARI_REMOTE"] = remote
    diff = cli(environment, "diff", module=module)
    assert (diff.returncode, diff.stdout) == (0, "In sync (2 namespace(s) on both sides)\n")
    cli(environment, "update-properties", "D4RL/door", "--set", "n=1", module=module)
    diff = cli(environment, "diff", module=module)
    assert (diff.returncode, diff.stdout) == (1, "different    D4RL/door\n")
    assert cli(environment, "diff", "--remote", "nope://x", module=module).returncode == 2


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
    result = cli(environment, "list", "--remote", "file:///elsewhere")
    assert result.returncode == 2
    assert "did you mean 'list remote'?" in result.stderr


def test_help_and_version(environment: dict[str, str]) -> None:
    assert cli(environment, "--version").stdout.startswith("minari-namespaces ")
    help_text = cli(environment, "--help").stdout
    assert "Examples:" in help_text
    assert "upload" in help_text


def test_datasets_through_the_installed_script(environment: dict[str, str], tmp_path: Path) -> None:
    """Issue 17, part 3: a Minari-shaped folder listed by the real script, piped."""
    for dataset, episodes in (("D4RL/door/human-v1", 25), ("D4RL/door/human-v2", 25)):
        data = tmp_path.joinpath("datasets", *dataset.split("/"), "data")
        data.mkdir(parents=True)
        (data / "metadata.json").write_text(json.dumps({"total_episodes": episodes}))
    broken = tmp_path / "datasets" / "D4RL" / "door-x" / "play-v0" / "data"
    broken.mkdir(parents=True)
    (broken / "metadata.json").write_text("{")
    listed = cli(environment, "datasets", "D4RL/door", "--latest", "--json")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert [(item["id"], item["total_episodes"]) for item in json.loads(listed.stdout)] == [
        ("D4RL/door/human-v2", 25)
    ]
    rows = cli(environment, "datasets")
    assert rows.returncode == 0
    assert rows.stdout.splitlines()[1:] == [
        "D4RL/door/human-v1         25      -  22 B",
        "D4RL/door/human-v2         25      -  22 B",
        "D4RL/door-x/play-v0         -      -   1 B  (unreadable metadata: -v says why)",
    ]
    usage = cli(environment, "datasets", "D4RL//door")
    assert usage.returncode == 2
    assert "Invalid value for PREFIX: 'D4RL//door' is not a namespace" in usage.stderr


# -- at a terminal: progress, confirmation, Ctrl-C --------------------------------------


def test_at_a_terminal_transfers_show_done_total_rate_and_time(
    environment: dict[str, str], tmp_path: Path
) -> None:
    """Issue 13, point 7: the bar shows a count, the total and a rate."""
    for name in ("a/b", "a/c", "d"):
        assert cli(environment, "create", name).returncode == 0
    remote = (tmp_path / "remote").as_uri()
    status, text = run_in_terminal(
        [str(SCRIPT), "upload", "--tree", "--remote", remote], environment
    )
    assert status == 0
    lines = text.splitlines()
    assert re.fullmatch(r"Uploading ━{40} 4/4 namespaces [\d,]+/s \d+:\d\d:\d\d", lines[0]), text
    assert lines[1] == f"Uploaded 4 namespace(s) from {tmp_path / 'datasets'} to {remote}"


def test_at_a_terminal_overwrite_asks_first(environment: dict[str, str], tmp_path: Path) -> None:
    """Issue 13, point 6: no metadata is replaced on the target before a yes."""
    remote = (tmp_path / "remote").as_uri()
    cli(environment, "create", "a", "-d", "first")
    cli(environment, "upload", "a", "--remote", remote)
    cli(environment, "replace", "a", "-d", "second")
    upload = [str(SCRIPT), "upload", "a", "--remote", remote, "--overwrite"]
    status, text = run_in_terminal(upload, environment, typed=b"n\n")
    assert status == 1
    assert f"1 namespace(s) differ in {remote}: 'a'." in text
    assert "Replace their metadata with the copy from" in text
    assert text.endswith("Nothing was written.")
    show = [str(SCRIPT), "show", "a", "--from-remote", "--remote", remote]
    assert json.loads(cli(environment, *show[1:]).stdout) == {"description": "first"}
    status, text = run_in_terminal(upload, environment, typed=b"y\n")
    assert status == 0
    assert text.endswith("  replaced  a")
    assert json.loads(cli(environment, *show[1:]).stdout) == {"description": "second"}


#: Runs the command line with one change: the target's second batch of writes is
#: interrupted by a real SIGINT, as Ctrl-C sends it, at a point the test chooses.
INTERRUPTED_AT_THE_SECOND_BATCH = """
import os, signal, sys
from minari_namespaces import cli

# A shell that starts the suite in the background makes its children ignore SIGINT,
# and Python then keeps ignoring it; at a terminal, Ctrl-C raises KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)
from minari_namespaces.stores.fsspec import FsspecNamespaceRepository

original = FsspecNamespaceRepository.create_many
batches = []

def create_many(self, items):
    batches.append(1)
    if len(batches) == 2:
        os.kill(os.getpid(), signal.SIGINT)
    return original(self, items)

FsspecNamespaceRepository.create_many = create_many
sys.argv[0] = "minari-namespaces"
cli.main()
"""


def test_ctrl_c_exits_130_saying_how_far_it_got_and_a_rerun_finishes(
    environment: dict[str, str], tmp_path: Path
) -> None:
    """Issue 13, point 7."""
    from benchmarks.trees import namespace_names, write_tree

    write_tree(tmp_path / "datasets", namespace_names(1_500, fanout=50))
    environment["MINARI_REMOTE"] = (tmp_path / "remote").as_uri()
    interrupted = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_AT_THE_SECOND_BATCH, "upload", "--tree"],
        env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert interrupted.returncode == 130
    assert interrupted.stdout == ""
    assert interrupted.stderr == (
        "Interrupted after 1,000 of 1,500 namespace(s). What was written is complete, "
        "parents first: run the same command again to finish.\n"
    )
    assert cli(environment, "diff").returncode == 1
    rerun = cli(environment, "upload", "--tree")
    assert rerun.returncode == 0
    assert rerun.stdout.startswith("Uploaded 500 namespace(s) from ")
    assert "; 1,000 already up to date\n" in rerun.stdout.splitlines()[0] + "\n"
    assert cli(environment, "diff").returncode == 0
