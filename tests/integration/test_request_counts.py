"""Request counts on S3 (moto), GCS (fake-gcs-server) and Azure Blob (Azurite),
counted at the client: they are deterministic.

The benchmark (``make bench``) reports the same counts for 2,000 namespaces and
times them; here they are asserted for a tree that needs two listing pages on S3
and GCS (1,000 keys a page) and one on Azure (5,000 a page).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from minari_namespaces import (
    DatasetId,
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceService,
    NamespaceWarning,
)
from tests.support.emulators import AzureServer, GcsServer, HttpCounter, counted_cloud_repository
from tests.support.harnesses import fsspec_harness_for
from tests.support.servers import RequestCounter, S3Server, counted_repository

N = 1_050
#: Keys per listing page on each server.
PAGE = {"moto": 1000, "gcs": 1000, "azure": 5000}


@dataclass
class Counted:
    remote: FsspecNamespaceRepository
    counter: RequestCounter
    page: int
    server: str


@pytest.fixture(params=sorted(PAGE))
def counted(request: pytest.FixtureRequest) -> Counted:
    """A remote on a fresh bucket of each server, its requests counted at the client."""
    if request.param == "moto":
        server: S3Server = request.getfixturevalue("moto_s3")
        remote, counter = counted_repository(server, f"s3://{server.new_bucket()}/minari")
        return Counted(remote, counter, PAGE["moto"], "moto")
    cloud: GcsServer | AzureServer = request.getfixturevalue(request.param)
    url = f"{cloud.protocol}://{cloud.new_bucket()}/minari"
    remote, http = counted_cloud_repository(cloud, url)
    return Counted(remote, http, PAGE[request.param], request.param)


def _tree(root: Path) -> LocalNamespaceRepository:
    from benchmarks.trees import namespace_names, write_tree

    write_tree(root, namespace_names(N, fanout=50))
    return LocalNamespaceRepository(root)


def test_transfers_use_the_fewest_requests(counted: Counted, tmp_path: Path) -> None:
    pages = math.ceil(N / counted.page)
    remote, counter = counted.remote, counted.counter
    service = NamespaceService(_tree(tmp_path / "source"), remote)

    report = service.upload_tree()
    counts = counter.take()
    assert len(report.copied) == N
    assert counts["PUT"] == N
    assert counts["LIST"] <= pages + 1
    assert counts["HEAD"] == 0
    assert counts["GET"] == 0

    assert len(service.list_remote()) == N
    counts = counter.take()
    assert counts["LIST"] == pages
    assert sum(counts.values()) == pages

    with warnings.catch_warnings():
        warnings.simplefilter("error", NamespaceWarning)
        again = service.upload_tree()
    counts = counter.take()
    assert again.copied == []
    assert len(again.unchanged) == N
    assert counts["PUT"] == 0
    # Each namespace that exists already is read once, to tell "same" from "different"
    # (and that batched read checks the dataset rule with one more listing).
    assert counts["GET"] == N
    assert counts["LIST"] <= 2 * pages + 1

    fresh = NamespaceService(LocalNamespaceRepository(tmp_path / "down"), remote)
    counter.take()
    fresh.download_tree()
    if isinstance(counter, HttpCounter):  # the reads go out in concurrent batches of 64
        assert 1 < counter.peak <= 64
    counts = counter.take()
    assert counts["GET"] == N
    # One listing finds the subtree; one more checks the dataset rule for the batch.
    assert counts["LIST"] == 2 * pages
    assert counts["HEAD"] == 0
    assert counts["PUT"] == 0


def test_single_namespace_operations_cost_one_request_and_one_probe_per_level(
    counted: Counted, tmp_path: Path
) -> None:
    remote, counter = counted.remote, counted.counter
    service = NamespaceService(LocalNamespaceRepository(tmp_path / "local"), remote)
    service.create("D4RL/door", description="Door")
    service.upload("D4RL/door")
    counter.take()

    # One GET, and one one-key LIST per level for the dataset rule.
    assert service.get("D4RL/door", remote=True).description == "Door"
    assert counter.take() == {"GET": 1, "LIST": 2}
    assert service.exists("D4RL/door", remote=True)
    assert counter.take() == {"GET": 1, "LIST": 2}
    assert not service.exists("D4RL/pen", remote=True)
    assert counter.take() == {"GET": 1}
    remote.modify(service.list_remote()[1], lambda current: current.merged({"k": 1}))
    counts = counter.take()
    assert (counts["GET"], counts["PUT"], counts["HEAD"]) == (1, 1, 0)


def test_listing_datasets_costs_what_listing_namespaces_costs(
    counted: Counted, tmp_path: Path
) -> None:
    """Datasets, and their sizes, come from the listing that finds namespaces; their
    metadata is one concurrent batch of GETs, one per dataset, and nothing else."""
    remote, counter = counted.remote, counted.counter
    service = NamespaceService(_tree(tmp_path / "source"), remote)
    service.upload_tree()
    datasets = 40
    harness = fsspec_harness_for(remote)
    root = remote.fs._strip_protocol(remote.url).rstrip("/")
    expected: dict[DatasetId, int] = {}
    for index in range(datasets):
        ns = service.list_remote()[index % 5]
        harness.add_dataset(ns, f"run-v{index}")
        remote.fs.pipe_file(f"{root}/{ns}/run-v{index}/data/episode.arrow", b"e" * index)
        expected[DatasetId.of(ns, "run", index)] = len(b"\x89HDF{}") + index
    keys = N + 3 * datasets
    pages = math.ceil(keys / counted.page)
    counter.take()

    assert len(service.list_remote()) == N
    assert counter.take() == {"LIST": pages}
    assert len(service.list_datasets(remote=True)) == datasets
    assert counter.take() == {"LIST": pages}
    entries = service.list_datasets(remote=True, metadata=True)
    assert all(entry.metadata == {} for entry in entries)
    counts = counter.take()
    assert counts == {"LIST": pages, "GET": datasets}

    sized = service.list_datasets(remote=True, sizes=True)
    assert counter.take() == {"LIST": pages}
    assert {entry.id: entry.size for entry in sized} == expected
    sized = service.list_datasets(remote=True, metadata=True, sizes=True)
    assert counter.take() == {"LIST": pages, "GET": datasets}
    assert {entry.id: entry.size for entry in sized} == expected


def _small_files_dataset(root: Path, files: int) -> LocalNamespaceRepository:
    """A local store holding ``lab/many-v0``: ``files`` small episode files (the
    shape of Minari's Arrow datasets) and its ``data/metadata.json``."""
    store = LocalNamespaceRepository(root)
    NamespaceService(store).create("lab")
    data = root / "lab" / "many-v0" / "data"
    for episode in range(files):
        (data / str(episode)).mkdir(parents=True)
        (data / str(episode) / "part-0.arrow").write_bytes(b"%d" % episode * (episode + 1))
    (data / "metadata.json").write_text(json.dumps({"total_episodes": files}))
    return store


def test_a_dataset_of_small_files_costs_one_request_per_file_jobs_at_a_time(
    counted: Counted, tmp_path: Path
) -> None:
    """Issue 23: small files move as coroutines on the filesystem's loop, one request
    each (not a resumable upload or a HEAD per file), ``jobs`` in flight at once;
    the other requests do not grow with the number of files (S3's answers check its
    writes: no listing after the files or after the mark)."""
    files, jobs = 120, 3
    remote, counter = counted.remote, counted.counter
    service = NamespaceService(_small_files_dataset(tmp_path / "source", files), remote)
    counter.take()

    report = service.upload_dataset("lab/many-v0", jobs=jobs)
    peak = getattr(counter, "peak", None)
    counts = counter.take()
    moved = report.files_copied
    assert moved == files + 1
    # One PUT per file, the namespace's marker and the transfer's record.
    assert counts["PUT"] == moved + 2
    assert sum(counts.values()) - counts["PUT"] <= 16
    if counted.server == "moto":  # one listing before the dataset, none after
        assert counts["LIST"] <= 6
    if peak is not None:  # counted at the HTTP client: the most in flight at once
        assert 1 < peak <= jobs

    back = NamespaceService(LocalNamespaceRepository(tmp_path / "back"), remote)
    back.download_dataset("lab/many-v0", jobs=jobs)
    peak = getattr(counter, "peak", None)
    counts = counter.take()
    # One GET per file and one for the namespace's marker; no HEAD before each.
    assert counts["GET"] == moved + 1
    assert sum(counts.values()) - counts["GET"] <= 4
    if peak is not None:
        assert 1 < peak <= jobs
    episode = tmp_path / "back" / "lab" / "many-v0" / "data" / "119" / "part-0.arrow"
    assert episode.read_bytes() == b"119" * 120
