"""The command line through Typer's runner: output, exit codes and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minari_namespaces import NamespaceService, __version__
from minari_namespaces.cli import app


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "datasets"


@pytest.fixture
def remote(tmp_path: Path) -> str:
    return (tmp_path / "remote").as_uri()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    assert run("--version") == (0, f"minari-namespaces {__version__}\n", "")


def test_create_with_description_json_values_and_a_file(root: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"source": "file", "level": 0}))
    code, out, err = run(
        "create", "D4RL/door", "--root", str(root), "-d", "Door",
        "--set", "level=2", "--set", 'tags=["a", 1]', "--set", "plain=not json",
        "--from-json", str(extra),
    )  # fmt: skip
    assert (code, out, err) == (0, "Created D4RL/door\n", "")
    service = NamespaceService.from_urls(root)
    assert service.get("D4RL/door").to_dict() == {
        "source": "file",
        "level": 2,
        "tags": ["a", 1],
        "plain": "not json",
        "description": "Door",
    }
    assert service.get("D4RL").to_dict() == {}


def test_create_twice_fails_with_one_line_unless_exist_ok(root: Path) -> None:
    assert run("create", "a/b", "--root", str(root))[0] == 0
    code, out, err = run("create", "a/b", "--root", str(root))
    assert code == 1
    assert out == ""
    assert err.startswith("Error: Namespace 'a/b' already exists in ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert run("create", "a/b", "--root", str(root), "--exist-ok")[:2] == (0, "Exists a/b\n")


def test_show_prints_the_metadata_as_json(root: Path) -> None:
    run("create", "x", "--root", str(root), "-d", "café ✓")
    code, out, _ = run("show", "x", "--root", str(root))
    assert code == 0
    assert json.loads(out) == {"description": "café ✓"}


def test_update_merges_by_default_and_replaces_on_request(root: Path) -> None:
    run("create", "x", "--root", str(root), "-d", "d", "--set", "a=1", "--set", "b=2")
    code, out, _ = run("update", "x", "--root", str(root), "--set", "c=3", "--unset", "a",
                       "--unset", "zz")  # fmt: skip
    assert code == 0
    assert out == "Updated x: set ['c'], removed ['a'], not present ['zz']\n"
    assert NamespaceService.from_urls(root).get("x").to_dict() == {
        "description": "d",
        "b": 2,
        "c": 3,
    }
    assert run("update", "x", "--root", str(root), "--replace", "--set", "only=1")[0] == 0
    assert NamespaceService.from_urls(root).get("x").to_dict() == {"only": 1}


def test_delete_refuses_a_parent_and_removes_a_leaf(root: Path) -> None:
    run("create", "p/c", "--root", str(root))
    code, _, err = run("delete", "p", "--root", str(root))
    assert code == 1
    assert err.startswith("Error: Namespace 'p' is not empty")
    assert len(err.strip().splitlines()) == 1
    assert run("delete", "p/c", "--root", str(root))[:2] == (0, "Deleted p/c\n")


def test_list_draws_a_tree_with_descriptions(root: Path) -> None:
    run("create", "D4RL/door", "--root", str(root), "-d", "Door opening")
    run("create", "mujoco", "--root", str(root))
    code, out, _ = run("list", "--root", str(root))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == str(root)
    assert [line.split()[-1] for line in lines[1:] if "Door" not in line] == ["D4RL", "mujoco"]
    assert any("door" in line and "Door opening" in line for line in lines)


def test_list_json_is_for_scripts(root: Path) -> None:
    run("create", "D4RL/door", "--root", str(root), "-d", "Door")
    run("create", "zz", "--root", str(root))
    code, out, _ = run("list", "--root", str(root), "--json", "--prefix", "D4RL")
    assert code == 0
    assert json.loads(out) == [
        {"id": "D4RL", "metadata": {}},
        {"id": "D4RL/door", "metadata": {"description": "Door"}},
    ]


def test_upload_diff_download_round_trip(root: Path, remote: str, tmp_path: Path) -> None:
    run("create", "D4RL/door", "--root", str(root), "-d", "Door")
    run("create", "D4RL/pen", "--root", str(root))
    code, out, err = run("upload", "--tree", "--root", str(root), "--remote", remote)
    assert code == 0
    assert "Uploaded 3 namespace(s)" in out
    assert err == ""
    code, out, _ = run("diff", "--root", str(root), "--remote", remote)
    assert (code, out) == (0, "In sync (3 namespace(s) on both sides)\n")

    run("update", "D4RL/pen", "--root", str(root), "-d", "changed")
    code, out, _ = run("diff", "--root", str(root), "--remote", remote, "--json")
    assert json.loads(out) == {"only_local": [], "only_remote": [], "different": ["D4RL/pen"]}

    code, out, err = run("upload", "D4RL/pen", "--root", str(root), "--remote", remote)
    assert code == 0
    assert "kept    D4RL/pen" in out
    assert err.startswith("Warning: Kept 1 existing namespace(s)")
    assert run("upload", "D4RL/pen", "--root", str(root), "--remote", remote, "--overwrite")[0] == 0

    other = tmp_path / "other"
    code, out, _ = run("download", "D4RL/door", "--root", str(other), "--remote", remote)
    assert code == 0
    assert out.splitlines()[1:] == ["  copied  D4RL", "  copied  D4RL/door"]
    assert run("download", "--tree", "--root", str(other), "--remote", remote)[0] == 0
    code, out, _ = run("list", "--root", str(other), "--json")
    assert [item["id"] for item in json.loads(out)] == ["D4RL", "D4RL/door", "D4RL/pen"]
    code, out, _ = run("list", "--from-remote", "--remote", remote, "--json", "--root", str(other))
    assert json.loads(out)[2] == {"id": "D4RL/pen", "metadata": {"description": "changed"}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "missing"], "Error: Namespace 'missing' does not exist in "),
        (["create", "a b"], "Error: Malformed namespace 'a b'"),
        (["create", "x", "--set", "k=NaN"], "Error: ['k'] is nan"),
        (["diff"], "Error: This NamespaceService has no remote"),
        (["show", "x", "--from-remote"], "Error: This NamespaceService has no remote"),
    ],
)
def test_errors_are_one_line_on_stderr_with_status_1(
    root: Path, args: list[str], message: str
) -> None:
    code, out, err = run(*args, "--root", str(root))
    assert code == 1
    assert out == ""
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["bogus"],
        ["create"],
        ["create", "x", "--set", "novalue"],
        ["upload"],
        ["update", "x", "--replace", "--unset", "a"],
        ["list", "--no-such-option"],
    ],
)
def test_usage_errors_exit_2(root: Path, args: list[str]) -> None:
    run("create", "x", "--root", str(root))
    assert run(*args, "--root", str(root))[0] == 2


def test_every_command_has_help_with_an_example() -> None:
    code, out, _ = run("--help")
    assert code == 0
    commands = ["create", "show", "update", "delete", "list", "upload", "download", "diff"]
    for command in commands:
        assert command in out
        code, text, _ = run(command, "--help")
        assert code == 0
        assert "Example: minari-namespaces" in text


def test_a_metadata_key_named_like_an_option_is_stored(root: Path) -> None:
    """Issue 10, defect 4: ``--set exist_ok=true`` printed a TypeError traceback."""
    code, _, err = run("create", "a", "--root", str(root), "--set", "exist_ok=true")
    assert (code, err) == (0, "")
    assert NamespaceService.from_urls(root).get("a").to_dict() == {"exist_ok": True}


def test_stored_text_cannot_drive_the_terminal(root: Path) -> None:
    """Issue 10, defect 12: descriptions reached the terminal raw (title changes,
    screen clears, colours, bidi overrides)."""
    hostile = "Door\x1b]0;pwned\x07\x1b[2J\x1b[31m red \u202e evil"
    NamespaceService.from_urls(root).create("a", description=hostile)
    code, out, _ = run("list", "--root", str(root))
    assert code == 0
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "\\x1b]0;pwned\\x07" in out
    code, out, _ = run("list", "--root", str(root), "--json")
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert json.loads(out)[0]["metadata"]["description"] == hostile
    code, out, _ = run("show", "a", "--root", str(root))
    assert "\u202e" not in out
    assert json.loads(out)["description"] == hostile


def test_deeply_nested_input_is_one_error_line_never_a_traceback(
    root: Path, tmp_path: Path
) -> None:
    """Issue 10, defect 10: ``--set`` and ``--from-json`` printed a RecursionError."""
    deep = "[" * 100_000 + "]" * 100_000
    code, _, err = run("create", "a", "--root", str(root), "--set", f"k={deep}")
    assert code == 2
    assert "nested too deeply" in err
    assert "Traceback" not in err
    source = tmp_path / "deep.json"
    source.write_text('{"k": ' + deep + "}")
    code, _, err = run("create", "a", "--root", str(root), "--from-json", str(source))
    assert code == 2
    assert "nested too deeply" in err


def test_one_corrupt_namespace_is_reported_while_the_rest_is_listed(root: Path) -> None:
    """Issue 10, defect 11: one unreadable marker made ``list`` fail for the whole store."""
    service = NamespaceService.from_urls(root)
    service.create("good", description="fine")
    service.create("bad")
    (root / "bad" / "namespace_metadata.json").write_bytes(b'{"x": "\\ud800"}')
    code, out, err = run("list", "--root", str(root), "--json")
    assert code == 0
    entries = {entry["id"]: entry for entry in json.loads(out)}
    assert entries["good"]["metadata"] == {"description": "fine"}
    assert "not Unicode" in entries["bad"]["error"]
    assert err.startswith("Warning:")
    code, out, _ = run("list", "--root", str(root))
    assert code == 0
    assert "fine" in out
    assert "unreadable" in out
