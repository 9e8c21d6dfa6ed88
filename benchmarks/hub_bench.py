"""The Hugging Face Hub remote on the stand-in Hub, beside Minari 0.5.4's own Hub code.

Both run against the same stand-in (``minari_namespaces.testing.hub.server``) in one
run; the stand-in counts requests and commits per route, so the numbers are what
each client sent. ``huggingface_hub`` reads ``HF_ENDPOINT`` when it is first
imported, so this benchmark runs before anything else imports it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from benchmarks.report import Report
from benchmarks.trees import dataset_ids, dataset_metadata
from minari_namespaces import LocalNamespaceRepository, NamespaceService
from minari_namespaces.testing.hub.server import HubStandIn

TREE_SIZE = 60
REPOS = 10
PER_REPO = 6
#: Datasets for the dataset listing: 20 in each of 10 repositories, in 2 namespaces each.
DATASETS = 200
DATASET_ORG = "datasets-org"


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


def publish_datasets(hub: HubStandIn, ids: list[str]) -> None:
    """Lay out ``ids`` on ``hub`` as minari's ``upload_namespace`` and
    ``upload_dataset`` leave them: per repository a root metadata with the registry
    lists ``namespaces`` and ``datasets``, a marker per sub-namespace, and per dataset
    ``data/metadata.json`` beside ``data/main_data.hdf5``."""
    by_repo: dict[str, list[str]] = {}
    for dataset_id in ids:
        by_repo.setdefault(dataset_id.split("/", 1)[0], []).append(dataset_id)
    for top, held in by_repo.items():
        repo = f"{DATASET_ORG}/{top}"
        inner = sorted({dataset_id.rsplit("/", 1)[0] for dataset_id in held})
        root = {"description": top, "namespaces": inner, "datasets": held}
        hub.put_file(repo, "namespace_metadata.json", json.dumps(root).encode())
        for namespace in inner:
            folder = namespace.split("/", 1)[1]
            marker = json.dumps({"description": namespace}).encode()
            hub.put_file(repo, f"{folder}/namespace_metadata.json", marker)
        for dataset_id in held:
            data = f"{dataset_id.split('/', 1)[1]}/data"
            payload = json.dumps(dataset_metadata(dataset_id)).encode()
            hub.put_file(repo, f"{data}/metadata.json", payload)
            hub.put_file(repo, f"{data}/main_data.hdf5", b"\x89HDF\r\n\x1a\n")


def measured_twice(
    hub: HubStandIn, cache: Path, body: Callable[[], object]
) -> tuple[tuple[float, int, int], tuple[float, int, int]]:
    """``body`` on an empty download cache of ``huggingface_hub`` (Minari's first
    run), then again on the cache it filled."""
    from huggingface_hub import constants

    constants.HF_HUB_CACHE = str(cache)
    return measured(hub, body), measured(hub, body)


def bench_datasets(report: Report, hub: HubStandIn, scratch: Path) -> None:
    """Listing datasets, and listing them with their metadata, against Minari's
    ``HuggingFaceStorage.list_datasets`` and ``list_remote_datasets``."""
    import minari
    from minari.storage.remotes.huggingface import HuggingFaceStorage

    ids = dataset_ids(DATASETS, per_namespace=10, fanout=2)
    publish_datasets(hub, ids)
    repos = len({dataset_id.split("/", 1)[0] for dataset_id in ids})
    ours = NamespaceService.from_urls(scratch / "datasets", f"hf://{DATASET_ORG}")
    os.environ["MINARI_REMOTE"] = f"hf://{DATASET_ORG}"
    storage = HuggingFaceStorage(DATASET_ORG)
    listed = ours.list_datasets(remote=True)
    assert sorted(str(e.id) for e in listed) == sorted(storage.list_datasets()) == sorted(ids)

    listing = measured(hub, lambda: ours.list_datasets(remote=True))
    first, cached = measured_twice(
        hub, scratch / "minari-cache-list", lambda: list(storage.list_datasets())
    )
    note = (
        f"{listing[0]:.3f} s; Minari's list_datasets: {first[1]} requests, {first[0]:.3f} s "
        f"(first run), {cached[1]} requests, {cached[0]:.3f} s (cached)"
    )
    name = f"Hub list_datasets of {DATASETS} in {repos} repos"
    report.count(f"{name}: requests", listing[1], 1 + repos, note)
    report.ratio(f"{name} vs Minari's, first run", listing[0], first[0], unit="total", limit=None)
    report.ratio(f"{name} vs Minari's, cached", listing[0], cached[0], unit="total", limit=None)

    with_metadata = measured(hub, lambda: ours.list_datasets(remote=True, metadata=True))
    first, cached = measured_twice(
        hub, scratch / "minari-cache-metadata", minari.list_remote_datasets
    )
    note = (
        f"{with_metadata[0]:.3f} s; Minari's list_remote_datasets: {first[1]} requests, "
        f"{first[0]:.3f} s (first run), {cached[1]} requests, {cached[0]:.3f} s (cached)"
    )
    name = f"Hub list_datasets(metadata) of {DATASETS}"
    report.count(f"{name}: requests", with_metadata[1], 1 + repos + DATASETS, note)
    report.ratio(
        f"{name} vs Minari's list_remote_datasets, first run",
        with_metadata[0],
        first[0],
        unit="total",
        limit=None,
    )
    report.ratio(
        f"{name} vs Minari's list_remote_datasets, cached",
        with_metadata[0],
        cached[0],
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
        bench_datasets(report, hub, Path(folder))
        from benchmarks import hub_datasets_bench  # it imports this module

        hub_datasets_bench.bench(report, hub, Path(folder))


__all__ = ["run"]
