"""Datasets on the Hub: listed, read and published as the Hub keeps them.

- **Listing**: one tree listing per repository gives every file's size and the
  Hub's own content hash: the SHA-256 of an LFS file, git's id of any other, so a
  transfer compares content without reading it.
- **Reading**: a file streams from ``resolve`` (an LFS file from the CDN address
  that ``resolve`` redirects to, without the token), in chunks.
- **Publishing**: each file is copied to a staging folder (streamed, checked
  against the source's size and hashes), LFS content goes up through the client's
  public ``preupload_lfs_files`` (the Hub's LFS batch API: an object the repository
  holds is not sent again), and the files are committed with ``create_commit`` and
  ``parent_commit``, the root's ``datasets`` registry updated in the same commit.
  Writes gathered in a batch (:meth:`HubDatasetFiles.begin_batch`) go to each
  repository in as few commits as :data:`COMMIT_FILES` and :data:`COMMIT_BYTES`
  allow: namespaces and small datasets in one; a dataset too big for one commit
  spreads over several, its ``data/metadata.json`` and registry entry in the last,
  so neither our listing nor Minari's shows it before it is whole.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, BinaryIO, Final
from urllib.parse import quote

from minari_namespaces.dataset_files import (
    CHUNK_BYTES,
    CopiedFile,
    DatasetFile,
    DatasetWrite,
    unsafe_reason,
)
from minari_namespaces.stores.base import DATASET_MARKER
from minari_namespaces.stores.drivers.hub.commits import REPO_TYPE, Plan, Snapshot, Staged
from minari_namespaces.stores.drivers.hub.deadline import streaming, time_left, within
from minari_namespaces.stores.drivers.hub.urls import hub_repo_name_problem
from minari_namespaces.stores.drivers.retry import RetryPolicy
from minari_namespaces.stores.drivers.status import NOT_FOUND, is_throttled

__all__ = ["COMMIT_BYTES", "COMMIT_FILES", "HubDatasetFiles"]

#: Files per commit at most: the top of huggingface_hub's own adaptive commit size
#: (it starts at 256 and grows to 1,000 while commits stay well under the Hub's
#: timeout); the Hub's "fewer than 100 files per commit" is for the web uploader.
COMMIT_FILES: Final = 1000
#: Bytes of files small enough to go into the commit itself (under the Hub's 10 MiB
#: LFS limit) per commit at most; LFS content is uploaded before the commit.
COMMIT_BYTES: Final = 256 * 1024 * 1024
_LFS_LIMIT: Final = 10 * 1024 * 1024
#: Repositories listed at once.
_LISTERS: Final = 16
_MARK: Final = f"{DATASET_MARKER}/metadata.json"
#: Files the Hub keeps at the root of every repository; never dataset content.
_HUB_FILES: Final = frozenset({".gitattributes"})


@dataclass
class _DatasetWrite:
    """One dataset gathered for a repository's commits."""

    inner: str
    dataset_id: str | None
    files: dict[str, Staged]
    replace: bool

    def paths(self) -> list[str]:
        """The dataset's files, its ``data/metadata.json`` last."""
        return sorted(self.files, key=lambda path: (path == self.mark, path))

    @property
    def mark(self) -> str:
        """The path of the dataset's ``data/metadata.json`` in the repository."""
        return f"{self.inner}/{_MARK}" if self.inner else _MARK


@dataclass
class _Gathered:
    """What a batch holds for one repository."""

    namespaces: list[Callable[[Snapshot], Plan | None]] = field(default_factory=list)
    datasets: list[_DatasetWrite] = field(default_factory=list)


class _ResponseReader(io.RawIOBase):
    """The body of a streamed HTTP answer as a readable raw file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            self._left = next(self._chunks, b"")
            if not self._left:
                return 0
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


class HubDatasetFiles:
    """The dataset-file primitives of :class:`~minari_namespaces.stores.drivers.hub.HubDriver`."""

    api: Any
    retry: RetryPolicy
    _token: str | None

    def __init__(self) -> None:
        self._gather_lock = threading.Lock()
        self._gathered: dict[str, _Gathered] | None = None
        self._staging: str | None = None

    # -- what the driver provides --------------------------------------------------

    @abstractmethod
    def _split(self, path: str) -> tuple[str, str]: ...

    @abstractmethod
    def _entries(
        self, repo: str, inner: str, recursive: bool, revision: str | None
    ) -> list[Any]: ...

    @abstractmethod
    def _repos(self) -> list[str]: ...

    @abstractmethod
    def _patiently(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    @abstractmethod
    def _idempotently(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    @abstractmethod
    def _ensure_repo(self, repo: str) -> None: ...

    @abstractmethod
    def _commit(
        self,
        repo: str,
        make_plan: Callable[[Snapshot], Plan | None],
        *,
        parent: str | None = None,
        summary: str,
    ) -> None: ...

    # -- listing and reading ------------------------------------------------------

    def stat_files(self, folder: str) -> tuple[list[DatasetFile], list[str]]:
        """Every file under ``folder`` (``ORG``: every repository, one listing each)
        with its size and the Hub's content hash, and the paths never copied."""
        from huggingface_hub import RepoFile

        parts = folder.strip("/").split("/")
        if len(parts) == 1:
            found: list[DatasetFile] = []
            unsafe: list[str] = []
            names = self._repos()
            with ThreadPoolExecutor(max_workers=_LISTERS) as pool:
                listed = pool.map(lambda name: self.stat_files(f"{parts[0]}/{name}"), names)
                for name, (files, bad) in zip(names, listed, strict=True):
                    found += [replace(file, path=f"{name}/{file.path}") for file in files]
                    unsafe += [f"{name}/{path}" for path in bad]
            return found, unsafe
        repo, inner = self._split(folder)
        entries = self._patiently(self._entries, repo, inner, True, None)
        found, unsafe = [], []
        for entry in entries:
            if not isinstance(entry, RepoFile) or (not inner and entry.path in _HUB_FILES):
                continue
            relative = str(entry.path)[len(inner) + 1 :] if inner else str(entry.path)
            if unsafe_reason(relative) is not None:
                unsafe.append(relative)
                continue
            lfs = entry.lfs.sha256 if entry.lfs else None
            blob = None if entry.lfs else str(entry.blob_id)
            found.append(DatasetFile(relative, int(entry.size), lfs or blob, None, lfs, blob))
        return sorted(found), unsafe

    @contextmanager
    def open_file(self, path: str) -> Iterator[BinaryIO]:
        """Stream the file at ``path`` from the head of its repository; a 429 (or a
        503 with a time) is waited out within ``retry_deadline``.

        Raises:
            FileNotFoundError: If it (or its repository) is missing.
        """
        from huggingface_hub import get_session, hf_raise_for_status
        from huggingface_hub.errors import HfHubHTTPError
        from huggingface_hub.utils import build_hf_headers

        repo, inner = self._split(path)
        if hub_repo_name_problem(repo.split("/", 1)[1]) is not None:
            # No repository can have that name (the hidden bookkeeping folder of a
            # transfer: the Hub lists every file's hash, so none is kept here).
            raise FileNotFoundError(path)
        url = f"{self.api.endpoint}/datasets/{repo}/resolve/main/{quote(inner)}"
        headers = build_hf_headers(token=self._token)
        session = get_session()
        budget = self.retry.budget(at_most=time_left())
        while True:
            # Each hop (the Hub, then the object store an LFS file redirects to) is
            # bounded; httpx drops the token on a redirect to another origin.
            request = session.build_request("GET", url, headers=headers)
            try:
                with within(budget.left()), streaming():
                    got = session.send(request, stream=True, follow_redirects=True)
            except HfHubHTTPError as error:
                if not is_throttled(error):
                    raise
                budget.wait(error, throttled=True)
                continue
            try:
                if got.status_code == NOT_FOUND:
                    raise FileNotFoundError(path)
                if got.status_code >= 400:
                    got.read()
                    hf_raise_for_status(got)
                yield io.BufferedReader(_ResponseReader(got.iter_bytes(CHUNK_BYTES)), CHUNK_BYTES)
                return
            finally:
                got.close()

    def put(self, path: str, payload: bytes) -> None:
        """Keep no transfer record: the Hub's listing carries every file's hash, which
        is all a record would add (and each record would cost a commit)."""

    # -- publishing ---------------------------------------------------------------

    def begin_batch(self) -> bool:
        """Start gathering namespace creations and dataset writes, to commit them per
        repository at :meth:`end_batch`; ``False`` if a batch is already open (the
        outer one commits)."""
        with self._gather_lock:
            if self._gathered is not None:
                return False
            self._gathered = {}
            self._staging = tempfile.mkdtemp(prefix="minari-namespaces-hub-")
            return True

    def end_batch(self, *, commit: bool) -> None:
        """Commit what the batch gathered (if ``commit``), then forget it and its
        staging folder.

        Raises:
            FileExistsError: If a dataset written without ``replace`` appeared meanwhile.
        """
        with self._gather_lock:
            gathered, staging = self._gathered or {}, self._staging
            self._gathered = self._staging = None
        try:
            if commit:
                for repo, held in gathered.items():
                    self._commit_gathered(repo, held)
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)

    def gather(self, repo: str, plan: Callable[[Snapshot], Plan | None]) -> bool:
        """Keep ``plan`` (namespace creations) for the batch's commit of ``repo``;
        ``False`` if no batch is open."""
        with self._gather_lock:
            if self._gathered is None:
                return False
            self._gathered.setdefault(repo, _Gathered()).namespaces.append(plan)
            return True

    def write_dataset(self, folder: str, write: DatasetWrite, where: str) -> list[CopiedFile]:
        """Stage ``write.files`` (each checked), send their LFS content, and commit them with
        the dataset's registry entry: at the end of the open batch, or now.

        Raises:
            FileExistsError: If the dataset is there and ``replace`` is false.
            CopyVerificationError: If a copy differs from its source.
        """
        from huggingface_hub import CommitOperationAdd

        own_batch = self.begin_batch()
        try:
            repo, inner = self._split(folder)
            staging = self._staging
            assert staging is not None
            in_repo = f"{inner}/" if inner else ""

            def stage(file: DatasetFile) -> tuple[Staged, CopiedFile]:
                local = os.path.join(staging, os.urandom(12).hex())
                with open(local, "wb") as out:
                    digest = write.copy(
                        file, out.write, f"{where}/{file.path}", sha256=True, blob=True
                    )
                sha256, blob_id = digest.sha256, digest.blob_id
                # Both were asked for above.
                assert sha256 is not None
                assert blob_id is not None
                operation = CommitOperationAdd(
                    path_in_repo=f"{in_repo}{file.path}", path_or_fileobj=local
                )
                operation.upload_info.sha256 = bytes.fromhex(sha256)
                # The version the record keeps: git's id, as the Hub lists a plain file.
                listed = DatasetFile(file.path, digest.size, blob_id, None, sha256, blob_id)
                staged = Staged(operation, digest.size, sha256, blob_id)
                return staged, CopiedFile(listed, sha256)

            done: list[tuple[Staged, CopiedFile]] = write.run(
                [partial(stage, file) for file in write.files]
            )
            self._ensure_repo(repo)
            self._idempotently(self._preupload, repo, [staged.operation for staged, _ in done])
            pending = _DatasetWrite(
                inner,
                f"{repo.split('/', 1)[1]}/{inner}" if inner else None,
                {staged.operation.path_in_repo: staged for staged, _ in done},
                write.replace,
            )
            with self._gather_lock:
                assert self._gathered is not None
                self._gathered.setdefault(repo, _Gathered()).datasets.append(pending)
        except BaseException:
            if own_batch:
                self.end_batch(commit=False)
            raise
        if own_batch:
            self.end_batch(commit=True)
        return [copied for _, copied in done]

    def _preupload(self, repo: str, additions: list[Any]) -> None:
        """Send the LFS content of ``additions`` the Hub lacks.

        Raises:
            HfHubHTTPError: The Hub's answer to a failed object upload, which
                ``huggingface_hub`` wraps in a ``RuntimeError``: unwrapped, so that the
                retry loops judge it (a 429 is waited out, a 5xx sent again).
        """
        from huggingface_hub.errors import HfHubHTTPError

        try:
            self.api.preupload_lfs_files(repo, additions=additions, repo_type=REPO_TYPE)
        except RuntimeError as error:
            if isinstance(error.__cause__, HfHubHTTPError):
                raise error.__cause__ from error
            raise

    def _commit_gathered(self, repo: str, held: _Gathered) -> None:
        """Commit a repository's gathered writes in as few commits as the limits allow."""
        chunks = _chunks(held.datasets)
        for number, chunk in enumerate(chunks):
            first = number == 0

            def make_plan(
                snapshot: Snapshot,
                chunk: list[tuple[_DatasetWrite, list[str]]] = chunk,
                first: bool = first,
            ) -> Plan:
                plan = Plan()
                if first:
                    for namespaces in held.namespaces:
                        made = namespaces(snapshot)
                        if made is not None:
                            plan.adds.update(made.adds)
                for write, paths in chunk:
                    _add_part(plan, snapshot, write, paths, repo)
                return plan

            count = sum(len(paths) for _, paths in chunk)
            self._commit(
                repo,
                make_plan,
                summary=f"Upload {count} dataset file(s)" if count else "Create namespaces",
            )


def _add_part(
    plan: Plan, snapshot: Snapshot, write: _DatasetWrite, paths: list[str], repo: str
) -> None:
    """Add to ``plan`` one dataset's ``paths``; the first part of the dataset checks
    that it may be written and removes whatever of an older copy (or an interrupted
    write) the new one does not hold; the last one registers it."""
    ordered = write.paths()
    prefix = f"{write.inner}/" if write.inner else ""
    if paths[0] == ordered[0]:
        if not write.replace and write.mark in snapshot.files:
            raise FileExistsError(f"{repo}/{write.inner}")
        plan.deletes += sorted(
            name
            for name in snapshot.files
            if name.startswith(prefix) and name not in write.files and name not in _HUB_FILES
        )
    plan.files.update({path: write.files[path] for path in paths})
    if paths[-1] == ordered[-1] and write.dataset_id is not None:
        plan.datasets.append(write.dataset_id)


def _chunks(writes: list[_DatasetWrite]) -> list[list[tuple[_DatasetWrite, list[str]]]]:
    """The commits of a repository: the datasets' files packed in order, at most
    :data:`COMMIT_FILES` files and :data:`COMMIT_BYTES` bytes of small files each;
    one commit (for the namespaces alone) if there is no dataset."""
    chunks: list[list[tuple[_DatasetWrite, list[str]]]] = [[]]
    files = size = 0
    for write in writes:
        for path in write.paths():
            weight = write.files[path].size if write.files[path].size < _LFS_LIMIT else 0
            if files and (files + 1 > COMMIT_FILES or size + weight > COMMIT_BYTES):
                chunks.append([])
                files = size = 0
            current = chunks[-1]
            if current and current[-1][0] is write:
                current[-1][1].append(path)
            else:
                current.append((write, [path]))
            files += 1
            size += weight
    return chunks
