"""The Hugging Face Hub remote on the stand-in Hub, beside Minari 0.5.4's own Hub code.

Both run against the same stand-in (``minari_namespaces.testing.hubserver``) in one
run; the stand-in counts requests and commits per route, so the numbers are what
each client sent. ``huggingface_hub`` reads ``HF_ENDPOINT`` when it is first
imported, so this benchmark runs before anything else imports it.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from benchmarks.report import Report
from minari_namespaces import LocalNamespaceRepository, NamespaceService
from minari_namespaces.testing.hubserver import HubStandIn

TREE_SIZE = 60
REPOS = 10
PER_REPO = 6


def tree(top: str, count: int) -> list[str]:
    """``top`` and ``count - 1`` namespaces under it, three levels deep."""
    made = [top]
    group = 0
    while len(made) < count:
        made.append(f"{top}/g{group}")
        made += [f"{top}/g{group}/d{leaf}" for leaf in range(4)][: count - len(made)]
        group += 1
    return made


@contextmanager
def dataset_path(folder: Path) -> Iterator[None]:
    """Point Minari (and our compat layer) at ``folder`` for a while."""
    saved = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(folder)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MINARI_DATASETS_PATH")
        else:
            os.environ["MINARI_DATASETS_PATH"] = saved


def measured(hub: HubStandIn, body: Callable[[], object]) -> tuple[float, int, int]:
    """Seconds, requests and commits that ``body`` cost on ``hub``."""
    hub.take_counts()
    start = time.perf_counter()
    body()
    seconds = time.perf_counter() - start
    counts = hub.take_counts()
    return seconds, sum(counts.values()), counts["commit"]


def write_local(folder: Path, names: list[str]) -> None:
    service = NamespaceService(LocalNamespaceRepository(folder))
    for name in names:
        service.create(name, description=name, exist_ok=True)


def bench(report: Report, hub: HubStandIn, scratch: Path) -> None:
    import minari.namespace as minari_namespace

    names = tree("lab", TREE_SIZE)
    ours_root, minari_root = scratch / "ours", scratch / "minari"
    write_local(ours_root, names)
    write_local(minari_root, names)

    ours = NamespaceService.from_urls(ours_root, "hf://ours")
    up_ours = measured(hub, ours.upload_tree)

    def minari_upload() -> None:
        with dataset_path(minari_root), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in names:
                minari_namespace.upload_namespace(name, None)

    os.environ["MINARI_REMOTE"] = "hf://theirs"
    with open(os.devnull, "w") as quiet, redirect_stdout(quiet):  # Minari prints each upload
        up_minari = measured(hub, minari_upload)
    note = f"Minari: {up_minari[2]} commits, {up_minari[1]} requests, {up_minari[0]:.2f} s"
    report.count(f"Hub upload_tree of {TREE_SIZE} in one repo: commits", up_ours[2], 3, note)
    report.count(
        f"Hub upload_tree of {TREE_SIZE} in one repo: requests",
        up_ours[1],
        20,
        f"{up_ours[0]:.2f} s; {note}",
    )

    for index in range(REPOS):
        write_local(ours_root, tree(f"r{index:02d}", PER_REPO))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "kept 60 existing": the first tree is there
        ours.upload_tree()
    os.environ["MINARI_REMOTE"] = "hf://ours"
    seconds, requests, _ = measured(hub, ours.list_remote)
    _, minari_requests, _ = measured(hub, minari_namespace.list_remote_namespaces)
    repos = REPOS + 1
    report.count(
        f"Hub list_remote of {repos} repos: requests",
        requests,
        1 + repos,
        f"{seconds:.2f} s; Minari's list_remote_namespaces: {minari_requests} requests",
    )

    fresh = NamespaceService.from_urls(scratch / "down", "hf://ours")
    listed = [str(ns) for ns in ours.list_remote()]
    hub.take_counts()
    start = time.perf_counter()
    fresh.download_tree()
    seconds = time.perf_counter() - start
    counts = hub.take_counts()

    def minari_download() -> None:
        with dataset_path(scratch / "minari-down"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in listed:
                minari_namespace.download_namespace_metadata(name)

    minari_seconds, minari_requests, _ = measured(hub, minari_download)
    report.count(
        f"Hub download_tree of {len(listed)}: file reads",
        counts["resolve"],
        len(listed),
        f"Minari, one download_namespace_metadata each: {minari_requests} requests",
    )
    report.count(
        f"Hub download_tree of {len(listed)}: listings",
        counts["tree"] + counts["list_repos"],
        2 * (repos + 1),
        "one per repo and list_datasets, twice (the subtree, then the dataset rule)",
    )
    report.ratio(
        f"Hub download_tree vs Minari's download loop ({len(listed)})",
        seconds,
        minari_seconds,
        unit="total",
        limit=None,
    )


def run(report: Report) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="minari-namespaces-bench-hub-") as folder,
        HubStandIn() as hub,
        hub.as_hf_endpoint(Path(folder) / "hf-home"),
    ):
        bench(report, hub, Path(folder))


__all__ = ["run"]
