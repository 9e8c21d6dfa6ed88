"""The ``minari-namespaces`` application: its help, ``--version``, and the commands of
:mod:`~minari_namespaces.cli.namespaces`, :mod:`~minari_namespaces.cli.datasets` and
:mod:`~minari_namespaces.cli.transfers`, in the order the help lists them. Exit statuses:
0 done, 1 error, 2 usage, 130 Ctrl-C (:mod:`~minari_namespaces.cli.running`); ``diff``:
0 in sync, 1 different, 2 error. Not part of the library's API.
"""

from __future__ import annotations

from typing import Annotated

import typer

from minari_namespaces import __version__
from minari_namespaces.cli import datasets, namespaces, transfers
from minari_namespaces.cli.output import print_version

__all__ = ["app"]

EPILOG = (
    "Examples:\n\n"
    "  minari-namespaces create D4RL/door --description 'Door opening' --set level=2\n\n"
    "  minari-namespaces list --prefix D4RL\n\n"
    "  minari-namespaces list remote --remote hf://farama-minari\n\n"
    "  minari-namespaces upload --tree --remote s3://bucket/minari\n\n"
    "The store is --root (default $MINARI_DATASETS_PATH, else ~/.minari/datasets); the "
    "remote is --remote (default $MINARI_REMOTE): the Hugging Face Hub (hf://ORG) or "
    "any fsspec URL such as s3://bucket/prefix, gs://bucket or file:///path.\n\n"
    "Exit status: 0 done, 1 error, 2 usage error, 130 interrupted; diff: 0 in sync, "
    "1 different, 2 error."
)

app = typer.Typer(
    name="minari-namespaces",
    help="Create, inspect, change and transfer Minari dataset namespaces.",
    epilog=EPILOG,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print_version(__version__)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Create, inspect, change and transfer Minari dataset namespaces."""


namespaces.register(app)
datasets.register(app)
transfers.register(app)
