"""Datasets travel with their namespaces: plan, then copy, whole, verified, in parallel.

:class:`DatasetTransfer` moves datasets between any two stores for
:class:`~minari_namespaces.transfer.Transfer`. It lists both sides once, decides
per dataset (:class:`DatasetPlan`: copy, unchanged, kept or replace), then copies
with a pool of ``jobs`` threads; each store writes a dataset whole or not at all
(:meth:`~minari_namespaces.stores.base.NamespaceStoreBase.write_dataset`).

What counts as unchanged: the same files with the same sizes and the same
content. Content is compared by the MD5 both stores keep where they do, else by a
:class:`CopyRecord`: what this library last copied from that source (the
source's version token, the size, the SHA-256, the target's version token), kept
in the target's hidden ``.minari-namespaces`` folder. A file whose tokens still
match the record is known without reading it; any other is read and hashed
(once), so a file changed after the last transfer is found even when its size
did not change, and a rerun after a complete transfer reads no file at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO, Final, Literal

from minari_namespaces.dataset_files import (
    CHUNK_BYTES,
    CopiedFile,
    DatasetFile,
    FileSource,
    Runner,
    pool_runner,
)
from minari_namespaces.datasets import DatasetId
from minari_namespaces.errors import KeptDatasetsWarning, first_few
from minari_namespaces.repository import NamespaceRepository

__all__ = [
    "DEFAULT_JOBS",
    "CopyRecord",
    "DatasetPlan",
    "DatasetTransfer",
]

_log = logging.getLogger("minari_namespaces.transfer")

#: Files copied at once when ``jobs`` is not given, as measured in docs/decisions.md.
DEFAULT_JOBS: Final = 4

#: What happens to one dataset: ``copy`` (the target lacks it), ``unchanged`` (the
#: target holds the same files), ``kept`` (the target's differs and is kept),
#: ``replace`` (it differs and ``overwrite`` replaces it whole).
PlanAction = Literal["copy", "unchanged", "kept", "replace"]


@dataclass(frozen=True)
class TransferProgress:
    """How far a transfer got, passed to a ``progress`` callback.

    Attributes:
        namespaces_done: Namespaces written (or found up to date) so far.
        namespaces_total: Namespaces the transfer handles.
        files_done: Dataset files copied so far.
        files_total: Dataset files the transfer copies.
        bytes_done: Bytes of dataset files copied so far.
        bytes_total: Bytes of dataset files the transfer copies.
    """

    namespaces_done: int
    namespaces_total: int
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0


@dataclass(frozen=True)
class DatasetPlan:
    """What a transfer does (or, for a dry run, would do) with one dataset.

    Attributes:
        id: The dataset.
        action: ``copy``, ``unchanged``, ``kept`` or ``replace``.
        files: How many files the source's copy holds.
        bytes: Their total size in bytes.
    """

    id: DatasetId
    action: PlanAction
    files: int
    bytes: int

    @property
    def moves(self) -> bool:
        """Whether the dataset's files are sent (``copy`` or ``replace``)."""
        return self.action in ("copy", "replace")


@dataclass
class CopyRecord:
    """What this library last copied from one source into one target, per file:
    ``[source version, size, sha256, target version]``; the SHA-256 is ``null``
    until a comparison computes it (a copy checks sizes and the MD5s stores keep,
    and hashes nothing else).

    Kept as JSON at ``.minari-namespaces/copied-from-<hash of the source URL>.json``
    in the target (outside every namespace and dataset folder).
    """

    source: str
    files: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    changed: bool = False

    @property
    def name(self) -> str:
        """The record's file name in the target's bookkeeping folder."""
        return f"copied-from-{hashlib.sha256(self.source.encode()).hexdigest()[:24]}.json"

    @classmethod
    def load(cls, target: NamespaceRepository, source: str) -> CopyRecord:
        """The record in ``target`` of copies from ``source`` (empty if none or unreadable)."""
        record = cls(source)
        raw = target.read_record(record.name)
        try:
            data = json.loads(raw) if raw else {}
            if data.get("source") == source and isinstance(data.get("datasets"), dict):
                record.files = data["datasets"]
        except (ValueError, AttributeError):
            _log.debug("Ignoring an unreadable transfer record in %s", target.url)
        return record

    def save(self, target: NamespaceRepository) -> None:
        """Write the record back, merged with what another transfer wrote meanwhile."""
        merged = {**CopyRecord.load(target, self.source).files, **self.files}
        payload = {"source": self.source, "datasets": merged}
        target.write_record(self.name, json.dumps(payload, sort_keys=True).encode())

    def holds(
        self, dataset: DatasetId, path: str, *, source: str | None, target: str | None
    ) -> bool:
        """Whether both sides' versions of a file are the ones recorded together: the
        target still holds the source's content, nothing read."""
        entry = self.files.get(str(dataset), {}).get(path)
        if not entry or source is None or target is None:
            return False
        return bool(entry[0] == source and entry[3] == target)

    def known(
        self, dataset: DatasetId, path: str, *, source: str | None, target: str | None
    ) -> str | None:
        """The recorded SHA-256 of a file whose source (or target) version still
        matches the record; ``None`` if neither does or no hash was recorded (a copy
        hashes nothing: one is recorded once a comparison computes it)."""
        entry = self.files.get(str(dataset), {}).get(path)
        if not entry or entry[2] is None:
            return None
        if source is not None and entry[0] == source:
            return str(entry[2])
        if target is not None and entry[3] == target:
            return str(entry[2])
        return None

    def reversed(self) -> CopyRecord:
        """The same copies seen from the target's side (each entry's two versions
        swapped), for comparing the other way; never saved."""
        back = CopyRecord(self.source)
        back.files = {
            dataset: {
                path: [entry[3], entry[1], entry[2], entry[0]]
                for path, entry in held.items()
                if isinstance(entry, list) and len(entry) == 4
            }
            for dataset, held in self.files.items()
            if isinstance(held, dict)
        }
        return back

    def note(
        self, dataset: DatasetId, source: DatasetFile, target: DatasetFile, sha256: str | None
    ) -> None:
        """Record that ``target`` holds ``source``'s content, whose SHA-256 is ``sha256``
        (``None`` where it was not computed)."""
        held = self.files.setdefault(str(dataset), {})
        held[source.path] = [source.version, source.size, sha256, target.version]
        self.changed = True


def _known(
    records: list[CopyRecord],
    dataset: DatasetId,
    path: str,
    *,
    source: str | None = None,
    target: str | None = None,
) -> str | None:
    """The SHA-256 that the first of ``records`` to know it recorded (see
    :meth:`CopyRecord.known`)."""
    for record in records:
        found = record.known(dataset, path, source=source, target=target)
        if found is not None:
            return found
    return None


def _hash(
    store: NamespaceRepository, dataset: DatasetId, file: DatasetFile, go_on: Callable[[], None]
) -> tuple[str, str]:
    """The SHA-256 and git id of a file's content, read from ``store``; ``go_on`` is
    called before each chunk (it raises to stop)."""
    digest = hashlib.sha256()
    blob = hashlib.sha1(b"blob %d\0" % file.size, usedforsecurity=False)
    with store.open_dataset_file(dataset, file) as handle:
        go_on()
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            blob.update(chunk)
            go_on()
    return digest.hexdigest(), blob.hexdigest()


def _record_place(
    source: NamespaceRepository, target: NamespaceRepository
) -> tuple[NamespaceRepository, str]:
    """Where the record of copies from ``source`` to ``target`` lives, and its key:
    the target, under the source's URL, unless the target keeps no records (the
    Hub, whose every record would be a commit); then the source, under the
    target's name."""
    if target.keeps_records:
        return target, source.url
    return source, f"to {target.url}"


class _InterruptedError(Exception):
    """Raised in the copying threads once the transfer is interrupted; the caller sees
    the interruption itself (``KeyboardInterrupt``), never this."""


@dataclass
class DatasetTransfer:
    """Datasets from ``source`` to ``target``: :meth:`plan`, then :meth:`copy`.

    Attributes:
        source: The store copied from.
        target: The store copied to.
        overwrite: Replace datasets that differ on the target.
        jobs: Files copied (or hashed) at once.
        progress: Called with (files done, bytes done) as files complete.
        both_ways: Trust the record of copies from ``target`` to ``source`` too (a
            comparison, which never copies, knows what either direction copied).
    """

    source: NamespaceRepository
    target: NamespaceRepository
    overwrite: bool
    jobs: int = DEFAULT_JOBS
    progress: Callable[[int, int], None] | None = None
    both_ways: bool = False
    _files: dict[DatasetId, list[DatasetFile]] = field(default_factory=dict, init=False)
    _record: CopyRecord | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _done: list[int] = field(default_factory=lambda: [0, 0], init=False)
    #: The files of each dataset under way counted in ``_done``: a file copied again
    #: from the start (a declined request redone another way) counts once.
    _counted: dict[DatasetId, set[str]] = field(default_factory=dict, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _unsafe: dict[DatasetId, list[str]] = field(default_factory=dict, init=False)
    _save_due: bool = field(default=False, init=False)
    #: What the last save as datasets landed wrote (the end saves only what it lacks).
    _saved: dict[str, dict[str, list[Any]]] | None = field(default=None, init=False)

    def plan(self, ids: Iterable[DatasetId]) -> list[DatasetPlan]:
        """Decide what happens to each of ``ids`` (sorted); reads only file
        contents whose tokens match no record.

        Raises:
            UnsafeDatasetFileError: If a source dataset holds a link, a FIFO, a
                device or a key outside its folder (nothing is written).
            RemoteError: If a remote store fails.
        """
        wanted = sorted(set(ids))
        self._files = self.source.dataset_files(wanted)
        held = self.target.dataset_files(wanted, strict=False) if wanted else {}
        # Entries no copy writes (listed with size -1) make a dataset differ from
        # every source: the kept warning names them.
        self._unsafe = {
            dataset: [file.path for file in files if file.size < 0]
            for dataset, files in held.items()
            if any(file.size < 0 for file in files)
        }
        self._record = record = CopyRecord.load(*_record_place(self.source, self.target))
        records = [record]
        if self.both_ways:
            records.append(CopyRecord.load(*_record_place(self.target, self.source)).reversed())
        present = [dataset for dataset in wanted if dataset in self._files]
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool, self._stopping(pool):
            futures = [pool.submit(self._same, d, held.get(d), records) for d in present]
            wait(futures)
        same = {dataset: future.result() for dataset, future in zip(present, futures, strict=True)}
        plans: list[DatasetPlan] = []
        for dataset in present:
            files = self._files[dataset]
            size = sum(file.size for file in files)
            if dataset not in held:
                action: PlanAction = "copy"
            elif same[dataset]:
                action = "unchanged"
            else:
                action = "replace" if self.overwrite else "kept"
            plans.append(DatasetPlan(dataset, action, len(files), size))
        return plans

    @property
    def _record_home(self) -> NamespaceRepository:
        """The store that keeps this transfer's record (see :func:`_record_place`)."""
        return _record_place(self.source, self.target)[0]

    def _same(
        self, dataset: DatasetId, held: list[DatasetFile] | None, records: list[CopyRecord]
    ) -> bool:
        """Whether the target's files of ``dataset`` are the source's (size and
        content), as hashes or ``records`` tell, else read; what is read is noted in
        the first record."""
        mine = self._files[dataset]
        if held is None or [(f.path, f.size) for f in mine] != [(f.path, f.size) for f in held]:
            return False
        for source, target in zip(mine, held, strict=True):
            listed = [
                (mine_hash, held_hash)
                for mine_hash, held_hash in (
                    (source.md5, target.md5),
                    (source.sha256, target.sha256),
                    (source.blob_id, target.blob_id),
                )
                if mine_hash is not None and held_hash is not None
            ]
            if listed:
                if any(mine_hash != held_hash for mine_hash, held_hash in listed):
                    return False
                continue
            if any(
                record.holds(dataset, source.path, source=source.version, target=target.version)
                for record in records
            ):
                continue  # both sides are as recorded: nothing read, nothing to note
            ours = source.sha256 or _known(records, dataset, source.path, source=source.version)
            theirs = target.sha256 or _known(records, dataset, source.path, target=target.version)
            if ours is not None and theirs is not None:
                if ours != theirs:
                    return False
                continue  # both sides are known: nothing read, nothing to note
            if ours is None and theirs is None and (source.blob_id or target.blob_id):
                # One side lists git's id (the Hub): read the other side only.
                listed_id, other, store = (
                    (source.blob_id, target, self.target)
                    if source.blob_id
                    else (target.blob_id, source, self.source)
                )
                ours, blob = _hash(store, dataset, other, self._go_on)
                if blob != listed_id:
                    return False
                theirs = ours
            if ours is None:
                ours = _hash(self.source, dataset, source, self._go_on)[0]
            if theirs is None:
                theirs = _hash(self.target, dataset, target, self._go_on)[0]
            if ours != theirs:
                return False
            with self._lock:
                records[0].note(dataset, source, target, ours)
        return True

    def copy(self, plans: list[DatasetPlan]) -> list[DatasetId]:
        """Write every dataset that ``plans`` moves; return those written, sorted.
        First remove what interrupted transfers left in the namespace folders of
        ``plans``, even when nothing moves. The record is saved even when a copy
        fails (then its error is raised).

        Raises:
            CopyVerificationError: If a copy differs from its source.
            RemoteError: If a remote store fails.
        """
        self.target.remove_leftovers(plan.id for plan in plans)
        record = self._record or CopyRecord(_record_place(self.source, self.target)[1])
        moving = [plan for plan in plans if plan.moves]
        written: list[DatasetId] = []
        try:
            with (
                ThreadPoolExecutor(max_workers=1) as saver,
                ThreadPoolExecutor(max_workers=max(1, self.jobs)) as files,
                ThreadPoolExecutor(max_workers=max(1, self.jobs)) as datasets,
                self._stopping(files, datasets),
            ):
                run = pool_runner(files)
                futures = [datasets.submit(self._one, plan, run, record, saver) for plan in moving]
                wait(futures)
                for plan, future in zip(moving, futures, strict=True):
                    if future.exception() is None:
                        written.append(plan.id)
                for future in futures:
                    future.result()
        finally:
            # An in-sync rerun writes nothing, not even the record; nor does a run whose
            # last save as a dataset landed already holds everything.
            if record.changed and record.files != self._saved:
                record.save(self._record_home)
        warn_kept([plan.id for plan in plans if plan.action == "kept"], self.target, self._unsafe)
        return sorted(written)

    def _one(self, plan: DatasetPlan, run: Runner, record: CopyRecord, saver: Executor) -> None:
        dataset = plan.id
        files = self._files[dataset]
        _log.debug("Copying dataset '%s' (%d files, %d bytes)", dataset, plan.files, plan.bytes)
        try:
            with self.source.open_dataset(dataset, files, jobs=self.jobs) as reader:
                copied: list[CopiedFile] = self.target.write_dataset(
                    dataset,
                    files,
                    partial(self._read, reader.open, dataset),
                    replace=plan.action == "replace",
                    run=run,
                    on_bytes=self._moved,
                    jobs=self.jobs,
                    reads_ahead=reader.reads_ahead,
                )
        finally:
            with self._lock:
                self._counted.pop(dataset, None)
        by_path = {each.file.path: each for each in copied}
        with self._lock:
            record.files.pop(str(dataset), None)
            for file in files:
                record.note(dataset, file, by_path[file.path].file, by_path[file.path].sha256)
            # Saved as each dataset lands, so a run killed later reads none of it again;
            # the Hub commits at the end, so its record waits for the end too.
            if self.target.keeps_records and not self._save_due:
                self._save_due = True
                saver.submit(self._save_progress, record)

    def _save_progress(self, record: CopyRecord) -> None:
        """Save what ``record`` holds now, beside the copies: one save at a time, each
        with every dataset noted until it starts. Best effort: the save at the end
        is the one whose failure is raised."""
        with self._lock:
            self._save_due = False
            now = CopyRecord(record.source, {d: dict(held) for d, held in record.files.items()})
        try:
            now.save(self._record_home)
        except Exception:
            _log.debug("Could not save the transfer record yet", exc_info=True)
        else:
            self._saved = now.files

    @contextmanager
    def _stopping(self, *pools: Executor) -> Iterator[None]:
        """On Ctrl-C in the block (wherever the main thread is) no task of ``pools``
        starts any more and those under way (a copy, a hash) end at their next chunk,
        so each unfinished dataset's staging is removed and the command exits at
        once, not when every file has been copied or compared."""
        try:
            yield
        except BaseException:
            self._stop.set()
            for pool in pools:
                pool.shutdown(wait=False, cancel_futures=True)
            raise

    def _go_on(self) -> None:
        if self._stop.is_set():
            raise _InterruptedError

    @contextmanager
    def _read(
        self, source: FileSource, dataset: DatasetId, file: DatasetFile
    ) -> Iterator[BinaryIO]:
        self._go_on()
        with source(file) as handle:
            yield handle
        with self._lock:
            counted = self._counted.setdefault(dataset, set())
            if file.path in counted:
                return
            counted.add(file.path)
            self._done[0] += 1
            done = tuple(self._done)
        if self.progress is not None:
            self.progress(*done)

    def _moved(self, size: int) -> None:
        self._go_on()
        with self._lock:
            self._done[1] += size
            done = tuple(self._done)
        if self.progress is not None:
            self.progress(*done)


def warn_kept(
    kept: list[DatasetId],
    target: NamespaceRepository,
    unsafe: Mapping[DatasetId, list[str]] | None = None,
) -> None:
    """One :class:`~minari_namespaces.errors.KeptDatasetsWarning` naming ``kept``, and
    the entries of theirs no copy writes (``unsafe``: links, keys outside the folder)."""
    if not kept:
        return
    shown, more = first_few(kept, 10)
    names = ", ".join(f"'{dataset}'" for dataset in shown)
    entries = [f"{d}/{path}" for d in kept for path in (unsafe or {}).get(d, [])]
    odd, more_odd = first_few(entries, 5)
    why = (
        f" They hold entries no copy writes, which only overwrite removes: "
        f"{', '.join(repr(entry) for entry in odd)}{more_odd}."
        if entries
        else ""
    )
    warnings.warn(
        f"Kept {len(kept)} existing dataset(s) in {target.url} whose files differ from "
        f"the source: {names}{more}.{why} A dataset version is immutable; pass "
        "overwrite=True to replace them whole.",
        KeptDatasetsWarning,
        stacklevel=6,
    )
