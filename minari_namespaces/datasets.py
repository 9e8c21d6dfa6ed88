"""Datasets beside namespaces: ``DatasetId`` and ``DatasetEntry``.

A Minari dataset is a folder holding ``data/`` (``D4RL/door/human-v2/data/...``).
Its id is Minari's ``[NAMESPACE/]NAME-vN``: the namespace it lies in (none at the
top level), a name, and an integer version. The id is parsed once, here, into a
value object; stores and the service pass :class:`DatasetId` around and never
re-parse strings. ``data/metadata.json`` is Minari's own file and is read
leniently (any JSON object of at most 1 MiB, ``NaN`` included, as Minari writes
it); a file that cannot be read is a :class:`~minari_namespaces.errors.CorruptMetadataError`
for that dataset alone, never for a whole listing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

from minari_namespaces.errors import (
    CorruptMetadataError,
    InvalidDatasetIdError,
    InvalidNamespaceError,
    warn_skipped,
)
from minari_namespaces.identifier import (
    MAX_UTF8_BYTES,
    SEPARATOR,
    NamespaceId,
    is_valid_segment,
)
from minari_namespaces.metadata import MAX_METADATA_BYTES, load_stored_json
from minari_namespaces.values import TextValue

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = [
    "DATASET_METADATA_FILENAME",
    "DatasetEntry",
    "DatasetId",
    "DatasetName",
    "TreeListing",
    "latest_versions",
]

#: Minari's metadata file of a dataset, inside its ``data/`` folder.
DATASET_METADATA_FILENAME: Final = "metadata.json"
# The name is everything up to the last ``-v``; the version is a plain decimal
# number without leading zeros, so that the id spells its folder's name exactly.
_FOLDER_RE: Final = re.compile(r"(?P<name>[\w-]+?)-v(?P<version>0|[1-9][0-9]{0,17})")


def _malformed(text: str, reason: str) -> InvalidDatasetIdError:
    shown = repr(text) if len(text) <= 120 else f"{text[:100]!r}... ({len(text)} characters)"
    return InvalidDatasetIdError(
        f"Malformed dataset ID {shown}: {reason}. Dataset ids are [NAMESPACE/]NAME-vN, "
        "such as 'D4RL/door/human-v2'.",
        reason,
    )


def _parse(text: str) -> tuple[NamespaceId | None, str, int]:
    """Split ``text`` into its namespace, name and version, or say why not."""
    namespace_text, _, folder = text.rpartition(SEPARATOR)
    if not is_valid_segment(folder):
        raise _malformed(
            text, f"the last segment {folder!r} is not 1-96 letters, digits, '_' or '-'"
        )
    match = _FOLDER_RE.fullmatch(folder)
    if match is None:
        raise _malformed(text, f"{folder!r} does not end in '-v' and a version number")
    namespace: NamespaceId | None = None
    if namespace_text or text.startswith(SEPARATOR):
        try:
            namespace = NamespaceId(namespace_text)
        except InvalidNamespaceError as error:
            raise _malformed(text, f"its namespace is not valid: {error.reason}") from None
    if len(text.encode("utf-8")) > MAX_UTF8_BYTES:
        raise _malformed(text, f"it is longer than {MAX_UTF8_BYTES} UTF-8 bytes")
    return namespace, match["name"], int(match["version"])


class DatasetId(TextValue):
    """A valid dataset id such as ``D4RL/door/human-v2``.

    Immutable, hashable and totally ordered: by namespace in tree order (top-level
    datasets first), then by name, then by version as a number (``v10`` after
    ``v2``). ``str(dataset)`` gives back the canonical string, and an id equals (and
    hashes as) that string. Also a Pydantic field type that serialises to the
    string.

    Args:
        value: The id as a string (or an existing ``DatasetId``).

    Raises:
        InvalidDatasetIdError: If ``value`` is not ``[NAMESPACE/]NAME-vN`` with a
            valid namespace. The message contains ``Malformed dataset ID``.
        TypeError: If ``value`` is not a string.
    """

    __slots__ = ("_key", "_name", "_namespace", "_text", "_version")

    _namespace: NamespaceId | None
    _name: str
    _version: int
    pattern: ClassVar[str] = rf"(?:{NamespaceId.pattern}/)?[\w-]+?-v(?:0|[1-9][0-9]*)"

    def __init__(self, value: str | DatasetId) -> None:
        if isinstance(value, DatasetId):
            self._set(value._text, value._namespace, value._name, value._version)
            return
        if not isinstance(value, str):
            raise TypeError(
                f"Malformed dataset ID {value!r}: expected a str, got {type(value).__name__}."
            )
        text = value if value.isascii() else unicodedata.normalize("NFC", value)
        self._set(text, *_parse(text))

    def _set(self, text: str, namespace: NamespaceId | None, name: str, version: int) -> None:
        object.__setattr__(self, "_text", text)
        object.__setattr__(self, "_namespace", namespace)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_version", version)
        key = (namespace.parts if namespace is not None else (), name, version)
        object.__setattr__(self, "_key", key)

    @classmethod
    def of(cls, namespace: NamespaceId | str | None, name: str, version: int) -> DatasetId:
        """Build the id of dataset ``name``, version ``version``, in ``namespace``.

        Raises:
            InvalidDatasetIdError: If the result is not a valid dataset id.
            InvalidNamespaceError: If ``namespace`` is not a valid id.
        """
        where = "" if namespace is None else f"{NamespaceId.parse(namespace)}{SEPARATOR}"
        return cls(f"{where}{name}-v{version}")

    @classmethod
    def parse(cls, value: object) -> DatasetId:
        """Return ``value`` as a dataset id, converting a string once.

        Raises:
            InvalidDatasetIdError: If ``value`` is a string that is not a valid id.
            TypeError: If ``value`` is neither a string nor a ``DatasetId``.
        """
        if type(value) is cls:
            return value
        return cls(value)  # type: ignore[arg-type]

    @classmethod
    def from_folder(cls, parts: tuple[str, ...]) -> DatasetId:
        """The id of the dataset folder at ``parts`` (path segments from the root).

        Raises:
            InvalidDatasetIdError: If the folder's path is not a valid dataset id.
        """
        return cls(SEPARATOR.join(parts))

    # -- structure ---------------------------------------------------------

    @property
    def namespace(self) -> NamespaceId | None:
        """The namespace the dataset lies in; ``None`` at the top level."""
        return self._namespace

    @property
    def name(self) -> str:
        """The dataset's name without its version (``human`` in ``D4RL/door/human-v2``)."""
        return self._name

    @property
    def version(self) -> int:
        """The version number (``2`` in ``D4RL/door/human-v2``)."""
        return self._version

    @property
    def folder(self) -> str:
        """The name of the dataset's folder (``human-v2``)."""
        return self._text.rpartition(SEPARATOR)[2]

    @property
    def parts(self) -> tuple[str, ...]:
        """The folder's path segments from the store's root."""
        return (*self._key[0], self.folder)

    def is_within(self, prefix: NamespaceId) -> bool:
        """Whether the dataset lies in ``prefix`` or below it (by segments, never
        by string: ``D4RL/door-x/play-v0`` is not within ``D4RL/door``)."""
        return self._namespace is not None and self._namespace.is_within(prefix)

    # -- value semantics ---------------------------------------------------

    # Value semantics (str, equality with the string, hashing, order by
    # (namespace parts, name, version), immutability, pickling, Pydantic) are TextValue's.

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "title": "DatasetId",
            "description": "A Minari dataset id, [NAMESPACE/]NAME-vN.",
            "examples": ["D4RL/door/human-v2", "cartpole-v0"],
        }


@dataclass(frozen=True)
class DatasetName:
    """A dataset named without its version (``D4RL/door/human``): whichever version
    is the latest where it is looked up.

    Attributes:
        namespace: The namespace it lies in; ``None`` at the top level.
        name: The name without ``-vN``.
    """

    namespace: NamespaceId | None
    name: str

    @classmethod
    def parse(cls, value: str | DatasetId) -> DatasetId | DatasetName:
        """``value`` as a dataset id when it has a version, else as a name.

        Raises:
            InvalidDatasetIdError: If it is neither ``[NAMESPACE/]NAME-vN`` nor
                ``[NAMESPACE/]NAME`` with a valid namespace and name.
        """
        if isinstance(value, DatasetId):
            return value
        try:
            return DatasetId(value)
        except InvalidDatasetIdError:
            versioned = DatasetId.parse(f"{value}-v0")  # the same checks, with a version
        return cls(versioned.namespace, versioned.name)

    def latest(self, ids: Iterable[DatasetId]) -> DatasetId | None:
        """The highest version of this name among ``ids``; ``None`` if none has it."""
        matching = [d for d in ids if d.namespace == self.namespace and d.name == self.name]
        return max(matching, key=lambda dataset: dataset.version, default=None)

    def __str__(self) -> str:
        return self.name if self.namespace is None else f"{self.namespace}/{self.name}"


def _whole_number(value: object) -> int | None:
    """``value`` if it is a non-negative integer (not a bool), else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


@dataclass(frozen=True)
class DatasetEntry:
    """A dataset found in a store, with its ``data/metadata.json`` where it was read.

    Attributes:
        id: The dataset's id.
        metadata: Its ``data/metadata.json`` as a JSON object, when it was asked for
            and could be read; ``None`` otherwise.
        error: Why ``metadata`` could not be read (the file is missing, not JSON,
            not an object, or over 1 MiB), naming the file; ``None`` if it was read
            or not asked for.
        size: The total size of its files in bytes, when it was asked for and the
            store's listing shows it; ``None`` otherwise.
    """

    id: DatasetId
    metadata: Mapping[str, Any] | None = None
    error: CorruptMetadataError | None = None
    size: int | None = None

    def _field(self, key: str) -> Any:
        return None if self.metadata is None else self.metadata.get(key)

    @property
    def total_episodes(self) -> int | None:
        """``total_episodes`` from the metadata, if it is a whole number."""
        return _whole_number(self._field("total_episodes"))

    @property
    def total_steps(self) -> int | None:
        """``total_steps`` from the metadata, if it is a whole number."""
        return _whole_number(self._field("total_steps"))

    @property
    def description(self) -> str | None:
        """``description`` from the metadata, if it is a string."""
        value = self._field("description")
        return value if isinstance(value, str) else None

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready data: the id, its parts, and the metadata or the
        error where they were read."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "namespace": None if self.id.namespace is None else str(self.id.namespace),
            "name": self.id.name,
            "version": self.id.version,
        }
        if self.metadata is not None:
            data["total_episodes"] = self.total_episodes
            data["total_steps"] = self.total_steps
            data["metadata"] = dict(self.metadata)
        if self.error is not None:
            data["error"] = str(self.error)
        if self.size is not None:
            data["size"] = self.size
        return data


@dataclass(frozen=True)
class TreeListing:
    """What one listing of a store finds: its namespaces and its datasets.

    Attributes:
        namespaces: The namespaces, in tree order.
        datasets: The datasets, sorted (by namespace in tree order, name, version).
        sizes: The total size in bytes of each dataset's files, from the same
            listing, where sizes were asked for; a dataset holding an entry never
            copied (a link, a FIFO, a key outside its folder) has none.
    """

    namespaces: list[NamespaceId] = field(default_factory=list)
    datasets: list[DatasetId] = field(default_factory=list)
    sizes: dict[DatasetId, int] = field(default_factory=dict)


@dataclass(frozen=True)
class UnreadableFile:
    """What a store found where a dataset's ``data/metadata.json`` belongs, when that
    cannot be read: a FIFO, a folder or a link there, or a file or folder the store
    may not read.

    Attributes:
        reason: Why, completing "Dataset metadata PATH ..." (``"is a FIFO, not a
            regular file"``, ``"cannot be read: Permission denied"``).
    """

    reason: str


def decode_dataset_metadata(raw: bytes | UnreadableFile | None, where: str) -> Mapping[str, Any]:
    """Read a dataset's ``data/metadata.json`` leniently: any JSON object of at most
    1 MiB (``NaN`` and infinities included, as Python's ``json`` writes them), within
    the read limits of :func:`~minari_namespaces.metadata.load_stored_json`.

    Args:
        raw: The file's bytes (at most ``MAX_METADATA_BYTES + 1`` of them), what
            stood in its place, or ``None`` if it is missing.
        where: The file's path or URL, for the message.

    Raises:
        CorruptMetadataError: If the file is missing, unreadable, over 1 MiB, not
            UTF-8 JSON, not an object, or past a read limit (nesting, integer
            digits, lone surrogates); the message names ``where``.
    """
    source = f"Dataset metadata {where}"
    if raw is None:
        raise CorruptMetadataError(f"{source} is missing.")
    if isinstance(raw, UnreadableFile):
        raise CorruptMetadataError(f"{source} {raw.reason}.")
    if len(raw) > MAX_METADATA_BYTES:
        raise CorruptMetadataError(
            f"{source} is larger than {MAX_METADATA_BYTES} bytes; it was not loaded."
        )
    try:
        data = load_stored_json(raw.decode("utf-8"), source, constants=True)
    except CorruptMetadataError:
        raise
    except ValueError as error:
        raise CorruptMetadataError(f"{source} is not valid UTF-8 JSON: {error}.") from None
    if not isinstance(data, dict):
        raise CorruptMetadataError(f"{source} holds a JSON {type(data).__name__}, not an object.")
    return data


def dataset_ids_of(folders: Iterable[tuple[str, ...]], where: str) -> list[DatasetId]:
    """The ids of dataset ``folders`` (path segments from a store's root), sorted;
    folders whose path is not a dataset id are skipped with one
    :class:`~minari_namespaces.errors.SkippedEntryWarning` naming them."""
    found: list[DatasetId] = []
    skipped: list[str] = []
    for parts in folders:
        text = SEPARATOR.join(parts)
        try:
            dataset = DatasetId.from_folder(parts)
        except InvalidDatasetIdError:
            dataset = None
        # A name in another Unicode form (macOS writes NFD) is another folder than the
        # id names: reading it by the id would read its twin, or nothing.
        if dataset is None or str(dataset) != text:
            skipped.append(f"{where}/{text}")
        else:
            found.append(dataset)
    if skipped:
        warn_skipped(
            sorted(skipped),
            "dataset folder(s)",
            " A dataset folder is named NAME-vN, in Unicode's composed form (NFC), "
            "inside a valid namespace.",
            kind="dataset",
        )
    found.sort()
    return found


def latest_versions(ids: Iterable[DatasetId]) -> list[DatasetId]:
    """The highest version of each dataset name in each namespace, sorted."""
    best: dict[tuple[NamespaceId | None, str], DatasetId] = {}
    for dataset in ids:
        key = (dataset.namespace, dataset.name)
        held = best.get(key)
        if held is None or dataset.version > held.version:
            best[key] = dataset
    return sorted(best.values())
