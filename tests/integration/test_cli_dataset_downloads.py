"""``minari-namespaces download --tree --datasets`` as a real process (issue 23,
points 3 and 6): a progress bar of files and bytes at a terminal, no redraws on a
pipe, Ctrl-C and SIGKILL at moments the test watches for in the target folder.

After each interruption every dataset that our listing or Minari's
``list_local_datasets`` shows holds exactly the source's files; the next run
finishes, leaving the source's files and nothing else.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from benchmarks.dataset_tree import NAMESPACE, DatasetTree, build_dataset_tree
from minari_namespaces import LocalNamespaceRepository, NamespaceService
from tests.support.deadline import within
from tests.support.processes import paced
from tests.support.terminal import run_in_terminal

pytestmark = [pytest.mark.processes, pytest.mark.compat]

#: Seconds the command waits after each dataset lands, so that the signal the test
#: sends on seeing one land arrives before the next can, however fast the disk.
PAUSE = 2.0

#: The store's bookkeeping folder, at its root and nowhere else.
BOOKKEEPING = ".minari-namespaces"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> DatasetTree:
    """Five datasets of about 8 MB and one Arrow dataset of 401 files."""
    root = tmp_path_factory.mktemp("source")
    return build_dataset_tree(root, hdf5_datasets=5, arrow_episodes=200, total_bytes=40_000_000)


def arguments(tree: DatasetTree, target: Path) -> list[str]:
    """The download's arguments: the tree with its datasets, one file at a time."""
    return [
        "download", "--tree", "--datasets", "--jobs", "1",
        "--root", str(target), "--remote", tree.root.as_uri(),
    ]  # fmt: skip


def download(tree: DatasetTree, target: Path) -> list[str]:
    return [sys.executable, "-m", "minari_namespaces", *arguments(tree, target)]


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, with its content."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def folders(target: Path) -> list[str]:
    """The folders in the target's namespace (none before it exists)."""
    try:
        with os.scandir(target / NAMESPACE) as entries:
            return [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def in_place(target: Path) -> list[str]:
    """Dataset folders in the target's namespace (hidden staging folders aside)."""
    return [name for name in folders(target) if not name.startswith(".")]


def staging(target: Path) -> bool:
    """Whether a hidden staging folder is in the target's namespace."""
    return any(name.startswith(".") for name in folders(target))


def listed_by_minari(target: Path) -> list[str]:
    import minari

    saved = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(target)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return sorted(minari.list_local_datasets())
    finally:
        if saved is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = saved


def assert_whole(tree: DatasetTree, target: Path) -> list[str]:
    """Every dataset either listing shows holds exactly the source's files; returns
    our listing."""
    service = NamespaceService(LocalNamespaceRepository(target))
    ours = sorted(str(entry.id) for entry in service.list_datasets())
    theirs = listed_by_minari(target)
    for dataset_id in sorted({*ours, *theirs}):
        assert files_of(target / dataset_id) == files_of(tree.root / dataset_id), dataset_id
    assert set(theirs) <= set(ours)
    return ours


def assert_finishes(tree: DatasetTree, target: Path) -> None:
    """One more run completes and leaves exactly the source's files, no leftover."""
    finished = subprocess.run(
        download(tree, target), capture_output=True, text=True, timeout=300, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert assert_whole(tree, target) == tree.dataset_ids
    leftovers = [
        str(path.relative_to(target))
        for path in target.rglob(".*")
        if not str(path.relative_to(target)).startswith(BOOKKEEPING)
    ]
    assert leftovers == []
    kept = {key: value for key, value in files_of(target).items() if BOOKKEEPING not in key}
    assert kept == files_of(tree.root)


def signal_when(
    process: subprocess.Popen[str], moment: Callable[[], bool], signum: int
) -> tuple[str, str]:
    """Send ``signum`` to ``process`` as soon as ``moment()`` holds (checked every
    millisecond); return what it printed."""
    with within(120):
        while not moment():
            if process.poll() is not None:
                errors = process.communicate()[1]
                raise AssertionError(f"the download ended before the moment came: {errors}")
            time.sleep(0.001)
    process.send_signal(signum)
    return process.communicate(timeout=60)


#: The moments to kill at, as seen in the target folder.
MOMENTS: dict[str, Callable[[DatasetTree, Path], bool]] = {
    "a dataset is being staged": lambda tree, target: staging(target),
    "one dataset is in place": lambda tree, target: len(in_place(target)) >= 1,
    "half the datasets are in place": lambda tree, target: (
        len(in_place(target)) >= len(tree.dataset_ids) // 2
    ),
}


@pytest.mark.slow
def test_a_killed_download_leaves_only_whole_datasets_and_the_next_run_completes(
    tree: DatasetTree, tmp_path: Path
) -> None:
    """Issue 23: the SIGKILL test."""
    target = tmp_path / "target"
    seen: list[int] = []
    for name, moment in MOMENTS.items():
        process = paced(arguments(tree, target), PAUSE, stderr=subprocess.PIPE)
        signal_when(process, partial(moment, tree, target), signal.SIGKILL)
        assert process.returncode == -signal.SIGKILL
        listed = assert_whole(tree, target)
        assert len(listed) < len(tree.dataset_ids), name
        seen.append(len(listed))
    assert seen == sorted(seen)
    assert_finishes(tree, target)


def test_ctrl_c_exits_130_at_once_with_whole_datasets_and_a_rerun_finishes(
    tree: DatasetTree, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    process = paced(
        arguments(tree, target), PAUSE, ctrl_c=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = signal_when(process, lambda: len(in_place(target)) >= 1, signal.SIGINT)
    assert process.returncode == 130
    assert out == ""
    assert re.fullmatch(
        r"Interrupted after [\d,]+ of [\d,]+ files \([\d.]+ [kMG]?B of [\d.]+ MB\)\. "
        r"Every dataset in place is whole: run the same command again to finish\.\n",
        err,
    ), err
    listed = assert_whole(tree, target)
    # It stopped: the datasets not yet begun were never started.
    assert len(listed) < len(tree.dataset_ids)
    assert_finishes(tree, target)


def test_on_a_pipe_nothing_is_redrawn_only_the_summary_is_printed(
    tree: DatasetTree, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    done = subprocess.run(
        download(tree, target), capture_output=True, text=True, timeout=300, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert "\r" not in done.stdout
    assert "\x1b" not in done.stdout
    lines = done.stdout.splitlines()
    assert lines[0] == f"Downloaded 2 namespace(s) from {tree.root.as_uri()} to {target}"
    size = sum(
        len(content)
        for path, content in files_of(tree.root).items()
        if not path.endswith("namespace_metadata.json")
    )
    assert lines[3] == (
        f"Downloaded 6 dataset(s) ({tree.files - 2:,} files, {size / 1e6:.1f} MB) "
        f"from {tree.root.as_uri()} to {target}"
    )
    assert len(lines) == 4 + len(tree.dataset_ids)


def test_at_a_terminal_the_bar_shows_files_bytes_rate_and_time(
    tree: DatasetTree, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    status, text = run_in_terminal(download(tree, target), dict(os.environ))
    assert status == 0, text
    lines = text.splitlines()
    files = f"{tree.files - 2:,}"
    assert re.fullmatch(
        rf"Downloading ━+ {files}/{files} files [\d.]+ MB/[\d.]+ MB [\d.]+ [kMG]?B/s \d+:\d\d:\d\d",
        lines[0],
    ), text
    assert lines[1] == f"Downloaded 2 namespace(s) from {tree.root.as_uri()} to {target}"


def test_at_a_terminal_quiet_prints_nothing_at_all(tree: DatasetTree, tmp_path: Path) -> None:
    target = tmp_path / "target"
    status, text = run_in_terminal([*download(tree, target), "--quiet"], dict(os.environ))
    assert (status, text) == (0, "")
    assert assert_whole(tree, target) == tree.dataset_ids
