"""How a command of :mod:`minari_namespaces.cli` runs: its --quiet/--verbose settings,
library errors as one line and an exit status, Ctrl-C as 130, the package's log on
stderr, and the progress bar of a transfer. What it prints is
:mod:`~minari_namespaces.cli.output`. Not part of the library's API."""

from __future__ import annotations

import functools
import logging
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn
from rich.table import Column
from rich.text import Text

from minari_namespaces.catalog.model import format_size
from minari_namespaces.cli.output import (
    is_quiet,
    print_error,
    printable,
    set_verbosity,
    stderr_console,
    warn,
)
from minari_namespaces.errors import (
    KeptDatasetsWarning,
    KeptNamespacesWarning,
    NamespaceError,
    RemoteNotConfiguredError,
)
from minari_namespaces.transfer import TransferProgress

__all__: list[str] = []

P = ParamSpec("P")
R = TypeVar("R")

#: The package's logger; ``--verbose`` shows its records (and its children's).
LOGGER = logging.getLogger("minari_namespaces")

#: The exit status of an interrupted command, as shells report a SIGINT.
INTERRUPTED = 130


class _Transferred:
    """How far the command's transfer got: set by its progress callback (from any of
    the transfer's threads), read by the line printed on Ctrl-C."""

    last: TransferProgress | None = None


#: The transfer under way, for the line printed on Ctrl-C.
_transferred: ContextVar[_Transferred | None] = ContextVar("transferred", default=None)


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
            set_verbosity(quiet=quiet, verbose=verbose)
            _transferred.set(None)
            with (
                _logging(quiet=quiet, verbose=verbose),
                warnings.catch_warnings(record=True) as caught,
            ):
                warnings.simplefilter("always")
                # A transfer's report says what it kept, in the command line's words.
                warnings.simplefilter("ignore", KeptNamespacesWarning)
                warnings.simplefilter("ignore", KeptDatasetsWarning)
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
    holder = _transferred.get()
    progress = None if holder is None else holder.last
    if progress is None:
        return "Interrupted."
    if progress.files_total:
        return (
            f"Interrupted after {progress.files_done:,} of {progress.files_total:,} files "
            f"({format_size(progress.bytes_done)} of {format_size(progress.bytes_total)}). "
            "Every dataset in place is whole: run the same command again to finish."
        )
    return (
        f"Interrupted after {progress.namespaces_done:,} of {progress.namespaces_total:,} "
        "namespace(s). What was written is complete, parents first: run the same command "
        "again to finish."
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
    Nothing is drawn when stderr is piped: no redraws, the report says it all."""
    holder = _Transferred()
    _transferred.set(holder)

    def record(progress: TransferProgress) -> None:
        holder.last = progress

    console = stderr_console()
    if not console.is_terminal or is_quiet():
        yield record
        return
    with progress_bar(console, label) as move:

        def record_and_move(progress: TransferProgress) -> None:
            record(progress)
            move(progress)

        yield record_and_move


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


def _moving_files(task: Task) -> bool:
    return bool(task.fields.get("files_total"))


class _AmountColumn(ProgressColumn):
    """Namespaces done out of the total; once dataset files move, files done out of
    the total and bytes done out of the total."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        if not _moving_files(task):
            shown = f"{task.completed:,.0f}/{task.total:,.0f} namespaces"
            return Text(shown, style="progress.download")
        files = f"{task.fields['files_done']:,}/{task.fields['files_total']:,} files"
        size = f"{format_size(int(task.completed))}/{format_size(int(task.total))}"
        return Text(f"{files} {size}", style="progress.download")


class _RateColumn(ProgressColumn):
    """Namespaces per second, or bytes per second once dataset files move, since the
    start."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time or task.elapsed
        if not (elapsed and task.completed):
            return Text("")
        rate = task.completed / elapsed
        shown = f"{format_size(int(rate))}/s" if _moving_files(task) else f"{rate:,.0f}/s"
        return Text(shown, style="progress.data.speed")


class _TimeColumn(ProgressColumn):
    """While dataset files move, the time left at the rate so far; else, and once
    done, the time taken."""

    def render(self, task: Task) -> Text:
        if _moving_files(task) and not task.finished:
            left = task.time_remaining
            shown = "-:--:-- left" if left is None else f"{timedelta(seconds=int(left))} left"
            return Text(shown, style="progress.remaining")
        taken = task.finished_time or task.elapsed or 0
        return Text(str(timedelta(seconds=int(taken))), style="progress.elapsed")


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Callable[[TransferProgress], None]]:
    """A bar on ``console``: namespaces done/total and their rate; once dataset files
    move, files and bytes done/total, the rate in bytes and the time left. Yields the
    function that moves it; it stays on screen when done."""
    # The numbers never wrap: on a narrow terminal the bar gives up the room.
    columns = (
        TextColumn("{task.description}", table_column=Column(no_wrap=True)),
        BarColumn(),
        _AmountColumn(table_column=Column(no_wrap=True)),
        _RateColumn(table_column=Column(no_wrap=True)),
        _TimeColumn(table_column=Column(no_wrap=True)),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(label, total=None, files_done=0, files_total=0)

        def move(done: TransferProgress) -> None:
            moving = bool(done.files_total)
            progress.update(
                task,
                completed=done.bytes_done if moving else done.namespaces_done,
                total=done.bytes_total if moving else done.namespaces_total,
                files_done=done.files_done,
                files_total=done.files_total,
            )

        yield move
