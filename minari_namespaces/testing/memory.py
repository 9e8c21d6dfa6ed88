"""``InMemoryNamespaceRepository``: a small, thread-safe fake for service tests.

It is built on the same base as the real stores
(:class:`~minari_namespaces.stores.base.NamespaceStoreBase`), so it follows the
same rules and raises the same texts, and it passes the same contract suite: tests
that use it test real behaviour.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import BinaryIO

from minari_namespaces.dataset_files import CopiedFile, DatasetFile, DatasetWrite
from minari_namespaces.datasets import DatasetId, UnreadableFile
from minari_namespaces.identifier import NamespaceId, portable_key
from minari_namespaces.metadata import MetadataChange, NamespaceMetadata
from minari_namespaces.stores.base import NamespaceStoreBase, Scan

__all__ = ["InMemoryNamespaceRepository"]


class InMemoryNamespaceRepository(NamespaceStoreBase):
    """Namespaces in memory, with datasets as plain names and their files as bytes.

    A dataset is written whole under the lock: it appears all at once.

    Args:
        name: A label for :attr:`url` (``memory-repository://<name>``).
    """

    def __init__(self, name: str = "default") -> None:
        super().__init__(f"memory-repository://{name}")
        self._lock = threading.RLock()
        self._namespaces: dict[NamespaceId, bytes] = {}
        self._datasets: dict[tuple[str, ...], set[str]] = {}
        self._dataset_files: dict[tuple[str, ...], bytes] = {}
        self._contents: dict[tuple[str, ...], dict[str, tuple[bytes, str]]] = {}
        self._records: dict[str, bytes] = {}
        self._versions = itertools.count()

    def put_dataset_file(self, dataset: DatasetId, path: str, raw: bytes) -> None:
        """Store ``raw`` as the file ``path`` of ``dataset`` (added first if absent)."""
        with self._lock:
            parts = dataset.parts
            if dataset.folder not in self._datasets.get(parts[:-1], set()):
                self.add_dataset(dataset.namespace, dataset.folder)
            if path == "data/metadata.json":
                self._dataset_files[parts] = bytes(raw)
            else:
                self._contents.setdefault(parts, {})[path] = (bytes(raw), self._version())

    def _version(self) -> str:
        return f"memory-{next(self._versions)}"

    def _files_of(self, folder: tuple[str, ...]) -> dict[str, tuple[bytes, str]]:
        """Every file of a dataset folder: its metadata and the others."""
        held = dict(self._contents.get(folder, {}))
        metadata = self._dataset_files.get(folder)
        if metadata is not None:
            held["data/metadata.json"] = (metadata, hashlib.md5(metadata).hexdigest())
        return held

    def add_dataset(
        self, ns: NamespaceId | None, name: str, metadata: bytes | None = b"{}"
    ) -> None:
        """Put a dataset called ``name`` directly inside ``ns`` (top level for ``None``),
        with ``metadata`` as its ``data/metadata.json`` (``None``: no such file)."""
        with self._lock:
            self._datasets.setdefault(ns.parts if ns else (), set()).add(name)
            folder = (*(ns.parts if ns else ()), name)
            self._contents[folder] = {"data/main_data.hdf5": (b"\x89HDF", self._version())}
            self.write_dataset_metadata(ns, name, metadata)

    def write_dataset_metadata(self, ns: NamespaceId | None, name: str, raw: bytes | None) -> None:
        """Store ``raw`` unchecked as the ``data/metadata.json`` of dataset ``name``
        in ``ns`` (``None`` removes it), to plant what Minari or a stranger wrote."""
        folder = (*(ns.parts if ns else ()), name)
        with self._lock:
            if raw is None:
                self._dataset_files.pop(folder, None)
            else:
                self._dataset_files[folder] = bytes(raw)

    def remove_dataset(self, ns: NamespaceId | None, name: str) -> None:
        """Remove a dataset added with :meth:`add_dataset`.

        Raises:
            KeyError: If there is no such dataset.
        """
        with self._lock:
            self._datasets[ns.parts if ns else ()].remove(name)
            self._dataset_files.pop((*(ns.parts if ns else ()), name), None)
            self._contents.pop((*(ns.parts if ns else ()), name), None)

    def write_marker(self, ns: NamespaceId, raw: bytes) -> None:
        """Store ``raw`` as the marker of ``ns`` unchecked (to plant corrupt data)."""
        with self._lock:
            self._namespaces[ns] = bytes(raw)

    def _dataset_holding(self, parts: tuple[str, ...]) -> tuple[str, ...] | None:
        """The prefix of ``parts`` (itself included) that is a dataset, if any."""
        for depth in range(1, len(parts) + 1):
            if parts[depth - 1] in self._datasets.get(parts[: depth - 1], ()):
                return parts[:depth]
        return None

    # -- primitives ----------------------------------------------------------

    def _read_marker(self, ns: NamespaceId) -> bytes | None:
        with self._lock:
            if self._dataset_holding(ns.parts) is not None:
                return None
            return self._namespaces.get(ns)

    def _check_batch(self, batch: Sequence[NamespaceId]) -> set[NamespaceId]:
        with self._lock:
            for ns in batch:
                dataset = self._dataset_holding(ns.parts)
                if dataset is not None:
                    raise self.texts.dataset_conflict(ns, dataset)
                for depth in range(1, ns.depth + 1):
                    above, name = ns.parts[: depth - 1], ns.parts[depth - 1]
                    siblings = {
                        other.parts[len(above)]
                        for other in self._namespaces
                        if other.depth > len(above) and other.parts[: len(above)] == above
                    } | self._datasets.get(above, set())
                    twins = sorted(
                        s for s in siblings if s != name and portable_key(s) == portable_key(name)
                    )
                    if twins:
                        raise self.texts.twin_conflict(ns, (*above, twins[0]))
        return set()

    def _create_one(self, ns: NamespaceId, payload: bytes) -> None:
        with self._lock:
            if ns in self._namespaces:
                raise FileExistsError(f"{self.texts.marker(ns)} exists")
            self._namespaces[ns] = payload

    def modify(self, ns: NamespaceId, change: MetadataChange) -> NamespaceMetadata:
        """Change the metadata of ``ns`` under the repository lock.

        Raises:
            NamespaceNotFoundError: If it does not exist.
            CorruptMetadataError: If its marker is corrupt.
        """
        with self._lock:
            updated = change(self.get(ns))
            self._namespaces[ns] = updated.to_json_bytes()
            return updated

    def delete(self, ns: NamespaceId) -> None:
        """Delete the empty namespace ``ns``.

        Raises:
            NamespaceNotFoundError: If it does not exist.
            NamespaceNotEmptyError: If it holds namespaces or datasets.
        """
        with self._lock:
            if self._read_marker(ns) is None:
                raise self.texts.not_found(ns)
            inside = sorted(
                "/".join(n.parts[ns.depth :]) for n in self._namespaces if ns.is_ancestor_of(n)
            )
            inside += sorted(self._datasets.get(ns.parts, ()))
            if inside:
                raise self.texts.not_empty(ns, inside)
            del self._namespaces[ns]

    def _scan(self, prefix: NamespaceId | None, *, sizes: bool = False) -> Scan:
        with self._lock:
            start = () if prefix is None else prefix.parts
            if start and self._dataset_holding(start) is not None:
                return Scan([], [], {})
            namespaces = sorted(
                ns
                for ns in self._namespaces
                if (prefix is None or ns.is_within(prefix))
                and self._dataset_holding(ns.parts) is None
            )
            datasets = sorted(
                folder
                for parts, names in self._datasets.items()
                for folder in ((*parts, name) for name in names)
                if folder[: len(start)] == start and self._dataset_holding(parts) is None
            )
            found = {
                folder: sum(len(raw) for raw, _ in self._files_of(folder).values())
                for folder in (datasets if sizes else ())
            }
            return Scan(namespaces, datasets, found)

    def _read_dataset_files(
        self, ids: Sequence[DatasetId]
    ) -> dict[DatasetId, bytes | UnreadableFile | None]:
        with self._lock:
            return {dataset: self._dataset_files.get(dataset.parts) for dataset in ids}

    def has_datasets(self, ns: NamespaceId) -> bool:
        """Whether a dataset lies directly inside ``ns``."""
        with self._lock:
            return self._dataset_holding(ns.parts) is None and bool(self._datasets.get(ns.parts))

    # -- dataset files ---------------------------------------------------------

    def _list_files(
        self, ids: Sequence[DatasetId]
    ) -> tuple[dict[DatasetId, list[DatasetFile]], dict[DatasetId, list[str]]]:
        found: dict[DatasetId, list[DatasetFile]] = {}
        with self._lock:
            for dataset in ids:
                if dataset.folder in self._datasets.get(dataset.parts[:-1], set()):
                    found[dataset] = sorted(
                        DatasetFile(path, len(raw), version)
                        for path, (raw, version) in self._files_of(dataset.parts).items()
                    )
        return found, {}

    @contextmanager
    def open_dataset_file(self, dataset: DatasetId, file: DatasetFile) -> Iterator[BinaryIO]:
        """Open one file of ``dataset``.

        Raises:
            FileNotFoundError: If it is not there.
        """
        with self._lock:
            held = self._files_of(dataset.parts).get(file.path)
        if held is None:
            raise FileNotFoundError(f"{self.url}/{dataset}/{file.path}")
        yield io.BytesIO(held[0])

    def _write_dataset(self, dataset: DatasetId, write: DatasetWrite) -> list[CopiedFile]:
        contents: dict[str, bytes] = {}
        for file in write.files:
            chunks: list[bytes] = []
            write.copy(file, chunks.append, f"{self.url}/{dataset}/{file.path}")
            contents[file.path] = b"".join(chunks)
        with self._lock:
            held = dataset.folder in self._datasets.get(dataset.parts[:-1], set())
            if held and not write.replace:
                raise self.texts.dataset_appeared(dataset)
            self._datasets.setdefault(dataset.parts[:-1], set()).add(dataset.folder)
            self._dataset_files.pop(dataset.parts, None)
            self._contents[dataset.parts] = {}
            for path, raw in contents.items():
                self.put_dataset_file(dataset, path, raw)
            written = self._files_of(dataset.parts)
        return [
            CopiedFile(DatasetFile(path, len(raw), written[path][1]))
            for path, raw in contents.items()
        ]

    def read_record(self, name: str) -> bytes | None:
        """The bookkeeping file ``name``, or ``None``."""
        with self._lock:
            return self._records.get(name)

    def write_record(self, name: str, payload: bytes) -> None:
        """Write the bookkeeping file ``name``."""
        with self._lock:
            self._records[name] = bytes(payload)
