"""``FsspecNamespaceRepository``: namespaces on any fsspec filesystem.

Layout under the URL's root: ``<ns>/namespace_metadata.json`` (Minari's GCS layout
when the root is a bucket). Object stores have no folders: a namespace exists iff
its marker object does, and keys under ``<folder>/data/`` make ``<folder>`` a
dataset, inside which no namespace exists.

The object I/O, its caches and the root are a driver's (the contract is
:mod:`minari_namespaces.stores.drivers.driver`), picked from :data:`DRIVERS` by protocol;
the layout, the rules and the texts are this module's and the base's.
"""

from __future__ import annotations

import importlib
import logging
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

from minari_namespaces.atomic import is_stale_temp_name
from minari_namespaces.datasets import DATASET_METADATA_FILENAME, DatasetId, UnreadableFile
from minari_namespaces.errors import NamespaceError, RemoteError, warn_skipped
from minari_namespaces.identifier import NamespaceId, portable_key
from minari_namespaces.metadata import METADATA_FILENAME, MetadataChange, NamespaceMetadata
from minari_namespaces.stores.base import (
    DATASET_MARKER,
    OS_JUNK_FILES,
    NamespaceStoreBase,
    Parts,
    Scan,
    datasets_in,
    inside_dataset,
    outermost_datasets,
)
from minari_namespaces.stores.credentials import carries_password, redact, secrets_of
from minari_namespaces.stores.drivers.driver import ConflictError, Driver, Missing
from minari_namespaces.stores.drivers.fsspec_driver import AsyncDriver, FsspecDriver, protocols_of
from minari_namespaces.stores.fsspec_datasets import FsspecDatasetFiles

__all__ = ["DRIVERS", "FsspecNamespaceRepository"]

_log = logging.getLogger(__name__)

#: The driver class of each protocol, as ``module:class`` (loaded when the protocol
#: is used, so no backend package is imported before); any other protocol gets the
#: generic ``FsspecDriver`` (``AsyncDriver`` on an asynchronous filesystem). A new
#: backend is one module and one row here; the class says the rest (its pip
#: ``extra``, its guarantees).
DRIVERS: Final[dict[str, str]] = {
    "s3": "minari_namespaces.stores.drivers.s3:S3Driver",
    "s3a": "minari_namespaces.stores.drivers.s3:S3Driver",
    "file": "minari_namespaces.stores.drivers.file:FileDriver",
    "local": "minari_namespaces.stores.drivers.file:FileDriver",
    "gs": "minari_namespaces.stores.drivers.gcs:GcsDriver",
    "gcs": "minari_namespaces.stores.drivers.gcs:GcsDriver",
    "az": "minari_namespaces.stores.drivers.azure:AzureBlobDriver",
    "abfs": "minari_namespaces.stores.drivers.azure:AzureBlobDriver",
    "abfss": "minari_namespaces.stores.drivers.azure:AzureBlobDriver",
    "hf": "minari_namespaces.stores.drivers.hub:HubDriver",
}
_CAS_ATTEMPTS: Final = 50
#: What a read of one object raises when that object (not the store) is the problem,
#: and how a listing says it.
_ENTRY_ERRORS_SAID: Final = (
    (
        FileExistsError,
        f"an object or a file named {DATASET_MARKER} stands where its folder belongs",
    ),
    (
        NotADirectoryError,
        f"a file or an object named {DATASET_MARKER} stands where its folder belongs",
    ),
    (IsADirectoryError, "it is a folder, not a file"),
    (PermissionError, "permission denied"),
)
_ENTRY_ERRORS: Final = tuple(kind for kind, _ in _ENTRY_ERRORS_SAID)
#: Up to this many leaves, conflicts are checked level by level, not by a listing.
_SHALLOW_CHECKS: Final = 4
#: Up to this many folders, the dataset rule is checked by probes, not a listing.
_PROBES: Final = 16


def _install_hint(driver_class: type[Driver] | None, protocol: str, detail: str) -> str:
    """What to install for ``protocol``: the driver's extra, else what fsspec
    advises (unless ``detail`` says so already)."""
    from fsspec.registry import known_implementations

    extra = None if driver_class is None else driver_class.extra
    if extra is not None:
        return f" Install it with: pip install 'minari-namespaces[{extra}]'."
    known = known_implementations.get(protocol)
    if known is None:
        return (
            f" No fsspec implementation is registered for '{protocol}://': check the URL, "
            "or install the package that provides this protocol."
        )
    advice = known.get("err")
    return f" {advice}." if advice and advice not in detail else ""


def _driver_class(protocol: str) -> type[Driver]:
    """The driver of ``protocol`` from :data:`DRIVERS`; the generic one otherwise
    (batched concurrent reads where the filesystem is asynchronous)."""
    target = DRIVERS.get(protocol)
    if target is not None:
        module, name = target.split(":")
        driver: type[Driver] = getattr(importlib.import_module(module), name)
        return driver
    import fsspec

    fs_class = fsspec.get_filesystem_class(protocol)
    for alias in protocols_of(fs_class):
        if alias in DRIVERS:
            return _driver_class(alias)
    return AsyncDriver if getattr(fs_class, "async_impl", False) else FsspecDriver


class FsspecNamespaceRepository(FsspecDatasetFiles, NamespaceStoreBase):
    """Namespaces under any fsspec URL: ``s3://bucket/prefix``, ``gs://bucket``,
    ``file:///path``, ``memory://name``, ...

    Args:
        url: Where the tree lives. Credentials must go in ``storage_options``,
            never in the URL.
        **storage_options: Passed to the fsspec filesystem (``key``, ``secret``,
            ``token``, ``endpoint_url``, ...). They never appear in :attr:`url`,
            ``repr`` or error messages.

    Raises:
        RemoteError: If the backend is unknown or its package is not installed
            (install the matching extra, e.g. ``minari-namespaces[s3]``).
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        from fsspec.core import split_protocol

        protocol = split_protocol(url)[0] or "file"
        # Longest first, so that no secret is left half-scrubbed by a shorter one.
        self._secrets = sorted(set(secrets_of(storage_options)), key=len, reverse=True)
        shown = self._scrub(redact(url))
        super().__init__(shown)
        if carries_password(url):
            # Refused before any library sees it: a URL ends up in tracebacks and logs.
            raise RemoteError(
                f"Cannot open the store at {shown}: the URL carries credentials "
                "('user:password@'). Pass them as storage options instead, for example "
                "key=... and secret=... for S3, token=... for the Hugging Face Hub."
            )
        driver_class: type[Driver] | None = None
        try:
            driver_class = _driver_class(protocol)
            self._driver, where = driver_class.connect(url, dict(storage_options))
        except (ImportError, ValueError) as error:
            detail = self._scrub(str(error))
            # A package to install helps only when one is missing (no driver, or an
            # import failed); a URL its driver refused (``hf://`` alone) is said as it is.
            missing = driver_class is None or isinstance(error, ImportError)
            hint = _install_hint(driver_class, protocol, detail) if missing else ""
            raise RemoteError(f"Cannot open the store at {shown}: {detail}.{hint}") from None
        super().__init__(self._scrub(redact(where)))

    @property
    def fs(self) -> Any:
        """The client the store's driver talks through: the fsspec filesystem of
        the URL's protocol, except on the Hugging Face Hub (``hf://``), where it is
        the ``huggingface_hub.HfApi`` (fsspec's ``HfFileSystem`` cannot make a
        commit on a given parent)."""
        return self._driver.client

    @property
    def driver(self) -> Driver:
        """The driver that does this store's object I/O."""
        return self._driver

    @property
    def registry_keys(self) -> frozenset[str]:
        """Keys this store maintains itself in top-level metadata (on the Hub,
        Minari's ``namespaces`` registry): :meth:`get` leaves them out, so a
        namespace reads back as it was written; :meth:`get_stored` keeps them."""
        return self._driver.registry_keys

    def decode(self, ns: NamespaceId, raw: bytes) -> NamespaceMetadata:
        """Decode the marker of ``ns`` without the store's own registry keys."""
        metadata = super().decode(ns, raw)
        hidden = self._driver.registry_keys.intersection(metadata) if ns.depth == 1 else ()
        return metadata.merged(removals=hidden) if hidden else metadata

    def get_stored(self, ns: NamespaceId) -> NamespaceMetadata:
        """The metadata of ``ns`` exactly as stored, registry keys included (what
        Minari's own download writes).

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the object is not a JSON object of at most 1 MiB.
            RemoteError: If the backend fails.
        """
        raw = self._read_marker(ns)
        if raw is None:
            raise self.texts.not_found(ns)
        return super().decode(ns, raw)

    @property
    def compare_and_swap(self) -> bool:
        """Whether ``replace``/``modify`` are compare-and-swap across processes
        (S3, GCS, Azure Blob, the Hub) rather than serialised by a lock
        (``file://``) or within this process only (other backends)."""
        return self._driver.compare_and_swap

    # -- naming --------------------------------------------------------------

    def path_of(self, parts: Parts) -> str:
        """The backend path of the folder at ``parts`` below the root."""
        root = self._driver.root
        if not parts:
            return root
        joined = "/".join(parts)
        return f"{root}/{joined}" if root else joined

    def _marker(self, ns: NamespaceId) -> str:
        return f"{self.path_of(ns.parts)}/{METADATA_FILENAME}"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @contextmanager
    def backend(
        self,
        action: str,
        ns: NamespaceId | None = None,
        written: Sequence[NamespaceId] = (),
    ) -> Iterator[None]:
        """One batch of requests to the backend: logged at DEBUG (with the URL that
        :attr:`url` shows, never a credential), its failures turned into
        ``RemoteError`` with a clean message; a folder of one of the namespaces
        ``written`` that the driver found blocked by a file or a link is that
        namespace's conflict."""
        where = self.texts.where(ns)
        _log.debug("Remote request: %s at %s", action, where)
        try:
            yield
        except (NamespaceError, ConflictError, FileExistsError):
            raise
        except NotADirectoryError as error:
            blocked = self._parts_of(str(error.filename or ""))
            held = [one for one in written if blocked and one.parts[: len(blocked)] == blocked]
            if not held:
                raise self._remote_error(action, where, error) from error
            raise self.texts.not_a_folder(held[0], blocked) from error
        except Exception as error:
            raise self._remote_error(action, where, error) from error

    def _remote_error(self, action: str, where: str, error: Exception) -> RemoteError:
        detail = self._scrub(f"{type(error).__name__}: {error}")
        _log.debug("Remote request failed: %s at %s: %s", action, where, detail)
        return RemoteError(f"Could not {action} at {where}: {detail}")

    def _parts_of(self, path: str) -> Parts:
        """The segments of ``path`` below the root (``()`` if it is not below it)."""
        root = self._driver.root.rstrip("/")
        if root and not path.startswith(f"{root}/"):
            return ()
        return tuple(part for part in path[len(root) :].split("/") if part)

    # -- the dataset rule ----------------------------------------------------

    def _datasets_above(self, ids: Sequence[NamespaceId]) -> set[Parts]:
        """The folders on the paths of ``ids`` (themselves included) that are
        datasets: one probe per folder for a few, one listing for many."""
        folders = {ns.parts[:depth] for ns in ids for depth in range(1, ns.depth + 1)}
        if len(folders) > _PROBES:
            tops = {ns.parts[0] for ns in ids}
            scope = (next(iter(tops)),) if len(tops) == 1 else ()
            return datasets_in(self._keys(scope)) & folders
        with self.backend("check namespaces"):
            return {
                folder
                for folder in sorted(folders)
                if self._driver.any_under(f"{self.path_of(folder)}/{DATASET_MARKER}")
            }

    # -- primitives ----------------------------------------------------------

    def _read_marker(self, ns: NamespaceId) -> bytes | None:
        return self._read_markers([ns]).get(ns)

    def _read_markers(self, ids: Sequence[NamespaceId]) -> dict[NamespaceId, bytes]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        paths = [self._marker(ns) for ns in wanted]
        with self.backend(
            f"read {_namespaces(len(wanted))}",
            wanted[0] if len(wanted) == 1 else None,
        ):
            found = (
                self._driver.read_many(paths)
                if len(paths) > 1
                else {paths[0]: self._driver.read(paths[0])}
            )
        present = {
            ns: data
            for ns, path in zip(wanted, paths, strict=True)
            if not isinstance(data := found[path], Missing)
        }
        if not present:
            return {}
        datasets = self._datasets_above(list(present))
        return {
            ns: data for ns, data in present.items() if inside_dataset(ns.parts, datasets) is None
        }

    def get_many(self, ids: Iterable[NamespaceId]) -> dict[NamespaceId, NamespaceMetadata]:
        """Read several namespaces in one batched, concurrent request set.

        Raises:
            CorruptMetadataError: If an object is corrupt.
            RemoteError: If the backend fails.
        """
        return {ns: self.decode(ns, raw) for ns, raw in self._read_markers(list(ids)).items()}

    def _keys(self, scope: Parts) -> dict[Parts, int]:
        """Every object under ``scope`` as path segments from the root, with its size."""
        with self.backend("list namespaces", NamespaceId.from_parts(scope) if scope else None):
            found = self._driver.find(self.path_of(scope))
        base = f"{self._driver.root}/" if self._driver.root else ""
        return {tuple(p[len(base) :].split("/")): n for p, n in found.items() if p.startswith(base)}

    def _check_batch(self, batch: Sequence[NamespaceId]) -> set[NamespaceId]:
        """All conflicts before anything is written: for a few chains (an upload
        with its parents) one shallow listing per level, so the cost does not grow
        with the tree; for a larger batch one recursive listing of its subtree."""
        for ns in batch:
            problem = self._driver.repo_name_problem(ns.parts[0])
            if problem is not None:
                raise self.texts.unsupported(ns, problem)
        leaves = {ns for ns in batch if not any(ns.is_ancestor_of(other) for other in batch)}
        if len(leaves) <= _SHALLOW_CHECKS:
            for leaf in sorted(leaves):
                self._check_free(leaf)  # covers every ancestor of the leaf too
            return set()
        tops = {ns.parts[0] for ns in batch}
        scope = (next(iter(tops)),) if len(tops) == 1 else ()
        keys = self._keys(scope)
        with self.backend("list namespaces"):
            top_names = self._driver.names(self._driver.root) if scope else []
        folded: dict[tuple[Parts, str], set[str]] = {}
        for folder in {key[:i] for key in keys for i in range(1, len(key))} | {
            (name,) for name in top_names
        }:
            folded.setdefault((folder[:-1], portable_key(folder[-1])), set()).add(folder[-1])
        datasets = datasets_in(keys)
        for ns in batch:
            dataset = inside_dataset(ns.parts, datasets)
            if dataset is not None:
                raise self.texts.dataset_conflict(ns, dataset)
            for depth in range(1, ns.depth + 1):
                above, wanted = ns.parts[: depth - 1], ns.parts[depth - 1]
                for twin in sorted(folded.get((above, portable_key(wanted)), set()) - {wanted}):
                    with self.backend("check namespace", ns):
                        held = self._holds((*above, twin))
                    if held:
                        raise self.texts.twin_conflict(ns, (*above, twin))
        markers = {key[:-1] for key in keys if key[-1] == METADATA_FILENAME}
        return {ns for ns in batch if ns.parts in markers}

    def _check_free(self, ns: NamespaceId) -> None:
        """Refuse a path held by a dataset or a case-only twin: one shallow
        listing per level (``ns`` and every ancestor)."""
        with self.backend("check namespace", ns):
            for depth in range(ns.depth + 1):
                here = ns.parts[:depth]
                names = self._driver.names(self.path_of(here))
                if depth and DATASET_MARKER in names and self._holds((*here, DATASET_MARKER)):
                    raise self.texts.dataset_conflict(ns, here)
                if depth == ns.depth:
                    return
                wanted = ns.parts[depth]
                for twin in sorted(names):
                    if (
                        twin != wanted
                        and portable_key(twin) == portable_key(wanted)
                        and self._holds((*here, twin))
                    ):
                        raise self.texts.twin_conflict(ns, (*here, twin))
                if wanted not in names:
                    return

    def _holds(self, parts: Parts) -> bool:
        """Whether an object lies at or under ``parts``: some stores (such as
        SeaweedFS) keep listing a folder after its last key is gone."""
        path = self.path_of(parts)
        if self._driver.find(path):
            return True
        return not isinstance(self._driver.read(path), Missing)

    def _create_one(self, ns: NamespaceId, payload: bytes) -> None:
        with self.backend("create namespace", ns, [ns]):
            self._driver.create(self._marker(ns), payload)

    def _create_levels(self, items: Sequence[tuple[NamespaceId, bytes]]) -> set[NamespaceId]:
        if not self._driver.atomic_batches:
            return super()._create_levels(items)
        flags = self._create_level(items)
        return {ns for (ns, _), was in zip(items, flags, strict=True) if was}

    def _create_level(self, items: Sequence[tuple[NamespaceId, bytes]]) -> list[bool]:
        ids = [ns for ns, _ in items]
        with self.backend(_creating(ids), None, ids):
            return self._driver.create_all([(self._marker(ns), raw) for ns, raw in items])

    # -- listing -------------------------------------------------------------

    def _scan(self, prefix: NamespaceId | None, *, sizes: bool = False) -> Scan:
        """Namespaces and dataset folders (with their sizes) under ``prefix``: one
        recursive listing. Invalid or unsafe keys are skipped with a warning."""
        # Hidden folders hold tool bookkeeping (ours: ``.minari-namespaces``), never
        # a namespace or a dataset, as locally and for Minari; ``.`` and ``..`` are
        # not hidden folders but unsafe keys, which are warned about below.
        listed = self._keys(() if prefix is None else prefix.parts)
        keys = [
            key
            for key in listed
            if not any(part.startswith(".") and part.strip(".") for part in key[:-1])
        ]
        datasets = datasets_in(keys)
        if prefix is not None and inside_dataset(prefix.parts, datasets) is not None:
            return Scan([], [], {})
        found: list[NamespaceId] = []
        skipped: list[str] = []
        for key in keys:
            parts = key[:-1]
            if key[-1] != METADATA_FILENAME or not parts or DATASET_MARKER in parts:
                continue
            if inside_dataset(parts, datasets) is not None:
                continue
            text = "/".join(parts)
            try:
                ns = NamespaceId(text)
            except (ValueError, TypeError):
                ns = None
            if ns is None or str(ns) != text:
                skipped.append("/".join(key))
                continue
            found.append(ns)
        if skipped:
            warn_skipped(skipped, f"key(s) in {self.url}", "")
        found.sort()
        whole = self.whole_datasets(outermost_datasets(datasets), keys)
        return Scan(found, whole, self.dataset_sizes(whole, listed) if sizes else {})

    def has_datasets(self, ns: NamespaceId) -> bool:
        """Whether a dataset folder lies directly inside ``ns``.

        Raises:
            RemoteError: If the backend fails.
        """
        # Any dataset folder counts, a partial one too: it still holds files.
        keys = self._keys(ns.parts)
        if inside_dataset(ns.parts, datasets_in(keys)) is not None:
            return False
        return any(len(folder) == ns.depth + 1 for folder in outermost_datasets(datasets_in(keys)))

    def _read_dataset_files(
        self, ids: Sequence[DatasetId]
    ) -> dict[DatasetId, bytes | UnreadableFile | None]:
        """Each dataset's ``data/metadata.json``, in one concurrent batch; if an
        entry spoils the batch (an object named ``data`` where its folder belongs, a
        file the store may not read), one read each, so that it spoils only its own."""
        paths = [
            f"{self.path_of(dataset.parts)}/{DATASET_MARKER}/{DATASET_METADATA_FILENAME}"
            for dataset in ids
        ]
        found: dict[str, bytes | Missing | UnreadableFile]
        try:
            with self.backend(f"read the metadata of {len(ids)} dataset(s)"):
                found = dict(self._driver.read_many(paths))
        except (RemoteError, *_ENTRY_ERRORS) as error:
            cause = error.__cause__ if isinstance(error, RemoteError) else error
            if not isinstance(cause, _ENTRY_ERRORS):
                raise
            found = {path: self._read_entry(path) for path in paths}
        for path in paths:
            # Something that is no object to read (a FIFO, a folder, a link on
            # file://) is said as such, not as missing: one probe per missing file.
            if isinstance(found[path], Missing) and self._occupied(path):
                found[path] = UnreadableFile("is not a regular file")
        return {
            dataset: None if isinstance(data := found[path], Missing) else data
            for dataset, path in zip(ids, paths, strict=True)
        }

    def _occupied(self, path: str) -> bool:
        with self.backend("check the metadata of 1 dataset(s)"):
            return self._driver.any_under(path)

    def _read_entry(self, path: str) -> bytes | Missing | UnreadableFile:
        """One dataset metadata file; what stands in its way is that entry's."""
        with self.backend("read the metadata of 1 dataset(s)"):
            try:
                return self._driver.read(path)
            except _ENTRY_ERRORS as error:
                why = next(text for kind, text in _ENTRY_ERRORS_SAID if isinstance(error, kind))
                return UnreadableFile(f"cannot be read: {why}")

    # -- writing -------------------------------------------------------------

    def modify(self, ns: NamespaceId, change: MetadataChange) -> NamespaceMetadata:
        """Read, change and write ``ns`` without losing a concurrent update.

        On S3, GCS, Azure Blob and the Hub this is a compare-and-swap (on the
        ETag, the generation, the parent commit), retried on conflict; on
        ``file://`` it holds the folder's ``flock``; elsewhere it is serialised
        within this process only.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the object is corrupt.
            RemoteError: If the backend fails or the conflict never clears.
        """
        path = self._marker(ns)
        if self._datasets_above([ns]):
            raise self.texts.not_found(ns)
        for attempt in range(_CAS_ATTEMPTS):
            with self.backend("update namespace", ns, [ns]), self._driver.exclusive(path):
                data, version = self._driver.read_versioned(path)
                if isinstance(data, Missing):
                    raise self.texts.not_found(ns)
                updated = change(self.decode(ns, data))
                try:
                    self._driver.write_if(path, updated.to_json_bytes(), version)
                except ConflictError:
                    pass
                else:
                    return updated
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise RemoteError(
            f"Could not update namespace '{ns}' in {self.url}: "
            f"{_CAS_ATTEMPTS} concurrent writers kept winning; try again."
        )

    def delete(self, ns: NamespaceId) -> None:
        """Delete the empty namespace ``ns``.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            NamespaceNotEmptyError: If anything besides its marker lies under it.
            RemoteError: If the backend fails.
        """
        keys = self._keys(ns.parts)
        marker = (*ns.parts, METADATA_FILENAME)
        if marker not in keys or self._datasets_above([ns]):
            raise self.texts.not_found(ns)
        # What lies directly inside, as the local store names it: a child
        # namespace or dataset by its folder, a stray object by its name.
        others = sorted(
            {
                key[ns.depth]
                for key in keys
                if key != marker
                and not (
                    len(key) == ns.depth + 1 and (key[-1] in OS_JUNK_FILES or _is_temp(key[-1]))
                )
            }
        )
        if others:
            raise self.texts.not_empty(ns, others)
        base = self.path_of(ns.parts)
        paths = [f"{base}/{key[-1]}" for key in keys if len(key) == ns.depth + 1]
        with self.backend("delete namespace", ns):
            self._driver.remove(sorted(paths, key=lambda p: p.endswith(METADATA_FILENAME)), base)


def _namespaces(count: int) -> str:
    return "namespace" if count == 1 else f"{count} namespaces"


def _creating(ids: Sequence[NamespaceId]) -> str:
    """What a batch of creates does, by the namespaces asked for: the ancestors that
    come with them may exist already (an upload of one new namespace sends its
    parents too), so they are not counted as namespaces to create."""
    above = {parent for ns in ids for parent in ns.ancestors()}
    asked = [ns for ns in ids if ns not in above]
    with_parents = " (and the parents it lacks)" if len(ids) > len(asked) else ""
    if len(asked) == 1:
        return f"create namespace '{asked[0]}'{with_parents}"
    return f"create {len(asked):,} namespaces{with_parents.replace('it lacks', 'they lack')}"


def _is_temp(name: str) -> bool:
    return is_stale_temp_name(name, METADATA_FILENAME)
