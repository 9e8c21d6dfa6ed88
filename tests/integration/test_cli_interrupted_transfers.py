"""Interrupted dataset transfers as real processes (issue 23, point 6): Ctrl-C stops
the comparison of a rerun at its next chunk, as it stops a copy; a download killed
with SIGKILL resumes without reading again any dataset that had already arrived.

What a process read is counted by the kernel (``rchar`` of ``/proc/self/io``, saved
at exit) or, for the resumed run, by a store that counts the files it opens: the
tests assert on what was read and left behind, never on how long it took.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from minari_namespaces import (
    DatasetId,
    LocalNamespaceRepository,
    NamespaceService,
    open_repository,
)
from minari_namespaces.dataset_files import DatasetFile, DatasetReader
from minari_namespaces.repository import NamespaceRepository
from tests.support.deadline import within
from tests.support.processes import paced

pytestmark = [pytest.mark.processes]

MiB = 1024 * 1024
NAMESPACE = "bench/big"


def plant_tree(
    root: Path, datasets: int, size: int, *, files: int = 1, sparse: bool
) -> list[DatasetId]:
    """``datasets`` datasets in ``NAMESPACE`` under ``root``, each with ``files``
    files of ``size`` bytes (holes, or random bytes) beside its ``data/metadata.json``."""
    NamespaceService(LocalNamespaceRepository(root)).create(NAMESPACE, exist_ok=True)
    ids = []
    for number in range(datasets):
        dataset = DatasetId(f"{NAMESPACE}/set{number:02d}-v0")
        data = root / str(dataset) / "data"
        data.mkdir(parents=True)
        (data / "metadata.json").write_text(json.dumps({"dataset_id": str(dataset)}))
        for part in range(files):
            with open(data / f"part-{part}.hdf5", "wb") as out:
                if sparse:
                    out.truncate(size)
                else:
                    out.write(os.urandom(size))
        ids.append(dataset)
    return ids


def open_files(pid: int) -> list[str]:
    """The paths the process ``pid`` holds open now."""
    found = []
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return []  # it has ended
    for fd in fds:
        try:
            found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue  # closed meanwhile
    return found


def bytes_read(saved: Path) -> int:
    """``rchar`` from a saved ``/proc/self/io``: every byte the process read."""
    for line in saved.read_text().splitlines():
        name, _, value = line.partition(": ")
        if name == "rchar":
            return int(value)
    raise AssertionError(f"no rchar in {saved}")


def test_ctrl_c_during_a_reruns_comparison_stops_it_at_the_next_chunk(tmp_path: Path) -> None:
    size = 128 * MiB
    source, target = tmp_path / "source", tmp_path / "target"
    ids = plant_tree(source, 1, size, files=4, sparse=True)
    NamespaceService(
        LocalNamespaceRepository(source), LocalNamespaceRepository(target)
    ).upload_tree(datasets=True)
    # Touched, every file is compared by reading both copies: 1 GiB to hash.
    for path in source.rglob("part-*.hdf5"):
        os.utime(path, ns=(1, 1))
    reads = tmp_path / "reads"
    mirror = ["mirror", str(source), str(target), "--datasets", "--jobs", "1"]
    process = paced(
        mirror,
        0,
        ctrl_c=True,
        reads_to=str(reads),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with within(120):
        while not any(path.endswith(".hdf5") for path in open_files(process.pid)):
            assert process.poll() is None, process.communicate()
            time.sleep(0.001)
    process.send_signal(signal.SIGINT)
    err = process.communicate(timeout=120)[1]
    assert process.returncode == 130, err
    assert err.startswith("Interrupted"), err
    # It stopped within a chunk of the first file: far less than one file was read,
    # where the whole comparison of the dataset reads eight.
    assert bytes_read(reads) < size
    assert LocalNamespaceRepository(target).list_datasets() == ids
    assert not [path for path in target.rglob("*") if ".minari-partial" in path.name]


class CountingOpens:
    """A store that notes every dataset file opened through it."""

    def __init__(self, inner: NamespaceRepository) -> None:
        self.inner = inner
        self.opened: list[DatasetId] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def open_dataset_file(
        self, dataset: DatasetId, file: DatasetFile
    ) -> AbstractContextManager[BinaryIO]:
        self.opened.append(dataset)
        return self.inner.open_dataset_file(dataset, file)

    @contextmanager
    def open_dataset(
        self, dataset: DatasetId, files: Sequence[DatasetFile] = (), *, jobs: int = 1
    ) -> Iterator[DatasetReader]:
        self.opened.append(dataset)
        with self.inner.open_dataset(dataset, files, jobs=jobs) as reader:
            yield reader


def recorded(target: Path) -> set[str]:
    """The datasets the target's copy record lists (none before it is written)."""
    found: set[str] = set()
    for record in (target / ".minari-namespaces").glob("copied-from-*.json"):
        found |= set(json.loads(record.read_text())["datasets"])
    return found


@contextmanager
def stopped(process: subprocess.Popen[str]) -> Iterator[None]:
    """``process`` frozen (SIGSTOP) inside the block, so that what it left on disk
    does not change while it is looked at; it runs on afterwards (SIGCONT)."""
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


def test_a_download_resumed_after_sigkill_reads_no_dataset_that_had_arrived(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    ids = plant_tree(source, 12, 32 * MiB, sparse=False)
    download = ["download", "--tree", "--datasets", "--jobs", "1",
                "--root", str(target), "--remote", source.as_uri()]  # fmt: skip
    # A pause after each dataset lands, so that a fast disk cannot finish all twelve
    # between two looks.
    process = paced(download, 0.5, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Killed once two datasets are in place and each one in place is in the record
    # (checked with the process frozen: a dataset is recorded just after it lands).
    arrived: list[DatasetId] = []
    with within(120):
        while not arrived:
            assert process.poll() is None, process.communicate()
            with stopped(process):
                here = LocalNamespaceRepository(target).list_datasets() if target.exists() else []
                if len(here) >= 2 and {str(d) for d in here} <= recorded(target):
                    process.kill()
                    arrived = here
            time.sleep(0.005)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert len(arrived) < len(ids)
    remote = CountingOpens(open_repository(source.as_uri()))
    local = LocalNamespaceRepository(target)
    report = NamespaceService(local, cast(NamespaceRepository, remote)).download_tree(datasets=True)
    assert set(report.datasets_unchanged) == set(arrived)
    assert set(report.datasets_copied) == set(ids) - set(arrived)
    assert not set(remote.opened) & set(arrived)  # not one file of theirs was read
    assert local.list_datasets() == ids
