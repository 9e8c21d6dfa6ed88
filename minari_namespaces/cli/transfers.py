"""The command line's transfers: ``upload`` and ``download`` between the local store
and the remote (the same options, opposite directions; with ``--datasets`` or
``--dataset ID`` the datasets travel too), ``mirror`` between any two stores, and
``diff``. Each is a plain function; :func:`register` adds them to the application,
wrapped by :func:`~minari_namespaces.cli.running.cli_command`. Not part of the
library's API.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Annotated

import typer

from minari_namespaces.cli.options import (
    PrefixOption,
    QuietOption,
    RemoteOption,
    RootOption,
    VerboseOption,
    complete_local,
    open_service,
    open_stores,
    prefix_namespace,
    refuse_unused,
)
from minari_namespaces.cli.output import confirm_replacing, print_diff, print_report, printable
from minari_namespaces.cli.running import cli_command, transfer_progress
from minari_namespaces.datasets import DatasetName
from minari_namespaces.errors import InvalidDatasetIdError
from minari_namespaces.service import NamespaceService, TransferReport
from minari_namespaces.transfer.datasets import DEFAULT_JOBS

__all__ = ["register"]


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


TransferNamespace = Annotated[
    str | None,
    typer.Argument(
        help="The namespace (with --tree: the subtree; default everything).",
        metavar="NAMESPACE",
        autocompletion=complete_local,
        show_default=False,
    ),
]
TreeOption = Annotated[bool, typer.Option("--tree", help="Transfer the whole subtree.")]
OverwriteOption = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace namespaces whose metadata differs on the target and, with datasets, "
        "datasets whose files differ, each whole (asks first when run at a terminal).",
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", "-f", help="--overwrite without asking (as Minari's -f).")
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask before --overwrite replaces metadata.")
]
DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        "-n",
        help="Write nothing; print what would be copied (with datasets: the plan, each "
        "dataset's action and size, and a total).",
    ),
]
DatasetsOption = Annotated[
    bool,
    typer.Option(
        "--datasets",
        help="Move the datasets too, each whole: with --tree every dataset in the "
        "subtree, else those directly in NAMESPACE.",
    ),
]
DatasetOption = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        help="Move one dataset, such as D4RL/door/human-v2 (no -vN: the latest "
        "version), and the namespaces above it that the target lacks.",
        metavar="ID",
        show_default=False,
    ),
]
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        help=f"Dataset files copied at once. Default: {DEFAULT_JOBS}.",
        metavar="N",
        show_default=False,
    ),
]


def upload(
    namespace: TransferNamespace = None,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    tree: TreeOption = False,
    overwrite: OverwriteOption = False,
    force: ForceOption = False,
    yes: YesOption = False,
    dry_run: DryRunOption = False,
    datasets: DatasetsOption = False,
    dataset: DatasetOption = None,
    jobs: JobsOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Copy a namespace (and the parents the remote lacks) or a whole tree to the remote;
    with --datasets the datasets in it too, with --dataset ID one dataset.

    Example: minari-namespaces upload D4RL/door --datasets --remote s3://bucket/minari
    """
    refuse_unused("--yes", yes and not (overwrite or force), "without --overwrite")
    what = Selection(namespace, tree=tree, datasets=datasets, dataset=dataset, jobs=jobs)
    _transfer(
        "upload",
        what.call(open_service(root, remote, transfer=True), upload=True),
        overwrite=overwrite or force,
        ask=not (yes or force or dry_run),
        dry_run=dry_run,
    )


def download(
    namespace: TransferNamespace = None,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    tree: TreeOption = False,
    overwrite: OverwriteOption = False,
    force: ForceOption = False,
    yes: YesOption = False,
    dry_run: DryRunOption = False,
    datasets: DatasetsOption = False,
    dataset: DatasetOption = None,
    jobs: JobsOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Copy a namespace (and the parents you lack) or a whole tree from the remote; with
    --datasets the datasets in it too, with --dataset ID one dataset.

    Example: minari-namespaces download --dataset D4RL/door/human --remote hf://farama-minari
    """
    refuse_unused("--yes", yes and not (overwrite or force), "without --overwrite")
    what = Selection(namespace, tree=tree, datasets=datasets, dataset=dataset, jobs=jobs)
    _transfer(
        "download",
        what.call(open_service(root, remote, transfer=True), upload=False),
        overwrite=overwrite or force,
        ask=not (yes or force or dry_run),
        dry_run=dry_run,
    )


class Selection:
    """What ``upload`` or ``download`` moves: a namespace, a tree, or one dataset; with
    its datasets or without; checked once, then turned into the service's call.

    Raises:
        typer.BadParameter: If the options contradict each other or would be ignored.
    """

    def __init__(
        self,
        namespace: str | None,
        *,
        tree: bool,
        datasets: bool,
        dataset: str | None,
        jobs: int | None,
    ) -> None:
        self.namespace, self.tree, self.datasets, self.jobs = namespace, tree, datasets, jobs
        self.dataset = dataset
        if dataset is not None:
            refuse_unused("NAMESPACE", namespace, "with --dataset")
            refuse_unused("--tree", tree, "with --dataset")
            refuse_unused("--datasets", datasets, "with --dataset")
            _check_dataset(dataset)
        elif namespace is None and not tree:
            raise typer.BadParameter("give a NAMESPACE, or --tree for everything")
        elif not datasets:
            refuse_unused("--jobs", jobs, "without --datasets or --dataset")

    def call(self, service: NamespaceService, *, upload: bool) -> Callable[..., TransferReport]:
        """The service's method for this selection, given all but overwrite, dry_run
        and progress."""
        if self.dataset is not None:
            dataset = service.upload_dataset if upload else service.download_dataset
            return partial(dataset, self.dataset, jobs=self.jobs)
        if self.tree or self.namespace is None:  # no NAMESPACE without --tree
            tree = service.upload_tree if upload else service.download_tree
            return partial(tree, self.namespace, datasets=self.datasets, jobs=self.jobs)
        one = service.upload if upload else service.download
        return partial(one, self.namespace, datasets=self.datasets, jobs=self.jobs)


def _check_dataset(text: str) -> None:
    """``--dataset``'s value is a dataset id, with or without its version.

    Raises:
        typer.BadParameter: If it is not.
    """
    try:
        DatasetName.parse(text)
    except InvalidDatasetIdError as error:
        raise typer.BadParameter(
            f"{text!r} is not a dataset id such as D4RL/door/human-v2: {printable(error.reason)}",
            param_hint="--dataset",
        ) from None


def _transfer(
    verb: str, run: Callable[..., TransferReport], *, overwrite: bool, ask: bool, dry_run: bool
) -> None:
    """Run a transfer (asking first, on a terminal, before --overwrite replaces
    anything) and print its report."""
    if overwrite and ask and _stdin_is_terminal():
        plan = run(overwrite=True, dry_run=True)
        if _replaces(plan) and not confirm_replacing(plan):
            raise typer.Exit(1)
    if dry_run:
        report = run(overwrite=overwrite, dry_run=True)
    else:
        with transfer_progress(f"{verb.capitalize()}ing") as progress:
            report = run(overwrite=overwrite, progress=progress)
    print_report(verb, report)


def _replaces(plan: TransferReport) -> bool:
    return bool(plan.replaced) or any(p.action == "replace" for p in plan.datasets_planned)


def mirror(
    source: Annotated[
        str,
        typer.Argument(
            help="The store to copy from: a URL (s3://bucket/prefix, gs://bucket, "
            "hf://ORG, file:///path, ...) or a local folder.",
            metavar="SRC_URL",
            show_default=False,
        ),
    ],
    target: Annotated[
        str,
        typer.Argument(
            help="The store to copy to, in the same forms.", metavar="DST_URL", show_default=False
        ),
    ],
    prefix: Annotated[
        str | None,
        typer.Argument(
            help="Only this namespace and its subtree. Default: everything.",
            metavar="PREFIX",
            show_default=False,
        ),
    ] = None,
    *,
    datasets: Annotated[
        bool, typer.Option("--datasets", help="Move every dataset under PREFIX too, each whole.")
    ] = False,
    overwrite: OverwriteOption = False,
    force: ForceOption = False,
    yes: YesOption = False,
    dry_run: DryRunOption = False,
    jobs: JobsOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Copy every namespace under PREFIX from one store to another, parents first; with
    --datasets, every dataset in them too, each whole. Any two stores: S3 to a local
    folder, GCS to S3, a folder to Azure, ... Credentials come the backends' own ways.

    Example: minari-namespaces mirror gs://old-bucket s3://new-bucket/minari D4RL --datasets
    """
    refuse_unused("--yes", yes and not (overwrite or force), "without --overwrite")
    if not datasets:
        refuse_unused("--jobs", jobs, "without --datasets")
    service = open_stores(source, target)
    run = partial(
        service.upload_tree, prefix_namespace(prefix, "PREFIX"), datasets=datasets, jobs=jobs
    )
    _transfer(
        "mirror",
        run,
        overwrite=overwrite or force,
        ask=not (yes or force or dry_run),
        dry_run=dry_run,
    )


def diff(
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    prefix: PrefixOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    datasets: Annotated[
        bool,
        typer.Option(
            "--datasets",
            help="Compare the datasets too: those on one side only, and those whose files "
            "differ in size or content.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print nothing; only the exit status tells."),
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Compare the local store with the remote (writes nothing); with --datasets their
    datasets too. Exit status, as diff(1): 0 in sync, 1 different, 2 error.

    Example: minari-namespaces diff --datasets --remote file:///tmp/remote || echo "out of sync"
    """
    result = open_service(root, remote).diff(prefix, datasets=datasets)
    print_diff(result, as_json=as_json, datasets=datasets)
    if not result.in_sync:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the transfer commands to ``app``."""
    app.command()(cli_command()(upload))
    app.command()(cli_command()(download))
    app.command()(cli_command()(mirror))
    app.command()(cli_command(error_status=2)(diff))
