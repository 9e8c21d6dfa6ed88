"""The catalog as one self-contained, offline HTML page to browse the tree.

The page is rendered here, in Python, with every stored string passed through
:func:`html.escape` (text and attributes alike): namespaces are ``<details>``
elements (collapsible without a script), datasets list their episodes and steps,
and a search box filters the tree. Its CSS and script are inline and fixed; a
Content Security Policy allows those two by their SHA-256 digests and nothing else
(no other script, style, font, image, frame or connection), so the page makes no
network request of any kind and a stored string that slipped through could still
not run.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import Counter
from typing import Final

from minari_namespaces.catalog.markdown import first_sentence
from minari_namespaces.catalog.model import Catalog, CatalogNamespace, format_size
from minari_namespaces.datasets import DatasetEntry
from minari_namespaces.identifier import NamespaceId

__all__ = ["html_page"]

_STYLE: Final = """
:root { color-scheme: light dark; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --panel: #f6f8fa; --accent: #0969da; --bad: #b42318; --badge: #ddf4ff; }
@media (prefers-color-scheme: dark) {
  :root { --ink: #e6edf3; --muted: #9198a1; --line: #3d444d; --panel: #151b23;
    --accent: #4493f8; --bad: #ff7b72; --badge: #0d2d4f; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: Canvas; }
header, main { max-width: 960px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 28px; padding-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; }
.source { color: var(--muted); margin: 0 0 16px; overflow-wrap: anywhere; }
.tools { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
#search { flex: 1 1 320px; font: inherit; padding: 8px 12px; border: 1px solid var(--line);
  border-radius: 6px; background: Canvas; color: inherit; }
#search:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
button { font: inherit; padding: 7px 12px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--panel); color: inherit; cursor: pointer; }
#status { color: var(--muted); margin: 10px 0 0; min-height: 1.5em; }
main { padding-bottom: 40px; }
details.ns { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0;
  background: Canvas; }
details.ns > summary { cursor: pointer; padding: 8px 12px; list-style: none;
  display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; }
details.ns > summary::-webkit-details-marker { display: none; }
details.ns > summary::before { content: "\\25B8"; color: var(--muted); width: 1em; }
details.ns[open] > summary::before { content: "\\25BE"; }
details.ns[open] > summary { border-bottom: 1px solid var(--line); background: var(--panel);
  border-radius: 8px 8px 0 0; }
.inside { padding: 4px 12px 8px 28px; }
.name { font-weight: 600; }
code.id { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color: var(--muted); overflow-wrap: anywhere; }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: var(--badge); }
.summary { color: var(--muted); flex-basis: 100%; padding-left: 1.4em; }
details.ns[open] > summary .summary { display: none; }
.description { white-space: pre-line; margin: 8px 0; overflow-wrap: anywhere; }
ul.datasets { list-style: none; margin: 6px 0; padding: 0; }
li.ds { padding: 6px 10px; border-left: 3px solid var(--accent); margin: 6px 0;
  background: var(--panel); border-radius: 0 6px 6px 0; display: flex; flex-wrap: wrap;
  gap: 2px 10px; align-items: baseline; }
li.ds .summary { padding-left: 0; }
.counts { font-variant-numeric: tabular-nums; font-size: 13px; }
.error { color: var(--bad); font-size: 13px; overflow-wrap: anywhere; }
.empty { color: var(--muted); font-style: italic; }
[hidden] { display: none !important; }
"""

_SCRIPT: Final = """
"use strict";
(function () {
  var box = document.getElementById("search");
  var tree = document.getElementById("tree");
  var status = document.getElementById("status");
  var idle = status.textContent;
  var searching = false;
  var all = function () { return tree.querySelectorAll("details.ns"); };
  // Shows what matches query (or lies in a namespace that matches) and opens every
  // namespace holding a match; returns the number of entries that match themselves.
  function walk(container, query, inMatch) {
    var found = 0;
    var kids = container.children;
    for (var i = 0; i < kids.length; i++) {
      var kid = kids[i];
      var own = query !== "" && kid.hasAttribute("data-search") &&
        kid.getAttribute("data-search").indexOf(query) !== -1;
      if (kid.matches("details.ns")) {
        var below = walk(kid.querySelector(":scope > .inside"), query, inMatch || own);
        kid.hidden = query !== "" && !(inMatch || own || below > 0);
        if (query !== "") { kid.open = below > 0; }
        found += below + (own ? 1 : 0);
      } else if (kid.matches("li.ds")) {
        kid.hidden = query !== "" && !(inMatch || own);
        found += own ? 1 : 0;
      } else if (kid.matches("ul.datasets")) {
        found += walk(kid, query, inMatch);
      }
    }
    return found;
  }
  function filter() {
    var query = box.value.trim().toLowerCase();
    if (query !== "" && !searching) {
      all().forEach(function (ns) { ns.setAttribute("data-was-open", ns.open ? "1" : ""); });
    }
    var found = walk(tree, query, false);
    if (query === "" && searching) {
      all().forEach(function (ns) { ns.open = ns.getAttribute("data-was-open") === "1"; });
    }
    searching = query !== "";
    status.textContent = searching ? found + (found === 1 ? " match" : " matches") : idle;
  }
  function openAll(open) {
    all().forEach(function (ns) { if (!ns.hidden) { ns.open = open; } });
  }
  box.addEventListener("input", filter);
  document.getElementById("expand").addEventListener("click", function () { openAll(true); });
  document.getElementById("collapse").addEventListener("click", function () { openAll(false); });
})();
"""


def _digest(source: str) -> str:
    return base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")


#: The page's policy: its own inline style and script, by digest, and nothing else.
_POLICY: Final = (
    f"default-src 'none'; style-src 'sha256-{_digest(_STYLE)}'; "
    f"script-src 'sha256-{_digest(_SCRIPT)}'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)
# Control characters show as nothing useful and some break a page's text; tabs and
# newlines stay (descriptions keep their lines).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value: str) -> str:
    """``value`` escaped for HTML text and quoted attribute values alike."""
    return html.escape(_CONTROL.sub(" ", value), quote=True)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _search_text(*parts: str | None) -> str:
    return _text(" ".join(part for part in parts if part).lower())


def _error(error: Exception | None) -> str:
    if error is None:
        return ""
    return f'<span class="error" title="{_text(str(error))}">metadata unreadable</span>'


def _dataset(entry: DatasetEntry) -> str:
    known = [
        _plural(value, word)
        for value, word in ((entry.total_episodes, "episode"), (entry.total_steps, "step"))
        if value is not None
    ]
    counts = " · ".join(known) if known else "counts unknown"
    if entry.size is not None:
        counts += f" · {format_size(entry.size)}"
    summary = first_sentence(entry.description or "")
    return (
        f'<li class="ds" data-search="{_search_text(str(entry.id), entry.description)}">'
        f'<span class="name">{_text(entry.id.folder)}</span> '
        f'<code class="id">{_text(str(entry.id))}</code> '
        + (_error(entry.error) or f'<span class="counts">{_text(counts)}</span>')
        + (f'<span class="summary">{_text(summary)}</span>' if summary else "")
        + "</li>"
    )


class _Renderer:
    """The tree of one catalog, with each namespace's number of datasets below it."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.below: Counter[NamespaceId] = Counter(
            above
            for dataset in catalog.datasets
            if dataset.id.namespace is not None
            for above in dataset.id.namespace.hierarchy()
        )

    def level(self, ns: NamespaceId | None) -> list[str]:
        out = [self.namespace(entry) for entry in self.catalog.children(ns)]
        datasets = self.catalog.datasets_in(ns)
        if datasets:
            out += ['<ul class="datasets">', *map(_dataset, datasets), "</ul>"]
        return out

    def namespace(self, entry: CatalogNamespace) -> str:
        description = entry.description or ""
        summary = first_sentence(description)
        inside = self.level(entry.id) or ['<p class="empty">No sub-namespaces or datasets.</p>']
        if entry.error is not None:
            inside.insert(0, f'<p class="error">Metadata unreadable: {_text(str(entry.error))}</p>')
        elif description.strip():
            inside.insert(0, f'<p class="description">{_text(description.strip())}</p>')
        search = _search_text(str(entry.id), entry.display_name, description)
        # The id beside the name, unless the name already says it.
        shown_id = "" if entry.display_name == str(entry.id) else str(entry.id)
        return "\n".join(
            [
                f'<details class="ns" data-id="{_text(str(entry.id))}" data-search="{search}">'
                f'<summary><span class="name">{_text(entry.display_name)}</span> '
                + (f'<code class="id">{_text(shown_id)}</code> ' if shown_id else "")
                + f'<span class="badge">{_plural(self.below[entry.id], "dataset")}</span>'
                + _error(entry.error)
                + (f'<span class="summary">{_text(summary)}</span>' if summary else "")
                + '</summary><div class="inside">',
                *inside,
                "</div></details>",
            ]
        )


def html_page(catalog: Catalog) -> str:
    """The whole page of ``catalog``, as text."""
    episodes = sum(entry.total_episodes or 0 for entry in catalog.datasets)
    steps = sum(entry.total_steps or 0 for entry in catalog.datasets)
    where = "" if catalog.prefix is None else f", under {catalog.prefix}"
    totals = " · ".join(
        [
            _plural(len(catalog.namespaces), "namespace"),
            _plural(len(catalog.datasets), "dataset"),
            _plural(episodes, "episode"),
            _plural(steps, "step"),
        ]
    )
    tree = _Renderer(catalog).level(None) or ['<p class="empty">This catalog is empty.</p>']
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # An empty icon: otherwise the browser asks for /favicon.ico.
            '<link rel="icon" href="data:,">',
            "<title>Minari datasets</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            "<header>",
            "<h1>Minari datasets</h1>",
            f'<p class="source">{_text(catalog.source + where)}</p>',
            '<div class="tools">',
            '<input id="search" type="search" placeholder="Filter namespaces and datasets"'
            ' aria-label="Filter namespaces and datasets" autocomplete="off">',
            '<button id="expand" type="button">Expand all</button>',
            '<button id="collapse" type="button">Collapse all</button>',
            "</div>",
            f'<p id="status" aria-live="polite">{_text(totals)}</p>',
            "</header>",
            '<main id="tree">',
            *tree,
            "</main>",
            f"<script>{_SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )
