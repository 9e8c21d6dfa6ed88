"""The command line through Typer's runner: output, exit codes and errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import fsspec
import pytest
from typer.testing import CliRunner

from minari_namespaces import NamespaceId, NamespaceMetadata, NamespaceService, __version__
from minari_namespaces.cli import app
from minari_namespaces.cli import transfers as cli
from minari_namespaces.stores.credentials import carries_credentials


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


def test_update_properties_merges_and_replace_replaces_everything(root: Path) -> None:
    """Issue 13, point 5: the names say what they do, as in the API."""
    run("create", "x", "--root", str(root), "-d", "d", "--set", "a=1", "--set", "b=2")
    code, out, _ = run("update-properties", "x", "--root", str(root), "--set", "c=3",
                       "--unset", "a", "--unset", "zz")  # fmt: skip
    assert code == 0
    assert out == "Updated x: set ['c'], removed ['a'], not present ['zz']\n"
    assert NamespaceService.from_urls(root).get("x").to_dict() == {
        "description": "d",
        "b": 2,
        "c": 3,
    }
    code, out, _ = run("replace", "x", "--root", str(root), "--set", "only=1")
    assert (code, out) == (0, "Replaced the metadata of x\n")
    assert NamespaceService.from_urls(root).get("x").to_dict() == {"only": 1}


def test_the_old_update_command_says_which_command_to_use(root: Path) -> None:
    run("create", "x", "--root", str(root))
    code, out, err = run("update", "x", "--set", "a=1", "--root", str(root))
    assert (code, out) == (2, "")
    assert "'update-properties'" in err
    assert "'replace'" in err
    assert NamespaceService.from_urls(root).get("x").to_dict() == {}
    assert "update " not in run("--help")[1]


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
    assert out.startswith(f"Uploaded 3 namespace(s) from {root} to {remote}\n")
    assert err == ""
    code, out, _ = run("diff", "--root", str(root), "--remote", remote)
    assert (code, out) == (0, "In sync (3 namespace(s) on both sides)\n")

    run("update-properties", "D4RL/pen", "--root", str(root), "-d", "changed")
    code, out, _ = run("diff", "--root", str(root), "--remote", remote, "--json")
    assert code == 1
    assert json.loads(out) == {"only_local": [], "only_remote": [], "different": ["D4RL/pen"]}

    code, out, err = run("upload", "D4RL/pen", "--root", str(root), "--remote", remote)
    assert code == 0
    assert out == "Uploaded nothing; 0 namespace(s) already up to date\n"
    assert err == (
        f"Warning: 1 namespace(s) differ in {remote} and were kept: 'D4RL/pen'. "
        "--overwrite replaces them.\n"
    )
    code, out, _ = run("upload", "D4RL/pen", "--root", str(root), "--remote", remote, "--overwrite")
    assert code == 0
    assert out.splitlines()[1:] == ["  replaced  D4RL/pen"]

    other = tmp_path / "other"
    code, out, _ = run("download", "D4RL/door", "--root", str(other), "--remote", remote)
    assert code == 0
    assert out.splitlines()[1:] == ["  copied    D4RL", "  copied    D4RL/door"]
    assert run("download", "--tree", "--root", str(other), "--remote", remote)[0] == 0
    code, out, _ = run("list", "--root", str(other), "--json")
    assert [item["id"] for item in json.loads(out)] == ["D4RL", "D4RL/door", "D4RL/pen"]
    code, out, _ = run("list", "remote", "--remote", remote, "--json")
    assert json.loads(out)[2] == {"id": "D4RL/pen", "metadata": {"description": "changed"}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "missing"], "Error: Namespace 'missing' does not exist in "),
        (["create", "a b"], "Error: Malformed namespace 'a b'"),
        (["create", "x", "--set", "k=NaN"], "Error: ['k'] is nan"),
        (["download", "x"], "Error: no remote store: give --remote URL or set"),
        (["upload", "x"], "Error: no remote store: give --remote URL or set MINARI_REMOTE"),
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
        ["list", "nowhere"],
        ["create", "y", "--quiet", "--verbose"],
        ["upload", "x", "--yes", "--remote", "file:///r"],
        ["show", "x", "--remote", "file:///r"],
    ],
)
def test_usage_errors_exit_2(root: Path, args: list[str]) -> None:
    run("create", "x", "--root", str(root))
    assert run(*args, "--root", str(root))[0] == 2


def test_every_command_has_help_with_an_example() -> None:
    code, out, _ = run("--help")
    assert code == 0
    commands = ["create", "show", "replace", "update-properties", "delete", "list", "upload"]
    commands += ["download", "diff"]
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


# -- issue 13: a command line that speaks its own language ------------------------------


def tree_of(root: Path, count: int) -> list[str]:
    names = [f"lab/n{number:02}" for number in range(count)]
    service = NamespaceService.from_urls(root)
    for name in names:
        service.create(name, description="local")
    return ["lab", *names]


def test_reuploading_an_in_sync_tree_is_one_up_to_date_line(root: Path, remote: str) -> None:
    """Point 1: no "Uploaded 0", no line per namespace, no warning."""
    tree_of(root, 30)
    assert run("upload", "--tree", "--root", str(root), "--remote", remote)[0] == 0
    code, out, err = run("upload", "--tree", "--root", str(root), "--remote", remote)
    assert (code, err) == (0, "")
    assert out == f"Up to date: 31 namespace(s) already the same in {remote}\n"


def test_only_namespaces_that_differ_are_reported_the_first_few_unless_verbose(
    root: Path, remote: str
) -> None:
    """Point 1: a count plus the first few; all of them with --verbose."""
    names = tree_of(root, 30)
    run("upload", "--tree", "--root", str(root), "--remote", remote)
    remote_side = NamespaceService.from_urls(root, remote).remote
    for name in names[1:16]:
        remote_side.replace(NamespaceId(name), NamespaceMetadata.from_dict({"v": 2}))
    code, out, err = run("upload", "--tree", "--root", str(root), "--remote", remote)
    assert code == 0
    assert out == "Uploaded nothing; 16 namespace(s) already up to date\n"
    assert len(err.splitlines()) == 1
    assert err.startswith(f"Warning: 15 namespace(s) differ in {remote} and were kept: ")
    assert "'lab/n09', and 5 more (--verbose lists them all)" not in err
    assert "'lab/n09' and 5 more (--verbose lists them all). --overwrite replaces them." in err
    assert "'lab/n10'" not in err
    assert "overwrite=True" not in err
    _, _, err = run("upload", "--tree", "--root", str(root), "--remote", remote, "-v")
    warning = [line for line in err.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1
    assert all(f"'{name}'" in warning[0] for name in names[1:16])
    assert "more" not in warning[0]


def test_a_long_copy_list_shows_the_first_few_unless_verbose(root: Path, remote: str) -> None:
    tree_of(root, 30)
    code, out, _ = run("upload", "--tree", "--root", str(root), "--remote", remote, "--dry-run")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Would upload 31 namespace(s) from {root} to {remote}"
    assert lines[1:] == [
        f"  copied    {name}" for name in ["lab"] + [f"lab/n{n:02}" for n in range(9)]
    ] + ["  ... and 21 more (--verbose lists them all)"]
    code, out, _ = run("upload", "--tree", "--root", str(root), "--remote", remote, "-n", "-v")
    assert len(out.splitlines()) == 32


def test_messages_name_flags_and_variables_never_python_keywords(root: Path) -> None:
    """Point 2."""
    run("create", "a", "--root", str(root))
    for args in (["upload", "a"], ["diff"], ["list", "remote"], ["show", "a", "--from-remote"]):
        environment = {"MINARI_REMOTE": "", "MINARI_DATASETS_PATH": str(root)}
        result = CliRunner().invoke(app, args, env=environment)
        assert "give --remote URL or set MINARI_REMOTE" in result.stderr, args
        assert "remote=" not in result.stderr
        assert "NamespaceService" not in result.stderr


def test_credentials_in_a_remote_url_are_refused_in_the_command_lines_words(root: Path) -> None:
    """Point 2: the library says "pass them as storage options"; the command line has
    none, so it names the backend's own ways."""
    secret = "s3://user:hunter2@bucket/minari"
    code, out, err = run("list", "remote", "--remote", secret)
    assert (code, out) == (2, "")
    assert "--remote / MINARI_REMOTE" in err
    assert "AWS_*" in err
    assert "hunter2" not in err
    assert "storage options" not in err
    result = CliRunner().invoke(app, ["diff"], env={"MINARI_REMOTE": secret})
    assert result.exit_code == 2
    assert "hunter2" not in result.stderr


# Secrets with the characters that fool a URL parser: "/" ends the authority early,
# "@" and ":" split it in the wrong place, and percent-escapes hide both.
SECRET_URLS = [
    ("s3://AKIA:se/cr@t%2F:x@bucket/prefix", ["se/cr", "t%2F:x", "se/cr@t%2F"]),
    ("hf://user:tok/en@org", ["tok/en"]),
    ("az://name:key==/x@container", ["key==/x", "key=="]),
    ("gs://svc%40proj:p%3Ass@bucket", ["p%3Ass"]),
    ("memory://alice@bucket/tree", ["alice"]),
]


@pytest.mark.parametrize(("url", "secrets"), SECRET_URLS)
@pytest.mark.parametrize(
    "args",
    [
        ["list", "remote", "--remote", "URL"],
        ["list", "URL"],
        ["diff", "--remote", "URL"],
        ["datasets", "--remote", "URL"],
        ["upload", "--tree", "--remote", "URL"],
        ["upload", "--tree"],  # the URL from MINARI_REMOTE
        ["show", "D4RL", "--from-remote"],  # the URL from MINARI_REMOTE
    ],
)
def test_a_user_or_password_in_a_remote_url_is_refused_whatever_its_characters(
    root: Path, url: str, secrets: list[str], args: list[str]
) -> None:
    """Issue 19, point 3: refused in the command line's words, as a usage error,
    before any backend is loaded; the secret is never shown."""
    NamespaceService.from_urls(root).create("D4RL/door")
    arguments = [url if arg == "URL" else arg for arg in args]
    environment = {"MINARI_DATASETS_PATH": str(root), "MINARI_REMOTE": url}
    result = CliRunner().invoke(app, arguments, env=environment)
    assert (result.exit_code, result.stdout) == (2, "")
    assert isinstance(result.exception, SystemExit)
    assert "the URL carries credentials" in result.stderr
    assert "--remote / MINARI_REMOTE" in result.stderr
    assert "AWS_*" in result.stderr
    assert "storage options" not in result.stderr
    assert "Traceback" not in result.stderr
    for secret in secrets:
        assert secret not in result.stdout + result.stderr
    # Nothing reached the remote: the in-memory one holds nothing after an upload.
    assert not fsspec.filesystem("memory").exists("alice@bucket/tree")


@pytest.mark.parametrize(
    ("url", "refused"),
    [(url, True) for url, _ in SECRET_URLS]
    + [
        ("s3://user:hunter2@bucket/minari", True),
        ("s3://user@bucket", True),
        ("hf://farama-minari", False),
        ("s3://bucket/prefix", False),
        ("s3://bucket/v@2", False),
        ("file:///tmp/a:b@c", False),
        ("memory://tree", False),
        ("", False),
    ],
)
def test_the_credential_rule_reads_any_user_part(url: str, refused: bool) -> None:
    assert carries_credentials(url) is refused


def test_a_remote_whose_path_holds_an_at_sign_is_a_remote_like_any_other(
    root: Path, tmp_path: Path
) -> None:
    remote = (tmp_path / "re@mote").as_uri()
    NamespaceService.from_urls(root).create("D4RL")
    assert run("upload", "--tree", "--root", str(root), "--remote", remote)[0] == 0
    code, out, _ = run("list", "remote", "--remote", remote, "--json")
    assert (code, [item["id"] for item in json.loads(out)]) == (0, ["D4RL"])


def test_the_remote_listing_is_explicit(root: Path, remote: str) -> None:
    """Point 3: ``list remote`` (or ``list URL``); an ignored flag is a usage error."""
    NamespaceService.from_urls(root, remote).create("only-local")
    other = root.parent / "other"
    NamespaceService.from_urls(other, remote).create("up/there")
    run("upload", "--tree", "--root", str(other), "--remote", remote)
    code, out, _ = run("list", "remote", "--remote", remote, "--json")
    assert (code, [item["id"] for item in json.loads(out)]) == (0, ["up", "up/there"])
    code, out, _ = run("list", remote, "--json", "-p", "up/there")
    assert (code, [item["id"] for item in json.loads(out)]) == (0, ["up/there"])
    code, out, err = run("list", "--remote", remote, "--root", str(root))
    assert (code, out) == (2, "")
    assert "did you mean 'list remote'?" in err
    assert run("list", "remote", "--remote", remote, "--root", str(root))[0] == 2
    assert run("list", remote, "--remote", remote)[0] == 2
    code, out, _ = run("list", "local", "--root", str(root), "--json")
    assert [item["id"] for item in json.loads(out)] == ["only-local"]


def test_diff_exit_status_is_0_in_sync_1_different_2_trouble(root: Path, remote: str) -> None:
    """Point 4, as diff(1)."""
    NamespaceService.from_urls(root).create("a")
    assert run("diff", "--root", str(root), "--remote", remote)[:2] == (1, "only local   a\n")
    run("upload", "a", "--root", str(root), "--remote", remote)
    assert run("diff", "--root", str(root), "--remote", remote)[0] == 0
    NamespaceService.from_urls(root).create("b")
    code, out, err = run("diff", "--root", str(root), "--remote", remote, "--quiet")
    assert (code, out, err) == (1, "", "")
    code, out, _ = run("diff", "--root", str(root), "--remote", remote, "--json", "-p", "a")
    assert (code, json.loads(out)["only_local"]) == (0, [])
    code, _, err = run("diff", "--root", str(root))
    assert code == 2
    assert err.startswith("Error: no remote store")
    code, _, err = run("diff", "--root", str(root), "--remote", "hf://not a repo")
    assert code == 2
    assert err.startswith("Error:")


def test_shell_completion_is_offered_and_completes_local_namespaces(root: Path) -> None:
    """Point 6: as Minari's own command, ``--install-completion``; NAMESPACE arguments
    complete from the local store (through the protocol the installed script uses)."""
    assert "--install-completion" in run("--help")[1]
    NamespaceService.from_urls(root).create("D4RL/door")
    NamespaceService.from_urls(root).create("D4RL/pen")
    NamespaceService.from_urls(root).create("mujoco")

    def complete(mode: str, words: str) -> str:
        environment = {
            "_MINARI_NAMESPACES_COMPLETE": mode,
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
            "MINARI_DATASETS_PATH": str(root),
        }
        result = CliRunner().invoke(app, [], env=environment, prog_name="minari-namespaces")
        assert result.exit_code == 0, (result.exception, result.stderr)
        return result.stdout

    assert "complete -o default -F _minari_namespaces_completion" in complete("source_bash", "")
    assert complete("complete_bash", "minari-namespaces show D4") == "D4RL\nD4RL/door\nD4RL/pen\n"
    assert complete("complete_bash", "minari-namespaces delete mu") == "mujoco\n"


def test_overwrite_asks_on_a_terminal_and_yes_or_force_skip_the_question(
    root: Path, remote: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point 6: confirmation before --overwrite replaces metadata (a terminal only)."""
    NamespaceService.from_urls(root).create("a", description="local")
    NamespaceService.from_urls(root, remote).remote.create(
        NamespaceId("a"), NamespaceMetadata.from_dict({"description": "remote"})
    )
    service = NamespaceService.from_urls(root, remote)
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    args = ["upload", "a", "--root", str(root), "--remote", remote, "--overwrite"]
    declined = CliRunner().invoke(app, args, input="n\n")
    assert declined.exit_code == 1
    assert "1 namespace(s) differ in" in declined.stderr
    assert "Replace their metadata with the copy from" in declined.stderr
    assert declined.stderr.endswith("Nothing was written.\n")
    assert service.get("a", remote=True).description == "remote"
    accepted = CliRunner().invoke(app, args, input="y\n")
    assert accepted.exit_code == 0
    assert service.get("a", remote=True).description == "local"
    service.replace("a", {"description": "again"})
    for skip in (["--yes"], ["-y"]):
        forced = CliRunner().invoke(app, [*args, *skip], input="")
        assert (forced.exit_code, "Replace their" in forced.stderr) == (0, False)
    service.replace("a", {"description": "forced"})
    forced = CliRunner().invoke(app, [*args[:-1], "-f"], input="")
    assert (forced.exit_code, "Replace their" in forced.stderr) == (0, False)
    assert service.get("a", remote=True).description == "forced"
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: False)
    service.replace("a", {"description": "piped"})
    assert CliRunner().invoke(app, args, input="").exit_code == 0
    assert service.get("a", remote=True).description == "piped"


def test_a_dry_run_writes_nothing(root: Path, remote: str, tmp_path: Path) -> None:
    """Point 6: --dry-run for upload and download."""
    tree_of(root, 3)
    code, out, _ = run("upload", "--tree", "--dry-run", "--root", str(root), "--remote", remote)
    assert code == 0
    assert out.startswith("Would upload 4 namespace(s)")
    assert not (tmp_path / "remote").exists()
    run("upload", "--tree", "--root", str(root), "--remote", remote)
    other = tmp_path / "other"
    code, out, _ = run("download", "lab/n01", "-n", "--root", str(other), "--remote", remote)
    assert out.splitlines() == [
        f"Would download 2 namespace(s) from {remote} to {other}",
        "  copied    lab",
        "  copied    lab/n01",
    ]
    assert NamespaceService.from_urls(other).list_local() == []


def test_quiet_prints_only_errors(root: Path, remote: str) -> None:
    assert run("create", "a/b", "-q", "--root", str(root)) == (0, "", "")
    assert run("upload", "--tree", "-q", "--root", str(root), "--remote", remote) == (0, "", "")
    NamespaceService.from_urls(root).replace("a", {"n": 1})
    code, out, err = run("upload", "--tree", "-q", "--root", str(root), "--remote", remote)
    assert (code, out, err) == (0, "", "")
    code, out, err = run("create", "a/b", "-q", "--root", str(root))
    assert (code, out) == (1, "")
    assert err.startswith("Error: Namespace 'a/b' already exists")


def test_verbose_shows_the_package_log_on_stderr_at_debug(root: Path) -> None:
    """Point 6 and 8: --verbose attaches a stderr handler to the package's logger."""
    package_logger = logging.getLogger("minari_namespaces")
    handlers = list(package_logger.handlers)
    code, out, err = run("create", "a", "-v", "--root", str(root))
    assert (code, out) == (0, "Created a\n")
    assert f"DEBUG minari_namespaces.cli: local store {root}" in err
    assert package_logger.handlers == handlers
    code, out, err = run("create", "b", "--root", str(root))
    assert (code, err) == (0, "")


def test_verbose_names_the_remote_that_minari_remote_gives(root: Path, remote: str) -> None:
    environment = {"MINARI_DATASETS_PATH": str(root), "MINARI_REMOTE": remote}
    result = CliRunner().invoke(app, ["diff", "-v"], env=environment)
    assert result.exit_code == 0
    assert f"local store {root}, remote store {remote}" in result.stderr


def test_verbose_shows_records_of_any_module_of_the_package(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = logging.getLogger("minari_namespaces.stores.example")
    original = NamespaceService.create

    def create_and_log(self: NamespaceService, *args: Any, **kwargs: Any) -> NamespaceId:
        child.debug("a record from a child logger")
        child.info("and one at INFO")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(NamespaceService, "create", create_and_log)
    _, _, err = run("create", "a", "--verbose", "--root", str(root))
    assert "DEBUG minari_namespaces.stores.example: a record from a child logger" in err
    assert "INFO minari_namespaces.stores.example: and one at INFO" in err
    _, _, err = run("create", "b", "--root", str(root))
    assert "a record" not in err
    _, _, err = run("create", "c", "--quiet", "--root", str(root))
    assert err == ""
