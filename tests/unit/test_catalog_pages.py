"""``write_catalog``: Minari's documentation layout and the offline HTML page, written
safely, with every stored string escaped (issue 17, point 4)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from minari_namespaces import LocalNamespaceRepository, NamespaceId, NamespaceService
from minari_namespaces.catalog.markdown import first_sentence, plain_text
from minari_namespaces.catalog.model import format_size
from minari_namespaces.catalog.pages import write_catalog
from tests.support.catalog_tree import DOOR_NAME, HOSTILE, catalog_of, example_tree
from tests.support.harnesses import local_harness_at

#: ``HOSTILE`` as the pages spell it: every character of markup escaped.
ESCAPED_HOSTILE = (
    "\\<script\\>alert(1)\\</script\\>\\<img src=x onerror=alert(2)\\> \\| x \\| "
    "\\[click\\](javascript:alert(3)) !\\[i\\](http://e/x.png)"
)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return example_tree(tmp_path / "store")


def test_every_namespace_and_dataset_gets_its_page_in_minaris_layout(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pages"
    written = write_catalog(catalog_of(store), out)
    expected = [
        "index.md",
        "D4RL/index.md",
        "D4RL/door/index.md",
        "D4RL/door-x/index.md",
        "D4RL/pen/index.md",
        "D4RL/door/expert-v2.md",
        "D4RL/door/human-v1.md",
        "D4RL/door/human-v2.md",
        "D4RL/door-x/play-v0.md",
        "D4RL/pen/cloned-v1.md",
        "index.html",
    ]
    assert written == [out / page for page in expected]
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == {*expected, ".catalog-pages.json"}


def test_a_namespace_page_has_its_title_description_and_content_table(
    store: Path, tmp_path: Path
) -> None:
    write_catalog(catalog_of(store), tmp_path / "pages")
    assert (tmp_path / "pages/D4RL/index.md").read_text() == (
        "# D4RL\n"
        "\n"
        f"Datasets from D4RL. {ESCAPED_HOSTILE}\n"
        "\n"
        "## Content\n"
        "\n"
        "| ID | Description | Episodes | Steps |\n"
        "| --- | --- | --: | --: |\n"
        "| [Door \\| \\*opening\\* \\<b\\>](door/index.md) | Open a door. |  |  |\n"
        "| [Door-x](door-x/index.md) | \\](javascript:alert(4)) Play. |  |  |\n"
        "| [Pen](pen/index.md) |  |  |  |\n"
        "\n"
        "```{toctree}\n"
        ":hidden:\n"
        "\n"
        "door/index\n"
        "door-x/index\n"
        "pen/index\n"
        "```\n"
    )


def test_dataset_rows_link_their_pages_with_first_sentence_episodes_and_steps(
    store: Path, tmp_path: Path
) -> None:
    write_catalog(catalog_of(store), tmp_path / "pages")
    assert (tmp_path / "pages/D4RL/door/index.md").read_text() == (
        "# Door \\| \\*opening\\* \\<b\\>\n"
        "\n"
        "Open a door. With a hand.\n"
        "\n"
        "## Content\n"
        "\n"
        "| ID | Description | Episodes | Steps |\n"
        "| --- | --- | --: | --: |\n"
        "| [expert-v2](expert-v2.md) | \\# Expert. |  |  |\n"
        f"| [human-v1](human-v1.md) | {ESCAPED_HOSTILE} | 25 | 6,729 |\n"
        "| [human-v2](human-v2.md) |  | 25 | 6,729 |\n"
        "\n"
        "```{toctree}\n"
        ":hidden:\n"
        "\n"
        "expert-v2\n"
        "human-v1\n"
        "human-v2\n"
        "```\n"
    )


def test_a_dataset_page_shows_its_id_counts_and_minaris_fields(store: Path, tmp_path: Path) -> None:
    write_catalog(catalog_of(store), tmp_path / "pages")
    assert (tmp_path / "pages/D4RL/door/human-v2.md").read_text() == (
        "# human-v2\n"
        "\n"
        "|  |  |\n"
        "| --- | --- |\n"
        "| Dataset ID | `D4RL/door/human-v2` |\n"
        "| Namespace | [D4RL/door](index.md) |\n"
        "| Total episodes | 25 |\n"
        "| Total steps | 6,729 |\n"
        "| Dataset Size | 67 B |\n"
        "| Author | Farama |\n"
        "| Download | `minari download D4RL/door/human-v2` |\n"
    )


def test_the_top_page_lists_the_top_of_the_catalog(store: Path, tmp_path: Path) -> None:
    write_catalog(catalog_of(store), tmp_path / "pages")
    text = (tmp_path / "pages/index.md").read_text()
    intro = plain_text(f"The namespaces and datasets of {store}.")
    assert text.startswith(f"# Datasets\n\n{intro}\n")
    assert "| [D4RL](D4RL/index.md) | Datasets from D4RL. |  |  |\n" in text


def test_paragraphs_of_a_description_stay_paragraphs(store: Path, tmp_path: Path) -> None:
    write_catalog(catalog_of(store), tmp_path / "pages")
    text = (tmp_path / "pages/D4RL/door-x/index.md").read_text()
    assert "# Door-x\n\n\\](javascript:alert(4)) Play.\n\nSecond paragraph.\n\n" in text


def test_corrupt_metadata_is_a_short_note_never_a_crash(store: Path, tmp_path: Path) -> None:
    harness = local_harness_at(store)
    assert harness.write_marker is not None
    harness.write_marker(NamespaceId("D4RL/door-x"), b"\xff not json")
    write_catalog(catalog_of(store), tmp_path / "pages")
    door_x = (tmp_path / "pages/D4RL/door-x/index.md").read_text()
    assert door_x.startswith("# Door-x\n\n**Metadata unreadable:** ")
    assert "namespace\\_metadata.json" in door_x
    top = (tmp_path / "pages/D4RL/index.md").read_text()
    assert "| [Door-x](door-x/index.md) | *metadata unreadable* |  |  |\n" in top
    pen = (tmp_path / "pages/D4RL/pen/index.md").read_text()
    assert "| [cloned-v1](cloned-v1.md) | *metadata unreadable* |  |  |\n" in pen
    cloned = (tmp_path / "pages/D4RL/pen/cloned-v1.md").read_text()
    assert cloned.startswith("# cloned-v1\n\n**Metadata unreadable:** Dataset metadata ")
    assert "| Total episodes | unknown |\n" in cloned


def rendered(markdown: str) -> BeautifulSoup:
    """The page as a CommonMark renderer with GitHub's tables shows it."""
    return BeautifulSoup(MarkdownIt("commonmark").enable("table").render(markdown), "html.parser")


def test_no_stored_string_becomes_markup_when_the_pages_are_rendered(
    store: Path, tmp_path: Path
) -> None:
    for page in write_catalog(catalog_of(store), tmp_path / "pages"):
        if page.suffix != ".md":
            continue
        html = rendered(page.read_text())
        assert html.find(["script", "img", "b"]) is None, page
        # The one emphasis is the library's own note.
        assert {em.get_text() for em in html.find_all("em")} <= {"metadata unreadable"}, page
        for link in html.find_all("a"):
            assert re.fullmatch(r"[\w/-]+\.md", str(link["href"])), (page, link)
        for row in html.find_all("tr"):
            assert len(row.find_all(["td", "th"])) in (2, 4), (page, row)
    door = rendered((tmp_path / "pages/D4RL/door/index.md").read_text())
    heading = door.find("h1")
    assert heading is not None
    assert heading.get_text() == DOOR_NAME


@given(st.text())
def test_plain_text_renders_as_the_text_itself(text: str) -> None:
    flat = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())
    html = rendered(plain_text(text))
    assert html.get_text().strip() == flat.replace("\x00", "\ufffd")
    assert html.find(lambda tag: tag.name not in ("p",)) is None


@pytest.mark.parametrize("text", ["% a paragraph MyST read as a comment", "(target)="])
def test_myst_comments_and_targets_are_escaped_like_all_markup(text: str) -> None:
    """Issue 25, low: a paragraph starting with ``% `` vanished from the built site (a
    MyST comment) and ``(name)=`` became a target, though all MyST markup is escaped."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    myst = create_md_parser(MdParserConfig(), RendererHTML)
    tokens = myst.parse(plain_text(text))
    assert [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    assert BeautifulSoup(myst.render(plain_text(text)), "html.parser").get_text().strip() == text


def test_the_first_sentence_ends_at_its_full_stop_and_is_cut_when_long() -> None:
    assert first_sentence("Open a door. With a hand.") == "Open a door."
    assert first_sentence("Version 2.1 of it!  Second") == "Version 2.1 of it!"
    assert first_sentence("one\nline") == "one line"
    assert first_sentence("x" * 300) == "x" * 199 + "…"


def test_stale_pages_of_the_last_run_go_and_other_files_stay(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "pages"
    write_catalog(catalog_of(store), out)
    (out / "notes.md").write_text("mine")
    (out / "D4RL/door/mine.txt").write_text("mine")
    for gone in ("D4RL/door-x", "D4RL/door/human-v1", "D4RL/door/human-v2", "D4RL/door/expert-v2"):
        _remove_tree(store / gone)
    write_catalog(catalog_of(store), out)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == {
        ".catalog-pages.json",
        "index.md",
        "index.html",
        "notes.md",
        "D4RL/index.md",
        "D4RL/door/index.md",
        "D4RL/door/mine.txt",
        "D4RL/pen/index.md",
        "D4RL/pen/cloned-v1.md",
    }
    assert not (out / "D4RL/door-x").exists()


def _remove_tree(path: Path) -> None:
    for inner in sorted(path.rglob("*"), reverse=True):
        inner.rmdir() if inner.is_dir() else inner.unlink()
    path.rmdir()


def test_a_manifest_naming_other_files_removes_none_of_them(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "pages"
    out.mkdir()
    victims = [tmp_path / "victim.md", out / "notes.md", out / "D4RL" / "data" / "index.md"]
    for victim in victims:
        victim.parent.mkdir(parents=True, exist_ok=True)
        victim.write_text("keep")
    names = ["../victim.md", "notes.md", "D4RL/data/index.md", "/etc/hostname", "D4RL/../x.md"]
    (out / ".catalog-pages.json").write_text(json.dumps({"pages": names}))
    write_catalog(catalog_of(store), out)
    assert all(victim.read_text() == "keep" for victim in victims)


def test_pages_are_never_written_through_a_symbolic_link(store: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "pages"
    out.mkdir()
    (out / "D4RL").symlink_to(elsewhere)
    with pytest.raises(NotADirectoryError, match="symbolic link or a file"):
        write_catalog(catalog_of(store), out)
    assert list(elsewhere.iterdir()) == []


def test_a_link_in_a_pages_place_is_replaced_not_followed(store: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.md"
    target.write_text("keep")
    out = tmp_path / "pages"
    out.mkdir()
    (out / "index.md").symlink_to(target)
    write_catalog(catalog_of(store), out)
    assert target.read_text() == "keep"
    assert not (out / "index.md").is_symlink()
    assert (out / "index.md").read_text().startswith("# Datasets\n")


def test_an_output_folder_that_is_a_link_is_refused(store: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(NotADirectoryError):
        write_catalog(catalog_of(store), tmp_path / "link")
    assert list(real.iterdir()) == []


def page(store: Path, tmp_path: Path) -> BeautifulSoup:
    write_catalog(catalog_of(store), tmp_path / "pages")
    return BeautifulSoup((tmp_path / "pages/index.html").read_text(), "html.parser")


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_the_html_page_runs_only_its_own_script_and_style(store: Path, tmp_path: Path) -> None:
    html = page(store, tmp_path)
    (script,) = html.find_all("script")
    (style,) = html.find_all("style")
    meta = html.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert meta is not None
    policy = dict(rule.strip().split(" ", 1) for rule in str(meta["content"]).split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == f"'sha256-{_sha256(script.string or '')}'"
    assert policy["style-src"] == f"'sha256-{_sha256(style.string or '')}'"
    assert html.find(["img", "iframe", "object", "embed", "b"]) is None
    assert not any(tag.get("src") for tag in html.find_all(True))
    hrefs = [str(tag["href"]) for tag in html.find_all(href=True)]
    assert hrefs == ["data:,"]  # the empty icon, so that no favicon is asked for


def text_at(tag: Tag, selector: str) -> str:
    found = tag.select_one(selector)
    assert found is not None, selector
    return found.get_text()


def test_the_html_page_shows_the_tree_with_counts_and_notes(store: Path, tmp_path: Path) -> None:
    html = page(store, tmp_path)
    assert [text_at(ns, "summary .name") for ns in html.select("main > details.ns")] == ["D4RL"]
    assert text_at(html, "main > details.ns .badge") == "5 datasets"
    assert len(html.select("summary > .badge")) == len(html.select("details.ns")) == 4
    door = html.select("main details.ns details.ns")[0]
    assert text_at(door, "summary .name") == DOOR_NAME
    assert text_at(door, ".description") == "Open a door. With a hand."
    rows = {text_at(li, ".name"): li for li in html.select("li.ds")}
    assert list(rows) == ["expert-v2", "human-v1", "human-v2", "play-v0", "cloned-v1"]
    assert text_at(rows["human-v2"], ".counts") == "25 episodes · 6,729 steps · 67 B"
    assert text_at(rows["human-v1"], ".summary") == HOSTILE
    assert text_at(rows["play-v0"], ".counts") == "counts unknown · 6 B"
    assert text_at(rows["cloned-v1"], ".error") == "metadata unreadable"


def test_a_catalog_under_a_prefix_starts_its_pages_at_the_prefix(
    store: Path, tmp_path: Path
) -> None:
    catalog = NamespaceService(LocalNamespaceRepository(store)).catalog("D4RL/door")
    out = tmp_path / "pages"
    written = write_catalog(catalog, out)
    assert [page.relative_to(out).as_posix() for page in written] == [
        "index.md",
        "D4RL/door/index.md",
        "D4RL/door/expert-v2.md",
        "D4RL/door/human-v1.md",
        "D4RL/door/human-v2.md",
        "index.html",
    ]
    top = (out / "index.md").read_text()
    assert " under D4RL/door.\n" in top
    assert f"| [{plain_text(DOOR_NAME)}](D4RL/door/index.md) | Open a door. |  |  |\n" in top


def test_a_top_level_dataset_gets_its_page_at_the_top(store: Path, tmp_path: Path) -> None:
    local_harness_at(store).add_dataset(None, "cartpole-v0")
    out = tmp_path / "pages"
    write_catalog(catalog_of(store), out)
    assert "| [cartpole-v0](cartpole-v0.md) |  |  |  |\n" in (out / "index.md").read_text()
    page = (out / "cartpole-v0.md").read_text()
    assert page.startswith("# cartpole-v0\n\n|  |  |\n| --- | --- |\n")
    assert "| Dataset ID | `cartpole-v0` |\n| Total episodes | unknown |\n" in page
    assert "Namespace" not in page
    _remove_tree(store / "cartpole-v0")
    write_catalog(catalog_of(store), out)
    assert not (out / "cartpole-v0.md").exists()


def test_an_outdir_that_is_empty_or_a_file_and_a_folder_in_a_pages_place_say_so(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 25, low: ``""`` wrote into the current folder; an OUTDIR that is a file
    raised FileExistsError (the docstring promises NotADirectoryError); a folder where
    a page belongs was reported by the name of a temporary file."""
    catalog = catalog_of(store)
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    with pytest.raises(ValueError, match="empty"):
        write_catalog(catalog, "")
    assert list(Path().iterdir()) == []
    (tmp_path / "a-file").write_text("mine")
    with pytest.raises(NotADirectoryError) as not_a_folder:
        write_catalog(catalog, tmp_path / "a-file")
    assert not_a_folder.value.filename == str(tmp_path / "a-file")
    (tmp_path / "pages" / "D4RL" / "index.md").mkdir(parents=True)
    with pytest.raises(IsADirectoryError) as blocked:
        write_catalog(catalog, tmp_path / "pages")
    assert blocked.value.filename == str(tmp_path / "pages" / "D4RL" / "index.md")
    assert ".tmp" not in str(blocked.value)


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1_000, "1.0 kB"),
        (999_949, "999.9 kB"),
        (999_950, "1.0 MB"),  # never "1000.0 kB"
        (7_100_000, "7.1 MB"),
        (1 << 30, "1.1 GB"),
        (10**18, "1000.0 PB"),
    ],
)
def test_sizes_are_shown_as_minari_shows_them_in_powers_of_1000(size: int, shown: str) -> None:
    assert format_size(size) == shown
