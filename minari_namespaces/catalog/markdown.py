"""The catalog in Minari's documentation layout: one Markdown page per namespace.

Farama's documentation build writes ``<namespace>/index.md`` for every namespace (a
title from ``display_name``, else the name capitalised; the description; a "Content"
table of sub-namespaces and datasets with the first sentence of each description)
and ``<namespace>/<NAME-vN>.md`` for every dataset. This module renders the same
layout from a :class:`~minari_namespaces.catalog.Catalog` that was read in three
batches, instead of downloading each namespace's metadata one by one. A page at the
top, ``index.md``, lists what the catalog holds at its top.

Every stored string is shown as plain text: each character that Markdown (CommonMark,
GitHub's tables, MyST) could read as markup is escaped with a backslash, so a
description cannot add a link, an image, raw HTML, a role or a table cell.
Everything the pages link to is built from ids, which hold only letters, digits,
``_`` and ``-``. Nothing here touches a file: :mod:`minari_namespaces.catalog.pages`
writes the pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from minari_namespaces.catalog.model import Catalog, CatalogNamespace, format_size
from minari_namespaces.datasets import DatasetEntry

__all__ = ["Page", "first_sentence", "markdown_pages", "plain_text"]

#: The longest first sentence a Content table shows, in characters.
SUMMARY_LENGTH: Final = 200
# Characters that are markup wherever they stand (emphasis, code, links, images,
# raw HTML, entities, table cells, strikethrough, math, MyST roles). CommonMark lets
# a backslash escape any ASCII punctuation, so the escaped text reads as itself.
_INLINE_MARKUP: Final = frozenset("\\`*_[]<>|~&${}")
# Characters that are markup only where a line starts (headings, lists, quotes,
# setext underlines, MyST's colon fences, comments ``% ...`` and targets ``(name)=``).
# Each paragraph is one line here.
_LINE_START_MARKUP: Final = frozenset("#+-=:%(")
_ORDERED_ITEM: Final = re.compile(r"([0-9]{1,9})([.)])")
# Any run of white space or control characters is one space: a newline would end a
# table row, and a paragraph is kept on one line so that only its start can open a block.
_BLANK: Final = re.compile(r"[\s\x00-\x1f\x7f]+")
_PARAGRAPH_BREAK: Final = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END: Final = re.compile(r"[.!?](?= )")


@dataclass(frozen=True)
class Page:
    """One page of the catalog.

    Attributes:
        folder: The folders from the output folder to the page's folder.
        name: The page's file name.
        text: Its content.
    """

    folder: tuple[str, ...]
    name: str
    text: str


def plain_text(text: str) -> str:
    """``text`` on one line, escaped so that Markdown shows it as it is."""
    flat = _BLANK.sub(" ", text).strip()
    escaped = "".join(f"\\{char}" if char in _INLINE_MARKUP else char for char in flat)
    if escaped[:1] in _LINE_START_MARKUP:
        return f"\\{escaped}"
    ordered = _ORDERED_ITEM.match(escaped)
    if ordered is not None:
        return f"{ordered[1]}\\{escaped[ordered.end(1) :]}"
    return escaped


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` on one line (up to the first ``.``, ``!`` or
    ``?`` followed by a space), cut to :data:`SUMMARY_LENGTH` characters."""
    flat = _BLANK.sub(" ", text).strip()
    end = _SENTENCE_END.search(flat)
    sentence = flat if end is None else flat[: end.end()]
    if len(sentence) > SUMMARY_LENGTH:
        return sentence[: SUMMARY_LENGTH - 1].rstrip() + "…"
    return sentence


def _paragraphs(text: str) -> list[str]:
    return [plain_text(part) for part in _PARAGRAPH_BREAK.split(text) if part.strip()]


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _link(text: str, target: str) -> str:
    return f"[{plain_text(text)}]({quote(target)})"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _summary(entry: CatalogNamespace | DatasetEntry) -> str:
    """The Description cell: the first sentence, or a note if the metadata is unreadable."""
    if entry.error is not None:
        return "*metadata unreadable*"
    return plain_text(first_sentence(entry.description or ""))


def _content(
    where: tuple[str, ...], namespaces: list[CatalogNamespace], datasets: list[DatasetEntry]
) -> list[str]:
    """The Content section: a table linking each entry, then a hidden toctree so
    that Sphinx builds the pages below (as Minari's own pages do)."""
    if not namespaces and not datasets:
        return ["## Content", "", "No sub-namespaces or datasets.", ""]
    lines = ["## Content", "", _row("ID", "Description", "Episodes", "Steps")]
    lines.append(_row("---", "---", "--:", "--:"))
    targets: list[str] = []
    for namespace in namespaces:
        target = "/".join(namespace.id.parts[len(where) :])
        targets.append(f"{target}/index")
        row = (_link(namespace.display_name, f"{target}/index.md"), _summary(namespace))
        lines.append(_row(*row, "", ""))
    for dataset in datasets:
        targets.append(dataset.id.folder)
        link = _link(dataset.id.folder, f"{dataset.id.folder}.md")
        counts = (_count(dataset.total_episodes), _count(dataset.total_steps))
        lines.append(_row(link, _summary(dataset), *counts))
    return [*lines, "", "```{toctree}", ":hidden:", "", *targets, "```", ""]


def _error_note(error: Exception | None) -> list[str]:
    if error is None:
        return []
    return [f"**Metadata unreadable:** {plain_text(str(error))}", ""]


def _namespace_page(catalog: Catalog, entry: CatalogNamespace) -> Page:
    lines = [f"# {plain_text(entry.display_name)}", "", *_error_note(entry.error)]
    for paragraph in _paragraphs(entry.description or ""):
        lines += [paragraph, ""]
    below = _content(entry.id.parts, catalog.children(entry.id), catalog.datasets_in(entry.id))
    return Page(entry.id.parts, "index.md", "\n".join([*lines, *below]))


def _top_page(catalog: Catalog) -> Page:
    where = "" if catalog.prefix is None else f" under {catalog.prefix}"
    intro = plain_text(f"The namespaces and datasets of {catalog.source}{where}.")
    lines = ["# Datasets", "", intro]
    # With a prefix the top entry is the prefix itself, linked by its whole path.
    below = _content((), catalog.children(None), catalog.datasets_in(None))
    return Page((), "index.md", "\n".join([*lines, "", *below]))


def _text_value(value: Any) -> str | None:
    """A metadata value shown in a dataset's table: a string, or a list of them."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return None


#: Fields of Minari's ``data/metadata.json`` that a dataset page shows, and their labels.
_DATASET_FIELDS: Final = (
    ("algorithm_name", "Algorithm"),
    ("author", "Author"),
    ("code_permalink", "Code"),
    ("minari_version", "Minari version"),
)


def _dataset_page(entry: DatasetEntry) -> Page:
    folder = () if entry.id.namespace is None else entry.id.namespace.parts
    lines = [f"# {entry.id.folder}", "", *_error_note(entry.error)]
    for paragraph in _paragraphs(entry.description or ""):
        lines += [paragraph, ""]
    # Ids hold letters, digits, '_', '-' and '/' only: safe inside a code span.
    rows = [("Dataset ID", f"`{entry.id}`")]
    if entry.id.namespace is not None:
        rows.append(("Namespace", _link(str(entry.id.namespace), "index.md")))
    rows += [("Total episodes", _count(entry.total_episodes) or "unknown")]
    rows += [("Total steps", _count(entry.total_steps) or "unknown")]
    if entry.size is not None:
        rows.append(("Dataset Size", format_size(entry.size)))
    for key, label in _DATASET_FIELDS:
        value = _text_value(None if entry.metadata is None else entry.metadata.get(key))
        if value is not None:
            rows.append((label, plain_text(value)))
    rows.append(("Download", f"`minari download {entry.id}`"))
    table = [_row("", ""), _row("---", "---"), *(_row(*row) for row in rows)]
    return Page(folder, f"{entry.id.folder}.md", "\n".join([*lines, *table, ""]))


def markdown_pages(catalog: Catalog) -> Iterable[Page]:
    """Every Markdown page of ``catalog``: ``index.md`` at the top, one
    ``<namespace>/index.md`` per namespace and one ``<namespace>/<NAME-vN>.md`` per
    dataset, in tree order."""
    yield _top_page(catalog)
    for namespace in catalog.namespaces:
        yield _namespace_page(catalog, namespace)
    for dataset in catalog.datasets:
        yield _dataset_page(dataset)
