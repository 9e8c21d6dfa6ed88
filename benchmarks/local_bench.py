"""Local benchmarks: per-operation cost against tree size, against Minari, and listing."""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.report import Report
from benchmarks.trees import (
    dataset_ids,
    floor_datasets,
    floor_walk,
    namespace_names,
    write_datasets,
    write_tree,
)
from minari_namespaces import LocalNamespaceRepository, NamespaceId, NamespaceService
from minari_namespaces import compat as ours_compat
from minari_namespaces.compat import NAMESPACE_REGEX

OPS = 200


def best_of(rounds: int, run: Callable[[int], float]) -> float:
    """The smallest of ``rounds`` timings; ``run(round)`` returns seconds."""
    return min(run(index) for index in range(rounds))


def _timed(body: Callable[[], object]) -> float:
    start = time.perf_counter()
    body()
    return time.perf_counter() - start


def _fresh(round_index: int, tag: str) -> list[str]:
    """``OPS`` fresh names spread over existing parents (depth 2)."""
    return [f"t{i % 10:04d}/{tag}{round_index}_{i}" for i in range(OPS)]


def _each(call: Callable[[str], object], names: list[str]) -> None:
    for name in names:
        call(name)


def _update(service: NamespaceService, description: str, name: str) -> None:
    service.replace(name, {"description": description})


def _create_round(
    create: Callable[[str], object], delete: Callable[[str], object], tag: str
) -> Callable[[int], float]:
    def run(index: int) -> float:
        names = _fresh(index, tag)
        seconds = _timed(lambda: [create(name) for name in names])
        for name in names:
            delete(name)
        return seconds / len(names)

    return run


def _read_round(read: Callable[[str], object], names: list[str]) -> Callable[[int], float]:
    return lambda _: _timed(lambda: [read(name) for name in names]) / len(names)


def service_costs(service: NamespaceService, existing: list[str], rounds: int) -> dict[str, float]:
    """Seconds per call of create, get, exists, update and delete."""
    targets = existing[:OPS]

    def delete_round(index: int) -> float:
        names = _fresh(index, "d")
        for name in names:
            service.create(name)
        return _timed(lambda: _each(service.delete, names)) / len(names)

    def update_round(index: int) -> float:
        return _timed(lambda: _each(partial(_update, service, f"v{index}"), targets)) / len(targets)

    return {
        "create": best_of(rounds, _create_round(service.create, service.delete, "c")),
        "get": best_of(rounds, _read_round(service.get, targets)),
        "exists": best_of(rounds, _read_round(service.exists, targets)),
        "update": best_of(rounds, update_round),
        "delete": best_of(rounds, delete_round),
    }


def bench_scaling(report: Report, scratch: Path) -> None:
    """Each operation at 10,000 namespaces within 1.5x of its cost at 100."""
    costs = {}
    for size in (100, 10_000):
        root = scratch / f"scale-{size}"
        names = namespace_names(size)
        write_tree(root, names)
        service = NamespaceService(LocalNamespaceRepository(root))
        costs[size] = service_costs(service, [n for n in names if "/" in n], rounds=5)
    for operation in ("create", "get", "exists", "update", "delete"):
        small, large = costs[100][operation], costs[10_000][operation]
        report.ratio(
            f"{operation}: 10,000 vs 100 namespaces",
            ours=large,
            other=small,
            unit="per op",
            limit=1.5,
            note=f"{small * 1e6:.0f} us at 100",
        )


def bench_against_minari(report: Report, scratch: Path) -> None:
    """Ours against minari.namespace 0.5.4 in a tree of 3,000 namespaces."""
    import minari.namespace as minari_namespace

    root = scratch / "vs-minari"
    names = namespace_names(3_000)
    write_tree(root, names)
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    service = NamespaceService(LocalNamespaceRepository(root))
    targets = [n for n in names if "/" in n][:OPS]
    ours = service_costs(service, targets, rounds=3)

    theirs_create = best_of(
        1,
        _create_round(minari_namespace.create_namespace, minari_namespace.delete_namespace, "m"),
    )
    theirs_get = best_of(1, _read_round(minari_namespace.get_namespace_metadata, targets))
    compat_create = best_of(
        3, _create_round(ours_compat.create_namespace, ours_compat.delete_namespace, "x")
    )
    compat_get = best_of(3, _read_round(ours_compat.get_namespace_metadata, targets))

    report.ratio(
        "create vs Minari create_namespace",
        ours["create"],
        theirs_create,
        unit="per op",
        limit=1 / 50,
        note="3,000 namespaces, fsync kept",
    )
    report.ratio(
        "get vs Minari get_namespace_metadata",
        ours["get"],
        theirs_get,
        unit="per op",
        limit=1 / 500,
    )
    report.ratio(
        "exists vs Minari get_namespace_metadata",
        ours["exists"],
        theirs_get,
        unit="per op",
        limit=1 / 500,
    )
    report.ratio(
        "compat create_namespace vs service.create",
        compat_create,
        ours["create"],
        unit="per op",
        limit=2.0,
    )
    report.ratio(
        "compat get_namespace_metadata vs service.get",
        compat_get,
        ours["get"],
        unit="per op",
        limit=2.0,
    )


def bench_listing(report: Report, scratch: Path) -> None:
    """list_local() of 10,000 namespaces with datasets, against a bare scandir walk."""
    import minari.namespace as minari_namespace

    root = scratch / "listing"
    names = namespace_names(10_000)
    write_tree(root, names, dataset_files=20)
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    repository = LocalNamespaceRepository(root)
    expected = floor_walk(str(root))
    assert [str(ns) for ns in repository.list_namespaces()] == expected
    assert len(expected) == 10_000
    floor = best_of(5, lambda _: _timed(lambda: floor_walk(str(root))))
    ours = best_of(5, lambda _: _timed(repository.list_namespaces))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = best_of(2, lambda _: _timed(minari_namespace.list_local_namespaces))
    report.ratio(
        "list_local (10,000 + datasets) vs os.scandir floor",
        ours,
        floor,
        unit="per list",
        limit=1.5,
    )
    report.ratio(
        "Minari list_local_namespaces vs os.scandir floor",
        theirs,
        floor,
        unit="per list",
        limit=None,
    )


DATASETS = 1_000


def bench_dataset_listing(report: Report, scratch: Path) -> None:
    """list_datasets(metadata=True) of 1,000 datasets against Minari's
    list_local_datasets and a bare scandir walk that reads the same files."""
    import minari

    root = scratch / "datasets"
    write_datasets(root, dataset_ids(DATASETS))
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    service = NamespaceService(LocalNamespaceRepository(root))
    expected = floor_datasets(str(root))
    ours_found = {str(e.id): e.metadata for e in service.list_datasets(metadata=True)}
    assert ours_found == expected == minari.list_local_datasets()
    assert len(expected) == DATASETS
    floor = best_of(5, lambda _: _timed(lambda: floor_datasets(str(root))))
    ours = best_of(5, lambda _: _timed(lambda: service.list_datasets(metadata=True)))
    theirs = best_of(3, lambda _: _timed(minari.list_local_datasets))
    note = f"{DATASETS:,} datasets in 100 namespaces, each data/metadata.json read and parsed"
    report.ratio(
        f"list_datasets(metadata) ({DATASETS:,}) vs os.scandir floor",
        ours,
        floor,
        unit="per list",
        limit=1.5,
        note=note,
    )
    report.ratio(
        f"list_datasets(metadata) vs Minari list_local_datasets ({DATASETS:,})",
        ours,
        theirs,
        unit="per list",
        limit=None,
    )
    report.ratio(
        f"Minari list_local_datasets ({DATASETS:,}) vs os.scandir floor",
        theirs,
        floor,
        unit="per list",
        limit=None,
    )


def bench_identifier(report: Report) -> None:
    """NamespaceId construction against a bare compiled re.fullmatch of the same rules."""
    texts = [f"D4RL/door-{i}/expert_{i % 7}" for i in range(20_000)]
    pattern = NAMESPACE_REGEX  # the same rules, public, compiled once
    floor = best_of(5, lambda _: _timed(lambda: [pattern.fullmatch(t) for t in texts]))
    ours = best_of(5, lambda _: _timed(lambda: [NamespaceId(t) for t in texts]))
    report.ratio(
        "NamespaceId() vs re.fullmatch",
        ours / len(texts),
        floor / len(texts),
        unit="per id",
        limit=5.0,
    )


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="minari-namespaces-bench-") as folder:
        scratch = Path(folder)
        bench_identifier(report)
        bench_scaling(report, scratch)
        bench_against_minari(report, scratch)
        bench_listing(report, scratch)
        bench_dataset_listing(report, scratch)
