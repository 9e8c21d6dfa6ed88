"""Memory stays flat in file size: a file of several hundred MiB moves through a
process whose peak memory grows by far less than the file (measured with
``resource.getrusage`` in a fresh process, against a warm-up with a 1 MiB file)."""

from __future__ import annotations

import resource
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import run_workers
from tests.support.servers import S3Server

pytestmark = pytest.mark.processes

#: The big file: several hundred MiB.
BIG_MIB = 320
#: What the peak may grow by while it moves (the issue's target for 1 GiB is 64 MiB).
ALLOWED_MIB = 64


def _plant(root: Path, name: str, mebibytes: int) -> None:
    from minari_namespaces import LocalNamespaceRepository, NamespaceService

    NamespaceService(LocalNamespaceRepository(root)).create("big", exist_ok=True)
    folder = root / "big" / name / "data"
    folder.mkdir(parents=True)
    block = bytes(range(256)) * 4096  # 1 MiB
    with open(folder / "main_data.hdf5", "wb") as handle:
        for index in range(mebibytes):
            handle.write(block[index % 256 :] + block[: index % 256])
    (folder / "metadata.json").write_bytes(b"{}")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def move_and_measure(
    root: str, url: str, options: dict[str, Any], down: bool, results: Queue[Any]
) -> None:
    from minari_namespaces import LocalNamespaceRepository, NamespaceService, open_repository

    local, remote = LocalNamespaceRepository(Path(root) / "local"), open_repository(url, **options)
    sink = LocalNamespaceRepository(Path(root) / "back")
    service = NamespaceService(local, remote)
    service.upload_dataset("big/small-v0")
    if down:
        NamespaceService(sink, remote).download_dataset("big/small-v0")
    baseline = _peak_mib()
    report = service.upload_dataset("big/large-v0")
    if down:
        report = NamespaceService(sink, remote).download_dataset("big/large-v0")
    results.put((report.bytes_copied, baseline, _peak_mib()))


def _measure(tmp_path: Path, url: str, options: dict[str, Any], *, down: bool) -> None:
    _plant(tmp_path / "local", "small-v0", 1)
    _plant(tmp_path / "local", "large-v0", BIG_MIB)
    ((copied, baseline, peak),) = run_workers(
        move_and_measure, [(str(tmp_path), url, options, down)]
    )
    assert copied == BIG_MIB * 1024 * 1024 + 2
    assert peak - baseline < ALLOWED_MIB, (baseline, peak)


def test_a_big_file_moves_to_file_url_in_flat_memory(tmp_path: Path) -> None:
    _measure(tmp_path, f"file://{tmp_path}/remote", {}, down=True)


@pytest.mark.s3
def test_a_big_file_moves_to_s3_and_back_in_flat_memory(
    tmp_path: Path, seaweed_s3: S3Server
) -> None:
    url = f"s3://{seaweed_s3.new_bucket()}/tree"
    _measure(tmp_path, url, dict(seaweed_s3.storage_options()), down=True)
