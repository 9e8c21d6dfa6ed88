"""The command line's datasets (issue 17, part 3): ``datasets`` and ``list --datasets``
on a tree laid out as Minari lays it out, through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from minari_namespaces import NamespaceService
from minari_namespaces.cli import app

#: Minari's metadata of each dataset of the tree: episodes, steps, description.
DATASETS = {
    "D4RL/door/human-v1": (25, 6729, "Door opening by humans, first take."),
    "D4RL/door/human-v2": (25, 6729, "Door opening by humans."),
    "D4RL/door/expert-v2": (5000, 1_000_000, "Door opening by an expert policy."),
    "D4RL/door-x/play-v0": (10, 2000, "Not a door."),
    "D4RL/pen/cloned-v1": (3755, 1_000_000, "Pen twirling, cloned."),
}


def write_dataset(root: Path, dataset: str, metadata: dict[str, Any] | bytes) -> Path:
    """A dataset folder as Minari writes it: ``<dataset>/data/metadata.json``."""
    path = root.joinpath(*dataset.split("/"), "data", "metadata.json")
    path.parent.mkdir(parents=True)
    raw = metadata if isinstance(metadata, bytes) else json.dumps(metadata).encode()
    path.write_bytes(raw)
    return path


def write_tree(root: Path) -> Path:
    """The tree of :data:`DATASETS`; ``D4RL/door-x`` has no namespace marker, as a
    folder Minari made for a dataset alone."""
    service = NamespaceService.from_urls(root)
    service.create("D4RL/door", description="Door opening")
    service.create("D4RL/pen", description="Pen twirling")
    for dataset, (episodes, steps, description) in DATASETS.items():
        write_dataset(root, dataset, {
            "dataset_id": dataset, "total_episodes": episodes, "total_steps": steps,
            "description": description,
        })  # fmt: skip
    return root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "datasets")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def strict_json(text: str) -> Any:
    """``text`` parsed as JSON proper: ``NaN`` and ``Infinity`` are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_one_row_per_dataset_with_episodes_steps_size_and_description(root: Path) -> None:
    """Issue 23: the size is that of the dataset's files (here its metadata.json alone)."""
    code, out, err = run("datasets", "--root", str(root))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "DATASET              EPISODES      STEPS   SIZE  DESCRIPTION",
        "D4RL/door/expert-v2     5,000  1,000,000  137 B  Door opening by an expert policy.",
        "D4RL/door/human-v1         25      6,729  133 B  Door opening by humans, first take.",
        "D4RL/door/human-v2         25      6,729  121 B  Door opening by humans.",
        "D4RL/door-x/play-v0        10      2,000  110 B  Not a door.",
        "D4RL/pen/cloned-v1      3,755  1,000,000  124 B  Pen twirling, cloned.",
    ]


def test_a_prefix_matches_by_segments_never_by_string(root: Path) -> None:
    code, out, _ = run("datasets", "D4RL/door", "--root", str(root))
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == [
        "D4RL/door/expert-v2", "D4RL/door/human-v1", "D4RL/door/human-v2",
    ]  # fmt: skip
    assert run("datasets", "D4RL/doo", "--root", str(root))[:2] == (0, "No datasets in D4RL/doo.\n")
    assert run("datasets", "D4RL/door/human-v2", "--root", str(root))[:2] == (
        0,
        "No datasets in D4RL/door/human-v2, which is a dataset's id: 'datasets D4RL/door' "
        "lists it.\n",
    )
    code, out, _ = run("datasets", "D4RL/door-x", "--root", str(root), "--json")
    assert [entry["id"] for entry in strict_json(out)] == ["D4RL/door-x/play-v0"]


def test_latest_keeps_the_highest_version_of_each_name(root: Path) -> None:
    code, out, _ = run("datasets", "D4RL", "--latest", "--root", str(root), "--json")
    assert code == 0
    assert [entry["id"] for entry in strict_json(out)] == [
        "D4RL/door/expert-v2", "D4RL/door/human-v2", "D4RL/door-x/play-v0",
        "D4RL/pen/cloned-v1",
    ]  # fmt: skip


def test_json_is_one_object_per_dataset_and_valid_json(root: Path) -> None:
    # Minari writes NaN for a score it has none of; JSON has no NaN, so it prints null.
    write_dataset(root, "D4RL/pen/human-v0", b'{"total_episodes": 1, "ref_min_score": NaN}')
    code, out, _ = run("datasets", "D4RL/pen", "--root", str(root), "--json")
    assert code == 0
    assert strict_json(out) == [
        {
            "id": "D4RL/pen/cloned-v1", "namespace": "D4RL/pen", "name": "cloned",
            "version": 1, "total_episodes": 3755, "total_steps": 1_000_000, "size": 124,
            "metadata": {
                "dataset_id": "D4RL/pen/cloned-v1", "total_episodes": 3755,
                "total_steps": 1_000_000, "description": "Pen twirling, cloned.",
            },
        },
        {
            "id": "D4RL/pen/human-v0", "namespace": "D4RL/pen", "name": "human",
            "version": 0, "total_episodes": 1, "total_steps": None, "size": 43,
            "metadata": {"total_episodes": 1, "ref_min_score": None},
        },
    ]  # fmt: skip


def test_a_corrupt_metadata_file_is_marked_and_never_stops_the_listing(root: Path) -> None:
    broken = write_dataset(root, "D4RL/door/broken-v0", b"{not json")
    (root / "D4RL" / "pen" / "empty-v0" / "data").mkdir(parents=True)
    code, out, err = run("datasets", "D4RL/door", "--root", str(root))
    assert (code, err) == (0, "")
    rows = out.splitlines()
    assert rows[1] == (
        "D4RL/door/broken-v0         -          -    9 B  (unreadable metadata: -v says why)"
    )
    assert len(rows) == 5
    code, out, err = run("datasets", "--root", str(root), "-v")
    assert code == 0
    warnings = [line for line in err.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 2
    assert f"{broken} is not valid UTF-8 JSON" in warnings[0]
    assert "empty-v0" in warnings[1]
    assert "is missing" in warnings[1]
    code, out, _ = run("datasets", "--root", str(root), "--json")
    entries = {entry["id"]: entry for entry in strict_json(out)}
    assert code == 0
    assert "not valid UTF-8 JSON" in entries["D4RL/door/broken-v0"]["error"]
    assert "metadata" not in entries["D4RL/door/broken-v0"]
    assert entries["D4RL/door/human-v2"]["total_steps"] == 6729


def test_stored_strings_cannot_drive_the_terminal_or_break_a_row(root: Path) -> None:
    hostile = "Evil\x1b]0;pwned\x07\x1b[2J\x1b[31m red\nsecond line\r\u202e txt"
    write_dataset(root, "lab/evil-v0", {"total_episodes": 1, "description": hostile})
    NamespaceService.from_urls(root).create("lab", description=hostile)
    code, out, _ = run("datasets", "lab", "--root", str(root))
    assert code == 0
    assert out.splitlines()[1:] == [
        "lab/evil-v0         1      -  112 B  "
        "Evil\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31m red\\nsecond line\\r\\u202\u2026"
    ]
    for listing in (out, run("list", "--datasets", "--root", str(root))[1]):
        assert not {"\x1b", "\x07", "\r", "\u202e"} & set(listing)
    code, out, _ = run("datasets", "lab", "--root", str(root), "--json")
    assert not {"\x1b", "\x07", "\r", "\u202e"} & set(out)
    assert strict_json(out)[0]["metadata"]["description"] == hostile


def test_an_invalid_prefix_is_a_usage_error_in_the_command_lines_words(root: Path) -> None:
    code, out, err = run("datasets", "D4RL/door x\x1b[2J", "--root", str(root))
    assert (code, out) == (2, "")
    assert "Invalid value for PREFIX: 'D4RL/door x\\x1b[2J' is not a namespace such as" in err
    assert "\x1b" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["--from-remote", "--remote", "file:///elsewhere", "--root", "."],
        ["--remote", "file:///elsewhere", "--root", "."],
        ["--quiet"],
        ["a", "b"],
    ],
)
def test_flags_that_would_be_ignored_are_usage_errors(args: list[str]) -> None:
    code, out, _ = run("datasets", *args)
    assert (code, out) == (2, "")


def test_errors_are_one_line_with_status_1() -> None:
    code, out, err = run("datasets", "--from-remote")
    assert (code, out) == (1, "")
    assert err.startswith("Error: no remote store: give --remote URL or set MINARI_REMOTE")
    assert len(err.strip().splitlines()) == 1


def test_a_file_remote_lists_its_datasets(tmp_path: Path) -> None:
    remote = write_tree(tmp_path / "remote").as_uri()
    for side in (["--from-remote", "--remote", remote], ["--remote", remote]):
        code, out, _ = run("datasets", "D4RL/door", "--latest", *side)
        assert code == 0
        assert out.splitlines()[1:] == [
            "D4RL/door/expert-v2     5,000  1,000,000  137 B  Door opening by an expert policy.",
            "D4RL/door/human-v2         25      6,729  121 B  Door opening by humans.",
        ]
    code, out, _ = run("list", "remote", "--datasets", "--remote", remote, "-p", "D4RL/pen")
    assert (code, out.splitlines()[0]) == (0, remote)
    assert out.splitlines()[-1] == "        └── cloned-v1  3,755 episodes, 1,000,000 steps"


def test_a_tree_on_a_pipe_is_never_cut_at_80_columns(tmp_path: Path) -> None:
    """The fresh-clone run of 2026-12-06: a remote URL longer than 80 characters lost
    its end in `list remote` output read by a script."""
    remote = write_tree(tmp_path.joinpath("a-folder-name-long-enough", "x" * 60, "remote")).as_uri()
    code, out, _ = run("list", "remote", "--datasets", "--remote", remote, "-p", "D4RL/pen")
    assert len(remote) > 100
    assert (code, out.splitlines()[0]) == (0, remote)


def test_list_datasets_draws_them_under_their_namespaces(root: Path) -> None:
    write_dataset(root, "cartpole-v0", {"total_episodes": 2})
    write_dataset(root, "D4RL/pen/broken-v0", b"[]")
    code, out, err = run("list", "--datasets", "--root", str(root))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        str(root),
        "├── D4RL",
        "│   ├── door  Door opening",
        "│   │   ├── expert-v2  5,000 episodes, 1,000,000 steps",
        "│   │   ├── human-v1  25 episodes, 6,729 steps",
        "│   │   └── human-v2  25 episodes, 6,729 steps",
        "│   ├── door-x",
        "│   │   └── play-v0  10 episodes, 2,000 steps",
        "│   └── pen  Pen twirling",
        "│       ├── broken-v0  (unreadable metadata: -v says why)",
        "│       └── cloned-v1  3,755 episodes, 1,000,000 steps",
        "└── cartpole-v0  2 episodes",
    ]
    code, _, err = run("list", "--datasets", "--root", str(root), "-v")
    assert code == 0
    assert "Warning: Dataset metadata " in err
    assert "holds a JSON list, not an object" in err


def test_list_datasets_json_holds_namespaces_and_datasets(root: Path) -> None:
    code, out, _ = run("list", "--datasets", "--json", "--root", str(root), "-p", "D4RL/door")
    assert code == 0
    listing = strict_json(out)
    assert listing["namespaces"] == [
        {"id": "D4RL/door", "metadata": {"description": "Door opening"}}
    ]
    assert [entry["id"] for entry in listing["datasets"]] == [
        "D4RL/door/expert-v2", "D4RL/door/human-v1", "D4RL/door/human-v2",
    ]  # fmt: skip
    assert listing["datasets"][0]["total_episodes"] == 5000
    assert strict_json(run("list", "--json", "--root", str(root))[1])[1] == {
        "id": "D4RL/door",
        "metadata": {"description": "Door opening"},
    }


def test_an_empty_store_lists_no_datasets(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    assert run("datasets", "--root", str(empty)) == (0, "No datasets.\n", "")
    assert strict_json(run("datasets", "--root", str(empty), "--json")[1]) == []
    code, out, _ = run("list", "--datasets", "--json", "--root", str(empty))
    assert (code, strict_json(out)) == (0, {"namespaces": [], "datasets": []})


def test_the_datasets_command_has_help_with_an_example() -> None:
    assert "datasets" in run("--help")[1]
    code, text, _ = run("datasets", "--help")
    assert code == 0
    assert "Example: minari-namespaces datasets" in text
    assert "--datasets" in run("list", "--help")[1]


# -- catalog ---------------------------------------------------------------------


def test_catalog_writes_minaris_pages_and_the_offline_page(root: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    code, out, err = run("catalog", str(site), "D4RL/door", "--root", str(root))
    assert (code, err) == (0, "")
    assert out.strip() == (
        f"Wrote 6 page(s) for 1 namespace(s) and 3 dataset(s) from {root} to {site}: "
        f"open {site / 'index.html'}"
    )
    door = (site / "D4RL" / "door" / "index.md").read_text(encoding="utf-8")
    assert door.startswith("# Door\n")
    assert "## Content" in door
    for name in ("expert-v2", "human-v1", "human-v2"):
        assert (site / "D4RL" / "door" / f"{name}.md").is_file()
        assert name in door
    assert not (site / "D4RL" / "door-x").exists()
    assert "D4RL/door/human-v2" in (site / "index.html").read_text(encoding="utf-8")


def test_catalog_of_a_remote_and_its_usage_errors(root: Path, tmp_path: Path) -> None:
    remote = write_tree(tmp_path / "remote").as_uri()
    code, _, err = run("catalog", str(tmp_path / "site"), "--remote", remote)
    assert (code, err) == (0, "")
    assert (tmp_path / "site" / "D4RL" / "door-x" / "play-v0.md").is_file()
    assert run("catalog", str(tmp_path / "x"), "--remote", remote, "--root", str(root))[0] == 2
    assert run("catalog", str(tmp_path / "x"), "not a/namespace")[0] == 2
    assert run("catalog")[0] == 2


def test_catalog_refuses_an_empty_outdir_instead_of_writing_here(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 25, low: ``catalog ""`` wrote the pages into the current folder."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run("catalog", "", "--root", str(root))
    assert code == 2
    assert "OUTDIR" in err
    assert list(tmp_path.iterdir()) == [root]


def test_list_datasets_counts_one_episode_and_one_step_in_the_singular(root: Path) -> None:
    """Issue 25, low: ``list --datasets`` said "1 episodes"."""
    write_dataset(root, "cartpole-v0", {"total_episodes": 1, "total_steps": 1})
    code, out, err = run("list", "--datasets", "--root", str(root))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "└── cartpole-v0  1 episode, 1 step"
