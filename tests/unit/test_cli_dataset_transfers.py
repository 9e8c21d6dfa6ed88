"""The command line moves datasets (issue 23, point 6): ``upload``/``download`` with
``--datasets`` or ``--dataset ID``, ``mirror`` between any two stores, and
``--dry-run`` printing the plan with sizes and writing nothing; through Typer's runner,
between a local folder and a ``file://`` store."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from minari_namespaces.cli import app
from minari_namespaces.cli.running import progress_bar
from minari_namespaces.transfer import TransferProgress
from tests.support.terminal import screen

#: Each dataset's ``data/metadata.json`` (41 bytes) and its one data file.
METADATA = b'{"total_episodes": 2, "total_steps": 10} '
DATASETS = {
    "D4RL/door/human-v1": b"1" * 59,
    "D4RL/door/human-v2": b"2" * 1_959,
    "D4RL/door/expert-v0": b"3" * 2_459,
    "D4RL/pen/cloned-v0": b"4" * 9,
    "cartpole-v0": b"5" * 59,
}


def write_tree(root: Path, datasets: dict[str, bytes]) -> Path:
    """Namespaces ``D4RL``, ``D4RL/door`` and ``D4RL/pen``, and ``datasets``, each
    with ``data/metadata.json`` and ``data/main_data.hdf5``."""
    for ns in ("D4RL", "D4RL/door", "D4RL/pen"):
        (root / ns).mkdir(parents=True, exist_ok=True)
        (root / ns / "namespace_metadata.json").write_text(json.dumps({"description": ns}))
    for dataset, content in datasets.items():
        data = root / dataset / "data"
        data.mkdir(parents=True)
        (data / "metadata.json").write_bytes(METADATA)
        (data / "main_data.hdf5").write_bytes(content)
    return root


def files_of(folder: Path, *, bookkeeping: bool = False) -> dict[str, bytes]:
    """Every file under ``folder`` with its content; the hidden bookkeeping folder
    only if asked for."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and (bookkeeping or ".minari-namespaces" not in path.parts)
    }


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "datasets", DATASETS)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return tmp_path / "remote"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_upload_with_datasets_moves_the_namespace_and_the_datasets_directly_in_it(
    root: Path, remote: Path
) -> None:
    code, out, err = run(
        "upload", "D4RL/door", "--datasets", "--root", str(root), "--remote", remote.as_uri()
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[-4:] == [
        f"Uploaded 3 dataset(s) (6 files, 4.6 kB) from {root} to {remote.as_uri()}",
        "  copied    D4RL/door/expert-v0  2.5 kB",
        "  copied    D4RL/door/human-v1  100 B",
        "  copied    D4RL/door/human-v2  2.0 kB",
    ]
    assert files_of(remote) == {
        path: content
        for path, content in files_of(root).items()
        if path.startswith(("D4RL/door/", "D4RL/namespace_metadata.json"))
    }


def test_a_rerun_moves_nothing_and_says_so(root: Path, remote: Path) -> None:
    upload = ("upload", "--tree", "--datasets", "--root", str(root), "--remote", remote.as_uri())
    assert run(*upload)[0] == 0
    code, out, err = run(*upload)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"Up to date: 3 namespace(s) already the same in {remote.as_uri()}",
        f"Up to date: 5 dataset(s) already the same in {remote.as_uri()}",
    ]


def test_tree_with_datasets_moves_every_dataset_top_level_ones_included(
    root: Path, remote: Path
) -> None:
    code, _, err = run(
        "upload", "--tree", "--datasets", "--root", str(root), "--remote", remote.as_uri()
    )
    assert (code, err) == (0, "")
    assert files_of(remote) == files_of(root)


def test_dataset_without_a_version_downloads_the_latest_and_its_namespaces(
    root: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    code, out, err = run(
        "download", "--dataset", "D4RL/door/human", "--root", str(local), "--remote", root.as_uri()
    )
    assert (code, err) == (0, "")
    assert "  copied    D4RL/door/human-v2  2.0 kB" in out.splitlines()
    assert sorted(files_of(local)) == [
        "D4RL/door/human-v2/data/main_data.hdf5",
        "D4RL/door/human-v2/data/metadata.json",
        "D4RL/door/namespace_metadata.json",
        "D4RL/namespace_metadata.json",
    ]


def test_dry_run_prints_each_datasets_action_and_size_and_a_total_and_writes_nothing(
    root: Path, tmp_path: Path
) -> None:
    target = write_tree(
        tmp_path / "target",
        {"D4RL/door/human-v1": DATASETS["D4RL/door/human-v1"], "D4RL/door/human-v2": b"changed"},
    )
    before = files_of(target, bookkeeping=True)
    code, out, err = run(
        "upload", "D4RL/door", "--datasets", "--dry-run",
        "--root", str(root), "--remote", target.as_uri(),
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines()[-5:] == [
        f"Plan for 3 dataset(s) from {root} to {target.as_uri()}:",
        "  copy       D4RL/door/expert-v0  2 files  2.5 kB",
        "  unchanged  D4RL/door/human-v1   2 files   100 B",
        "  kept       D4RL/door/human-v2   2 files  2.0 kB",
        "Total: 1 dataset(s) to upload (2 files, 2.5 kB); 1 unchanged; 1 kept (they "
        "differ in the target: --overwrite replaces them whole)",
    ]
    assert files_of(target, bookkeeping=True) == before


def test_a_changed_dataset_is_kept_with_a_warning_and_overwrite_replaces_it_whole(
    root: Path, tmp_path: Path
) -> None:
    target = write_tree(tmp_path / "target", {"D4RL/door/human-v2": b"changed"})
    (target / "D4RL/door/human-v2/data/stale.bin").write_bytes(b"old")
    upload = ("upload", "D4RL/door", "--datasets", "--root", str(root), "--remote")
    code, _, err = run(*upload, target.as_uri())
    assert code == 0
    assert err == (
        f"Warning: 1 dataset(s) differ in {target.as_uri()} and were kept: "
        "'D4RL/door/human-v2'. A dataset version is immutable: --overwrite replaces "
        "them whole.\n"
    )
    assert (target / "D4RL/door/human-v2/data/stale.bin").exists()

    code, out, err = run(*upload, target.as_uri(), "--overwrite", "--yes")
    assert (code, err) == (0, "")
    assert "  replaced  D4RL/door/human-v2  2.0 kB" in out.splitlines()
    assert files_of(target / "D4RL/door/human-v2") == files_of(root / "D4RL/door/human-v2")


def test_mirror_copies_a_subtree_with_its_datasets_between_two_urls(
    root: Path, tmp_path: Path
) -> None:
    target = tmp_path / "mirror"
    code, out, err = run("mirror", root.as_uri(), target.as_uri(), "D4RL/pen", "--datasets")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"Mirrored 2 namespace(s) from {root.as_uri()} to {target.as_uri()}",
        "  copied    D4RL",
        "  copied    D4RL/pen",
        f"Mirrored 1 dataset(s) (2 files, 50 B) from {root.as_uri()} to {target.as_uri()}",
        "  copied    D4RL/pen/cloned-v0  50 B",
    ]
    assert sorted(files_of(target)) == [
        "D4RL/namespace_metadata.json",
        "D4RL/pen/cloned-v0/data/main_data.hdf5",
        "D4RL/pen/cloned-v0/data/metadata.json",
        "D4RL/pen/namespace_metadata.json",
    ]


def test_mirror_dry_run_writes_nothing_and_jobs_is_accepted(root: Path, tmp_path: Path) -> None:
    target = tmp_path / "mirror"
    code, out, err = run(
        "mirror", str(root), target.as_uri(), "--datasets", "--dry-run", "--jobs", "2"
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == (
        "Total: 5 dataset(s) to mirror (10 files, 4.8 kB); 0 unchanged; 0 kept"
    )
    assert not target.exists()


def test_quiet_prints_nothing(root: Path, remote: Path) -> None:
    assert run(
        "upload",
        "--tree",
        "--datasets",
        "--quiet",
        "--root",
        str(root),
        "--remote",
        remote.as_uri(),
    ) == (0, "", "")
    assert files_of(remote) == files_of(root)


ONE = ["--dataset", "D4RL/door/human-v2"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([*ONE, "D4RL"], "Invalid value for NAMESPACE: not used with --dataset"),
        ([*ONE, "--tree"], "Invalid value for --tree: not used with --dataset"),
        ([*ONE, "--datasets"], "Invalid value for --datasets: not used with --dataset"),
        (["--dataset", "a//b"], "Invalid value for --dataset: 'a//b' is not a dataset id"),
        (["--datasets"], "give a NAMESPACE, or --tree for everything"),
        (["--tree", "--jobs", "2"], "--jobs: not used without --datasets or --dataset"),
        (["--tree", "--datasets", "--jobs", "0"], "Invalid value for '--jobs'"),
    ],
)
def test_forms_that_make_no_sense_are_usage_errors(
    root: Path, remote: Path, arguments: list[str], message: str
) -> None:
    code, _, err = run("upload", *arguments, "--root", str(root), "--remote", remote.as_uri())
    assert code == 2
    assert message in " ".join(err.replace("│", " ").split())
    assert not remote.exists()


def test_a_backslash_in_a_source_file_name_is_refused_while_planning_naming_the_source(
    root: Path, tmp_path: Path
) -> None:
    (root / "D4RL/pen/cloned-v0/data/a\\b.bin").write_bytes(b"named for Windows")
    target = tmp_path / "mirror"
    code, out, err = run("mirror", str(root), target.as_uri(), "--datasets")
    assert (code, out) == (1, "")
    said = " ".join(err.split())
    assert f"Refused to copy from {root}:" in said
    assert "'D4RL/pen/cloned-v0/data/a\\\\b.bin'" in said
    assert "a backslash" in said
    assert not target.exists()  # nothing of the transfer was written, as it says


@pytest.mark.parametrize(
    ("source", "target", "said"),
    [
        ("data", "file://data/backup", "lies inside the source"),
        ("file://data/backup", "data", "the source file://"),
        ("data", "link/backup", "lies inside the source"),  # link -> data, resolved
        ("data/", "file://data", "is the source itself"),
        ("memory://m/a", "memory://m/a/b", "lies inside the source"),
        ("s3://bucket/a", "s3a://bucket/a/b", "lies inside the source"),  # one store, two names
    ],
)
def test_mirror_refuses_a_target_inside_its_source_or_around_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, target: str, said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path / "data", {"D4RL/door/human-v1": b"1"})
    (tmp_path / "link").symlink_to(tmp_path / "data")
    before = files_of(tmp_path / "data", bookkeeping=True)
    code, _, err = run("mirror", source, target, "--datasets")
    assert code == 2
    message = " ".join(err.replace("│", " ").split())
    assert "Invalid value for DST_URL: the stores overlap:" in message
    assert said in message
    assert files_of(tmp_path / "data", bookkeeping=True) == before


@pytest.mark.parametrize("command", ["upload", "download"])
@pytest.mark.parametrize(
    ("remote", "said"),
    [
        ("file://data/backup", "/data/backup lies inside the local store"),
        ("file://data", "/data is the local store itself"),
        ("file://.", "data lies inside file://"),  # the remote holds it
    ],
)
def test_upload_and_download_refuse_a_remote_inside_the_local_store_or_around_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, remote: str, said: str
) -> None:
    # Each run would copy the copy again, one level deeper, as mirror's would.
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path / "data", {"D4RL/door/human-v1": b"1"})
    before = files_of(tmp_path, bookkeeping=True)
    code, _, err = run(command, "--tree", "--datasets", "--root", "data", "--remote", remote)
    assert code == 2
    message = " ".join(err.replace("│", " ").split())
    assert "Invalid value for --remote: the stores overlap:" in message
    assert said in message
    assert "Choose a remote that neither holds the local store nor lies in it." in message
    assert files_of(tmp_path, bookkeeping=True) == before
    # Commands that move nothing still read an overlapping remote.
    assert run("list", "remote", "--remote", remote)[0] == 0


def test_mirror_between_folders_that_only_share_a_name_prefix_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path / "data", {"D4RL/door/human-v1": b"1"})
    assert run("mirror", "data", "file://data2", "--datasets")[0] == 0
    assert files_of(tmp_path / "data2") == files_of(tmp_path / "data")


@pytest.mark.parametrize("label", ["Uploading", "Downloading", "Mirroring"])
def test_the_progress_bar_keeps_to_one_line_of_an_80_column_terminal(label: str) -> None:
    drawn = io.StringIO()
    console = Console(file=drawn, width=80, force_terminal=True, color_system=None)
    with progress_bar(console, label) as move:
        move(TransferProgress(2, 2, 10_000, 10_001, 46_600_000, 200_500_000))
    shown = screen(drawn.getvalue())
    assert shown.startswith(f"{label} ━")
    assert " 10,000/10,001 files 46.6 MB/200.5 MB " in shown
    assert "\n" not in shown
    assert len(shown) <= 80


def test_diff_with_datasets_names_the_datasets_that_differ_with_diffs_exit_status(
    root: Path, remote: Path
) -> None:
    sides = ("--root", str(root), "--remote", remote.as_uri())
    assert run("upload", "--tree", "--datasets", *sides)[0] == 0
    assert run("diff", "--datasets", *sides) == (
        0,
        "In sync (3 namespace(s) and 5 dataset(s) on both sides)\n",
        "",
    )
    (root / "D4RL/door/human-v1/data/main_data.hdf5").write_bytes(b"9" * 59)  # same size
    shutil.rmtree(remote / "cartpole-v0")
    code, out, err = run("diff", "--datasets", *sides)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "only local   dataset cartpole-v0",
        "different    dataset D4RL/door/human-v1",
    ]
    code, out, _ = run("diff", "--datasets", "--json", *sides)
    assert (code, json.loads(out)) == (
        1,
        {
            "only_local": [],
            "only_remote": [],
            "different": [],
            "datasets_only_local": ["cartpole-v0"],
            "datasets_only_remote": [],
            "datasets_different": ["D4RL/door/human-v1"],
        },
    )
    assert run("diff", *sides) == (0, "In sync (3 namespace(s) on both sides)\n", "")


def test_upload_of_a_folder_of_datasets_without_a_marker_moves_them_as_the_tree_form_does(
    tmp_path: Path,
) -> None:
    root = write_tree(tmp_path / "datasets", {"foo/x-v0": b"x" * 10, "foo/bar/y-v0": b"y"})
    one, tree = tmp_path / "one", tmp_path / "tree"
    sides = ("--root", str(root), "--remote")
    code, _, err = run("upload", "foo", "--datasets", *sides, one.as_uri())
    assert (code, err) == (0, "")
    assert run("upload", "--tree", "foo", "--datasets", *sides, tree.as_uri())[0] == 0
    # The single form moves the datasets directly in foo; both give foo the marker {}.
    assert files_of(one) == {
        path: content for path, content in files_of(tree).items() if "/bar/" not in path
    }
    assert json.loads((one / "foo/namespace_metadata.json").read_text()) == {}
    assert sorted(files_of(one)) == [
        "foo/namespace_metadata.json",
        "foo/x-v0/data/main_data.hdf5",
        "foo/x-v0/data/metadata.json",
    ]
    code, _, err = run("upload", "foo", *sides, (tmp_path / "bare").as_uri())
    assert code == 1
    assert "Namespace 'foo' does not exist" in err
    code, _, err = run("upload", "foo/bar/baz", "--datasets", *sides, one.as_uri())
    assert code == 1
    assert "Namespace 'foo/bar/baz' does not exist" in err


@pytest.mark.parametrize("command", ["upload", "download", "mirror"])
def test_overwrite_help_says_it_replaces_datasets_too(command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0
    said = " ".join(out.replace("│", " ").split())
    assert "Replace namespaces whose metadata differs on the target and, with datasets, " in said
    assert "datasets whose files differ, each whole" in said
