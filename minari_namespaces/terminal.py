"""How a command of :mod:`minari_namespaces.cli` runs and what it shows: output by
--quiet/--verbose, library errors as one line and an exit status, Ctrl-C as 130, the
package's log on stderr, text made safe for a terminal, the progress bar, the tree of
namespaces (and their datasets), the rows of datasets, the transfer reports, the
question before --overwrite replaces anything, and the diff: every line a command
prints is printed here. Not part of the library's API."""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from rich.tree import Tree

from minari_namespaces.catalog import Catalog
from minari_namespaces.datasets import DatasetEntry, DatasetId
from minari_namespaces.errors import (
    InvalidDatasetIdError,
    KeptNamespacesWarning,
    NamespaceError,
    RemoteNotConfiguredError,
    first_few,
)
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.service import NamespaceDiff, TransferProgress, TransferReport

__all__: list[str] = []

# -- how a command runs: verbosity, errors, Ctrl-C, log, progress --------------------

P = ParamSpec("P")
R = TypeVar("R")

#: The package's logger; ``--verbose`` shows its records (and its children's).
LOGGER = logging.getLogger("minari_namespaces")

#: The exit status of an interrupted command, as shells report a SIGINT.
INTERRUPTED = 130

#: -1 with --quiet, 0 by default, 1 with --verbose; set for each command.
_verbosity: ContextVar[int] = ContextVar("verbosity", default=0)
#: (done, total) of the transfer under way, for the line printed on Ctrl-C.
_transferred: ContextVar[tuple[int, int] | None] = ContextVar("transferred", default=None)


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


def _error_text(error: Exception) -> str:
    """The message of ``error`` in the command line's words."""
    if isinstance(error, RemoteNotConfiguredError):
        return (
            "no remote store: give --remote URL or set MINARI_REMOTE (hf://ORG, "
            "s3://bucket/prefix, gs://bucket, file:///path, ...)."
        )
    return str(error)


def cli_command(error_status: int = 1) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a command with its --quiet/--verbose settings; show library errors as one
    line (exit ``error_status``), warnings as one line each, Ctrl-C as exit 130."""

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            quiet, verbose = bool(kwargs.get("quiet")), bool(kwargs.get("verbose"))
            if quiet and verbose:
                raise typer.BadParameter("not with --verbose", param_hint="--quiet")
            _verbosity.set(-1 if quiet else int(verbose))
            _transferred.set(None)
            with (
                _logging(quiet=quiet, verbose=verbose),
                warnings.catch_warnings(record=True) as caught,
            ):
                warnings.simplefilter("always")
                # A transfer's report says what it kept, in the command line's words.
                warnings.simplefilter("ignore", KeptNamespacesWarning)
                try:
                    return command(*args, **kwargs)
                except (NamespaceError, ValueError, OSError) as error:
                    print_error(_error_text(error))
                    raise typer.Exit(error_status) from None
                except RecursionError:
                    print_error("a value is nested too deeply to be read.")
                    raise typer.Exit(error_status) from None
                except (KeyboardInterrupt, typer.Abort):
                    stderr_console().print(_interrupted_text(), markup=False)
                    raise typer.Exit(INTERRUPTED) from None
                finally:
                    for warning in caught:
                        warn(str(warning.message))

        return wrapper

    return decorate


def _interrupted_text() -> str:
    progress = _transferred.get()
    if progress is None:
        return "Interrupted."
    done, total = progress
    return (
        f"Interrupted after {done:,} of {total:,} namespace(s). What was written is "
        "complete, parents first: run the same command again to finish."
    )


@contextmanager
def _logging(*, quiet: bool, verbose: bool) -> Iterator[None]:
    """--verbose: the package's log records from DEBUG on stderr; --quiet: errors only."""
    if not (quiet or verbose):
        yield
        return
    with log_to_stderr(LOGGER, logging.DEBUG if verbose else logging.ERROR):
        yield


@contextmanager
def transfer_progress(label: str) -> Iterator[Callable[[TransferProgress], None]]:
    """A callback for the service's transfers: it keeps how far the transfer got (for
    Ctrl-C) and, when stderr is a terminal and not --quiet, moves a progress bar.
    Nothing is drawn when stderr is piped."""

    def record(progress: TransferProgress) -> None:
        _transferred.set((progress.namespaces_done, progress.namespaces_total))

    console = stderr_console()
    if not console.is_terminal or _verbosity.get() < 0:
        yield record
        return
    with progress_bar(console, label) as move:

        def record_and_move(progress: TransferProgress) -> None:
            record(progress)
            move(progress.namespaces_done, progress.namespaces_total)

        yield record_and_move


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
    """A transfer's report (see :func:`transfer_report`), by --quiet/--verbose."""
    lines, warning = transfer_report(verb, report, every=is_verbose())
    for line in lines:
        say(line)
    if warning is not None:
        warn(warning)


def confirm_replacing(plan: TransferReport) -> bool:
    """Ask on the terminal whether the namespaces that ``plan`` would replace may be
    replaced; on no, say that nothing was written."""
    stderr_console().print(
        f"{len(plan.replaced):,} namespace(s) differ in {shown(plan.target)}: "
        f"{shown(quoted_few(plan.replaced, every=is_verbose()))}."
    )
    agreed = typer.confirm(
        f"Replace their metadata with the copy from {plan.source}?", default=False, err=True
    )
    if not agreed:
        stderr_console().print("Nothing was written.")
    return agreed


def print_diff(result: NamespaceDiff, *, as_json: bool) -> None:
    """What ``diff`` prints, unless --quiet: a JSON object of the three groups, one
    ``In sync`` line, or one line per namespace that differs, by group."""
    if _verbosity.get() < 0:
        return
    groups = {
        "only_local": result.only_local,
        "only_remote": result.only_remote,
        "different": result.different,
    }
    if as_json:
        print_json({key: [str(ns) for ns in ids] for key, ids in groups.items()})
    elif result.in_sync:
        say(f"In sync ({len(result.same):,} namespace(s) on both sides)")
    else:
        for key, ids in groups.items():
            for ns in ids:
                say(f"{key.replace('_', ' '):<12} {ns}")


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


class _PrintableFormatter(logging.Formatter):
    """Log lines with control characters escaped, like every other output."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


@contextmanager
def log_to_stderr(logger: logging.Logger, level: int) -> Iterator[None]:
    """Show ``logger``'s records (and its children's) from ``level`` up on stderr, as
    ``LEVEL name: message``, for the duration of the block."""
    previous = logger.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


class _CountColumn(ProgressColumn):
    """Namespaces done out of the total, once the total is known."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        return Text(
            f"{task.completed:,.0f}/{task.total:,.0f} namespaces", style="progress.download"
        )


class _RateColumn(ProgressColumn):
    """Namespaces per second since the start (a count, not bytes)."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time or task.elapsed
        if not (elapsed and task.completed):
            return Text("")
        return Text(f"{task.completed / elapsed:,.0f}/s", style="progress.data.speed")


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Callable[[int, int], None]]:
    """A bar on ``console`` with namespaces done/total, rate and time elapsed; yields
    the function that moves it to (done, total). It stays on screen when done."""
    columns = (TextColumn("{task.description}"), BarColumn(), _CountColumn(), _RateColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(label, total=None)

        def move(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield move


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
        f"{number:,} {unit}"
        for number, unit in ((entry.total_episodes, "episodes"), (entry.total_steps, "steps"))
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
        Console(highlight=False).print(tree)


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
    """One aligned row per dataset under a header: id, episodes, steps and the start
    of the description; ``-`` for a count the metadata lacks, and the
    :data:`UNREADABLE` marker instead of a description when it could not be read."""
    cells = [("DATASET", "EPISODES", "STEPS", "DESCRIPTION")]
    for entry in entries:
        about = entry.description or ""
        cells.append(
            (
                printable(str(entry.id)),
                _count(entry.total_episodes),
                _count(entry.total_steps),
                UNREADABLE if entry.error is not None else one_line(about, DESCRIPTION_WIDTH),
            )
        )
    widths = [max(len(row[column]) for row in cells) for column in range(3)]
    return [
        f"{name:<{widths[0]}}  {episodes:>{widths[1]}}  {steps:>{widths[2]}}  {about}".rstrip()
        for name, episodes, steps, about in cells
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


def quoted_few(ids: list[NamespaceId], *, every: bool) -> str:
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
