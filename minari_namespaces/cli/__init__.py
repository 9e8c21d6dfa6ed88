"""The ``minari-namespaces`` command (``python -m minari_namespaces`` too), which needs
the ``[cli]`` extra (Typer and Rich): :func:`main` is its entry point; the application
is :mod:`~minari_namespaces.cli.application`, one module per group of commands
(:mod:`~minari_namespaces.cli.namespaces`, :mod:`~minari_namespaces.cli.datasets`,
:mod:`~minari_namespaces.cli.transfers`) over the options they share
(:mod:`~minari_namespaces.cli.options`), how a command runs
(:mod:`~minari_namespaces.cli.running`) and what it prints
(:mod:`~minari_namespaces.cli.output`). Not part of the library's API.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]

#: The distributions of the ``[cli]`` extra; without one of them the command says so.
CLI_EXTRA = frozenset({"typer", "rich", "click"})

INSTALL_THE_EXTRA = (
    "Error: the minari-namespaces command needs the [cli] extra: "
    "pip install 'minari-namespaces[cli]'"
)


def main() -> None:
    """Entry point of the ``minari-namespaces`` console script.

    Raises:
        SystemExit: With status 1 (and one line on stderr saying what to install) when
            the ``[cli]`` extra is missing, else with the command's exit status.
    """
    try:
        from minari_namespaces.cli.application import app
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in CLI_EXTRA:
            raise
        print(INSTALL_THE_EXTRA, file=sys.stderr)
        raise SystemExit(1) from None
    app(prog_name="minari-namespaces")


def __getattr__(name: str) -> typer.Typer:
    # The application imports Typer: only on use, so that main() can say what is missing.
    if name == "app":
        from minari_namespaces.cli.application import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
