"""What a command of :mod:`minari_namespaces.cli` prints: report lines by
--quiet/--verbose, errors and warnings as one line each, text made safe for a terminal,
the tree of namespaces (and their datasets), the rows of datasets, the transfer reports,
the question before --overwrite replaces anything, and the diff: every line a command
prints is printed here; how a command runs is :mod:`~minari_namespaces.cli.running`.
Not part of the library's API."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from minari_namespaces.catalog import Catalog
from minari_namespaces.catalog.model import format_size
from minari_namespaces.datasets import DatasetEntry, DatasetId
from minari_namespaces.errors import InvalidDatasetIdError, first_few
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.service import NamespaceDiff, TransferReport

__all__: list[str] = []

# -- by --quiet/--verbose ---------------------------------------------------------------

#: -1 with --quiet, 0 by default, 1 with --verbose; set for each command.
_verbosity: ContextVar[int] = ContextVar("verbosity", default=0)


def set_verbosity(*, quiet: bool, verbose: bool) -> None:
    """Print by --quiet/--verbose for the rest of the command."""
    _verbosity.set(-1 if quiet else int(verbose))


def is_quiet() -> bool:
    """Whether the command runs with --quiet."""
    return _verbosity.get() < 0


def say(text: str) -> None:
    """Print a report line on stdout, unless --quiet."""
    if _verbosity.get() >= 0:
        typer.echo(text)


def warn(text: str) -> None:
    """Print one ``Warning:`` line on stderr, unless --quiet."""
    if _verbosity.get() >= 0:
        stderr_console().print(f"Warning: {shown(text)}", markup=True)


def print_error(text: str) -> None:
    """Print one ``Error:`` line on stderr, even with --quiet."""
    stderr_console().print(f"Error: {shown(text)}", markup=True)


def print_version(version: str) -> None:
    """The line of ``--version`` on stdout."""
    typer.echo(f"minari-namespaces {version}")


def print_json(value: object) -> None:
    """``value`` as indented JSON on stdout, control characters as JSON escapes, and
    NaN and infinities (which JSON lacks, and a dataset's metadata may hold, as
    Minari writes it) as ``null``, so that any JSON parser reads it."""
    text = json.dumps(_finite(value), indent=2, ensure_ascii=False, allow_nan=False)
    typer.echo(printable(text, json_escapes=True))


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def print_report(verb: str, report: TransferReport) -> None:
    """A transfer's report, by --quiet/--verbose: its namespaces (see
    :func:`transfer_report`), then its datasets (see :func:`dataset_report`)."""
    for lines, warning in (
        transfer_report(verb, report, every=is_verbose()),
        dataset_report(verb, report, every=is_verbose()),
    ):
        for line in lines:
            say(line)
        if warning is not None:
            warn(warning)


def confirm_replacing(plan: TransferReport) -> bool:
    """Ask on the terminal whether the namespaces and datasets that ``plan`` would
    replace may be replaced; on no, say that nothing was written."""
    datasets = [each.id for each in plan.datasets_planned if each.action == "replace"]
    for count, kind, ids in (
        (len(plan.replaced), "namespace", plan.replaced),
        (len(datasets), "dataset", datasets),
    ):
        if count:
            stderr_console().print(
                f"{count:,} {kind}(s) differ in {shown(plan.target)}: "
                f"{shown(quoted_few(ids, every=is_verbose()))}."
            )
    question = (
        f"Replace them with the copy from {plan.source} (each dataset whole)?"
        if datasets
        else f"Replace their metadata with the copy from {plan.source}?"
    )
    agreed = typer.confirm(question, default=False, err=True)
    if not agreed:
        stderr_console().print("Nothing was written.")
    return agreed


def print_diff(result: NamespaceDiff, *, as_json: bool, datasets: bool = False) -> None:
    """What ``diff`` prints, unless --quiet: a JSON object of the three groups (six
    with ``datasets``), one ``In sync`` line, or one line per namespace (then per
    dataset) that differs, by group."""
    if is_quiet():
        return
    groups: dict[str, Sequence[object]] = {
        "only_local": result.only_local,
        "only_remote": result.only_remote,
        "different": result.different,
    }
    if datasets:
        groups |= {
            "datasets_only_local": result.datasets_only_local,
            "datasets_only_remote": result.datasets_only_remote,
            "datasets_different": result.datasets_different,
        }
    if as_json:
        print_json({key: [str(each) for each in ids] for key, ids in groups.items()})
    elif result.in_sync:
        also = f" and {len(result.datasets_same):,} dataset(s)" if datasets else ""
        say(f"In sync ({len(result.same):,} namespace(s){also} on both sides)")
    else:
        for key, ids in groups.items():
            label = key.removeprefix("datasets_").replace("_", " ")
            kind = "dataset " if key.startswith("datasets_") else ""
            for each in ids:
                say(f"{label:<12} {kind}{each}")


def is_verbose() -> bool:
    """Whether the command runs with --verbose."""
    return _verbosity.get() > 0


# -- what it shows ----------------------------------------------------------------------

#: How many names a report shows before "... and N more" (``--verbose`` shows all).
FIRST_FEW = 10
#: What follows "and N more" in a report.
ALL_OF_THEM = "(--verbose lists them all)"


def stderr_console() -> Console:
    """A console on stderr that never wraps or colours by guessing."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


#: The width a tree is laid out in when stdout is not a terminal: no line is cut.
_PIPE_WIDTH = 1_000_000


def print_tree(tree: Tree) -> None:
    """Print ``tree`` to stdout: fitted to a terminal, never cut on a pipe (a script
    reads whole names and URLs)."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=_PIPE_WIDTH)
    console.print(tree)


def printable(text: str, *, json_escapes: bool = False) -> str:
    """``text`` with every control or format character (terminal escapes, bidi
    overrides, ...) written as an escape sequence, so stored text can never drive
    the terminal. ``json_escapes`` writes them as JSON's ``\\uXXXX``, so JSON
    output stays valid JSON."""
    if text.isprintable():
        return text
    escaped: list[str] = []
    for char in text:
        if char.isprintable() or char in " \n":
            escaped.append(char)
        elif json_escapes:
            units = char.encode("utf-16-be")
            escaped += [f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)]
        else:
            escaped.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(escaped)


def shown(text: str) -> str:
    """``text`` made printable and safe inside Rich markup."""
    return escape(printable(text))


def namespace_tree(
    title: str,
    ids: list[NamespaceId],
    metadata: Mapping[NamespaceId, NamespaceMetadata],
    errors: Mapping[NamespaceId, str],
    datasets: Sequence[DatasetEntry] = (),
) -> Tree:
    """``ids`` drawn as a tree under ``title`` with their descriptions; ancestors that
    are not in ``ids`` dimmed, unreadable ones marked; ``datasets`` as leaves of their
    namespaces, after the child namespaces, with episodes and steps where read."""
    tree = Tree(shown(title), guide_style="dim")
    nodes: dict[NamespaceId | None, Tree] = {None: tree}

    def node(ns: NamespaceId | None) -> Tree:
        for level in () if ns is None else ns.hierarchy():
            if level not in nodes:
                nodes[level] = nodes[level.parent].add(_namespace_label(level, metadata, errors))
        return nodes[ns]

    # Folders that only hold datasets take their place in tree order, not the end.
    holders = {entry.id.namespace for entry in datasets if entry.id.namespace is not None}
    for ns in sorted({*ids, *holders}):
        node(ns)
    for entry in datasets:
        node(entry.id.namespace).add(_dataset_label(entry))
    if not (ids or datasets):
        tree.add("[dim](no namespaces)[/]")
    return tree


def _namespace_label(
    ns: NamespaceId,
    metadata: Mapping[NamespaceId, NamespaceMetadata],
    errors: Mapping[NamespaceId, str],
) -> str:
    description = metadata[ns].description if ns in metadata else None
    label = shown(ns.name) if ns in metadata else f"[dim]{shown(ns.name)}[/]"
    if description:
        label += f"  [dim]{shown(description)}[/]"
    if ns in errors:
        label += "  [red](unreadable: see the warning)[/]"
    return label


def _dataset_label(entry: DatasetEntry) -> str:
    label = shown(entry.id.folder)
    if entry.error is not None:
        return f"{label}  [red]{UNREADABLE}[/]"
    counts = [
        f"{number:,} {unit}{'' if number == 1 else 's'}"
        for number, unit in ((entry.total_episodes, "episode"), (entry.total_steps, "step"))
        if number is not None
    ]
    return f"{label}  [dim]{', '.join(counts) or 'dataset'}[/]"


def namespace_entries(
    ids: list[NamespaceId],
    metadata: Mapping[NamespaceId, NamespaceMetadata],
    errors: Mapping[NamespaceId, str],
) -> list[dict[str, object]]:
    """What ``list --json`` prints for ``ids``: ``{id, metadata}`` or ``{id, error}``."""
    entries: list[dict[str, object]] = []
    for ns in ids:
        if ns in metadata:
            entries.append({"id": str(ns), "metadata": metadata[ns].to_dict()})
        elif ns in errors:
            entries.append({"id": str(ns), "error": errors[ns]})
    return entries


def print_catalog(catalog: Catalog, *, as_json: bool, with_datasets: bool) -> None:
    """What ``list`` prints of ``catalog``: its namespaces with a marker as a tree
    under the store's URL (see :func:`namespace_tree`) or, with ``as_json``, as
    ``{id, metadata}`` objects (with ``with_datasets``: ``{"namespaces": [...],
    "datasets": [...]}``); each unreadable marker as one warning first."""
    marked = [entry for entry in catalog.namespaces if entry.error or entry.metadata is not None]
    ids = [entry.id for entry in marked]
    metadata = {entry.id: entry.metadata for entry in marked if entry.metadata is not None}
    errors = {entry.id: str(entry.error) for entry in marked if entry.error is not None}
    for error in errors.values():
        warn(error)
    warn_unreadable(catalog.datasets)
    if as_json and with_datasets:
        namespaces = namespace_entries(ids, metadata, errors)
        print_json({"namespaces": namespaces, "datasets": [d.to_dict() for d in catalog.datasets]})
    elif as_json:
        print_json(namespace_entries(ids, metadata, errors))
    else:
        tree = namespace_tree(catalog.source, ids, metadata, errors, catalog.datasets)
        print_tree(tree)


# -- datasets --------------------------------------------------------------------------

#: The marker of a dataset whose ``data/metadata.json`` could not be read.
UNREADABLE = "(unreadable metadata: -v says why)"
#: How many characters of a dataset's description a row shows.
DESCRIPTION_WIDTH = 60


def one_line(text: str, width: int) -> str:
    """``text`` made printable on one line (a newline shown as ``\\n``), cut to
    ``width`` characters with an ellipsis."""
    flat = printable(text).replace("\n", "\\n")
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"


def dataset_rows(entries: Sequence[DatasetEntry]) -> list[str]:
    """One aligned row per dataset under a header: id, episodes, steps, the size of
    its files and the start of the description; ``-`` for what is not known, and
    the :data:`UNREADABLE` marker instead of a description when it could not be read."""
    cells = [("DATASET", "EPISODES", "STEPS", "SIZE", "DESCRIPTION")]
    for entry in entries:
        about = entry.description or ""
        cells.append(
            (
                printable(str(entry.id)),
                _count(entry.total_episodes),
                _count(entry.total_steps),
                "-" if entry.size is None else format_size(entry.size),
                UNREADABLE if entry.error is not None else one_line(about, DESCRIPTION_WIDTH),
            )
        )
    widths = [max(len(row[column]) for row in cells) for column in range(4)]
    return [
        f"{name:<{widths[0]}}  {episodes:>{widths[1]}}  {steps:>{widths[2]}}  "
        f"{size:>{widths[3]}}  {about}".rstrip()
        for name, episodes, steps, size, about in cells
    ]


def _count(number: int | None) -> str:
    return "-" if number is None else f"{number:,}"


def print_catalog_written(catalog: Catalog, pages: Sequence[Path], outdir: Path) -> None:
    """One line saying what ``catalog`` wrote into ``outdir``, and where to look; with
    --verbose, one warning per unreadable metadata file giving the reason."""
    warn_unreadable(catalog.datasets)
    say(
        f"Wrote {len(pages)} page(s) for {len(catalog.namespaces)} namespace(s) and "
        f"{len(catalog.datasets)} dataset(s) from {shown(catalog.source)} to "
        f"{shown(str(outdir))}: open {shown(str(outdir / 'index.html'))}"
    )


def print_datasets(
    entries: Sequence[DatasetEntry], prefix: NamespaceId | None, *, as_json: bool
) -> None:
    """The ``datasets`` listing of ``prefix``: rows (see :func:`dataset_rows`) or,
    with ``as_json``, a JSON array of :meth:`DatasetEntry.to_dict` objects; with
    --verbose, one warning per unreadable metadata file giving the reason."""
    warn_unreadable(entries)
    if as_json:
        print_json([entry.to_dict() for entry in entries])
    elif entries:
        for line in dataset_rows(entries):
            say(line)
    else:
        say(no_datasets(prefix))


def no_datasets(prefix: NamespaceId | None) -> str:
    """The line of an empty listing; a PREFIX spelled as a dataset's id (an easy
    slip: it is a valid namespace too) gets the command that lists that dataset."""
    if prefix is None:
        return "No datasets."
    try:
        dataset = DatasetId(str(prefix))
    except InvalidDatasetIdError:
        return f"No datasets in {prefix}."
    where = "" if dataset.namespace is None else f" {dataset.namespace}"
    return f"No datasets in {prefix}, which is a dataset's id: 'datasets{where}' lists it."


def warn_unreadable(entries: Sequence[DatasetEntry]) -> None:
    """With --verbose, why each unreadable dataset metadata file could not be read."""
    if is_verbose():
        for entry in entries:
            if entry.error is not None:
                warn(str(entry.error))


def quoted_few(ids: Sequence[NamespaceId | DatasetId], *, every: bool) -> str:
    """The first few ``ids`` quoted (all if ``every``) and how many more."""
    listed, more = first_few(ids, None if every else FIRST_FEW)
    return ", ".join(f"'{ns}'" for ns in listed) + (f"{more} {ALL_OF_THEM}" if more else "")


def transfer_report(
    verb: str, report: TransferReport, *, every: bool
) -> tuple[list[str], str | None]:
    """What a transfer (``verb``: upload, download) prints: one summary line, then a
    line per namespace written (the first few unless ``every``); and the one warning
    for the namespaces that differ and were kept, if any."""
    done = f"Would {verb}" if report.dry_run else f"{verb.capitalize()}ed"
    same = len(report.unchanged)
    lines: list[str] = []
    if report.up_to_date and same:
        lines.append(f"Up to date: {same:,} namespace(s) already the same in {report.target}")
    elif report.up_to_date:
        lines.append(f"Nothing to {verb}: no namespace there in {report.source}")
    elif report.copied:
        replaced = f" ({len(report.replaced):,} replaced)" if report.replaced else ""
        unchanged = f"; {same:,} already up to date" if same else ""
        lines.append(
            f"{done} {len(report.copied):,} namespace(s) from {report.source} to "
            f"{report.target}{replaced}{unchanged}"
        )
        replaced_ids = set(report.replaced)
        listed, more = first_few(report.copied, None if every else FIRST_FEW)
        lines += [f"  {'replaced' if ns in replaced_ids else 'copied':<9} {ns}" for ns in listed]
        if more:
            lines.append(f"  ...{more} {ALL_OF_THEM}")
    else:
        lines.append(f"{done} nothing; {same:,} namespace(s) already up to date")
    if not report.skipped:
        return lines, None
    kept = "would be kept" if report.dry_run else "were kept"
    return lines, (
        f"{len(report.skipped):,} namespace(s) differ in {report.target} and {kept}: "
        f"{quoted_few(report.skipped, every=every)}. --overwrite replaces them."
    )


def _files(count: int) -> str:
    return f"{count:,} file{'' if count == 1 else 's'}"


def dataset_report(
    verb: str, report: TransferReport, *, every: bool
) -> tuple[list[str], str | None]:
    """What a transfer prints about its datasets, after its namespaces (nothing if it
    moved none). A dry run prints the plan (see :func:`dataset_plan`); a transfer one
    summary line and the datasets written (the first few unless ``every``), and the
    one warning naming those that differ and were kept."""
    if not report.datasets_planned:
        return [], None
    if report.dry_run:
        return dataset_plan(verb, report), None
    moved = [plan for plan in report.datasets_planned if plan.moves]
    same = len(report.datasets_unchanged)
    if not (moved or report.datasets_skipped):
        return [f"Up to date: {same:,} dataset(s) already the same in {report.target}"], None
    lines = [
        f"{verb.capitalize()}ed {len(report.datasets_copied):,} dataset(s) "
        f"({_files(report.files_copied)}, {format_size(report.bytes_copied)}) from "
        f"{report.source} to {report.target}" + (f"; {same:,} already up to date" if same else "")
    ]
    listed, more = first_few(moved, None if every else FIRST_FEW)
    lines += [
        f"  {'replaced' if plan.action == 'replace' else 'copied':<9} "
        f"{printable(str(plan.id))}  {format_size(plan.bytes)}"
        for plan in listed
    ]
    if more:
        lines.append(f"  ...{more} {ALL_OF_THEM}")
    if not report.datasets_skipped:
        return lines, None
    return lines, (
        f"{len(report.datasets_skipped):,} dataset(s) differ in {report.target} and were "
        f"kept: {quoted_few(report.datasets_skipped, every=every)}. A dataset version is "
        "immutable: --overwrite replaces them whole."
    )


def dataset_plan(verb: str, report: TransferReport) -> list[str]:
    """A dry run's plan of datasets: one aligned line per dataset with what would
    happen to it (``copy``, ``replace``, ``unchanged`` or ``kept``), its files and
    their size; then the total."""
    plans = report.datasets_planned
    names = [printable(str(plan.id)) for plan in plans]
    files = [_files(plan.files) for plan in plans]
    sizes = [format_size(plan.bytes) for plan in plans]
    width = [max(map(len, column)) for column in (names, files, sizes)]
    lines = [f"Plan for {len(plans):,} dataset(s) from {report.source} to {report.target}:"]
    lines += [
        f"  {plan.action:<9}  {name:<{width[0]}}  {count:>{width[1]}}  {size:>{width[2]}}"
        for plan, name, count, size in zip(plans, names, files, sizes, strict=True)
    ]
    moving = [plan for plan in plans if plan.moves]
    replacing = sum(plan.action == "replace" for plan in plans)
    kept = sum(plan.action == "kept" for plan in plans)
    total = (
        f"Total: {len(moving):,} dataset(s) to {verb} "
        f"({_files(sum(plan.files for plan in moving))}, "
        f"{format_size(sum(plan.bytes for plan in moving))})"
    )
    if replacing:
        total += f", {replacing:,} of them replacing the target's"
    total += f"; {len(report.datasets_unchanged):,} unchanged; {kept:,} kept"
    if kept:
        total += " (they differ in the target: --overwrite replaces them whole)"
    return [*lines, total]
