"""``NamespaceMetadata``: the JSON object stored in ``namespace_metadata.json``.

The object is strict JSON: string keys; values that are ``None``, ``bool``,
``int``, finite ``float``, ``str``, lists and objects of the same. It has one
named field, ``description``; every other key is kept exactly as given. It is
serialised the way Minari writes it (``json.dump`` with default settings), so files
are byte-compatible in both directions, and it is capped at :data:`MAX_METADATA_BYTES`
on write and on read.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from minari_namespaces.errors import CorruptMetadataError, InvalidMetadataError

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = [
    "MAX_INT_DIGITS",
    "MAX_METADATA_BYTES",
    "MAX_NESTING",
    "MAX_READ_NESTING",
    "MetadataChange",
    "METADATA_FILENAME",
    "NamespaceMetadata",
]

#: The marker file that makes a folder a namespace (Minari's name).
METADATA_FILENAME: Final = "namespace_metadata.json"
#: The largest serialised metadata accepted, on write and on read (1 MiB).
MAX_METADATA_BYTES: Final = 1024 * 1024
#: The deepest nesting of lists and objects accepted on write.
MAX_NESTING: Final = 64
#: The deepest nesting of lists and objects read from a store, the top object being
#: level one. Deeper than we write, as Minari may, yet shallow enough for every later
#: step (copies, JSON output, pages) to walk it on Python's stack.
MAX_READ_NESTING: Final = 128
#: The most digits of an integer, on write and on read. Any sum of a listing's counts
#: then stays printable (Python prints no integer of more than 4,300 digits).
MAX_INT_DIGITS: Final = 1000

_SCALARS: Final = (str, int, bool, type(None))
# A JSON escape of a UTF-16 surrogate: paired ones are fine, a lone one is not text.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
# A run of digits longer than an integer may be (in a number or in a string: the
# parse then checks the numbers one by one).
_LONG_DIGITS: Final = re.compile(rf"[0-9]{{{MAX_INT_DIGITS + 1}}}")
_INT_BOUND: Final = 10**MAX_INT_DIGITS


def _describe(path: str) -> str:
    return path or "the metadata"


def _encodable(text: str, where: str) -> str:
    """``text``, if UTF-8 can encode it (a lone surrogate such as ``"\\ud800"`` cannot)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidMetadataError(
                f"{where} holds {text[error.start : error.end]!r}, a lone surrogate that "
                "UTF-8 cannot encode; store real characters instead."
            ) from None
    return text


def _check_value(value: object, path: str, depth: int) -> object:
    """Return ``value`` as plain JSON data, or raise why it is not JSON."""
    if isinstance(value, str):
        return _encodable(value, _describe(path))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _INT_BOUND:
        raise InvalidMetadataError(
            f"{_describe(path)} is an integer of more than {MAX_INT_DIGITS:,} digits; "
            "store it as a string instead."
        )
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidMetadataError(
                f"{_describe(path)} is {value!r}; JSON has no NaN or infinity, "
                "store it as a string or null instead."
            )
        return value
    if depth >= MAX_NESTING:
        raise InvalidMetadataError(
            f"{_describe(path)} nests lists and objects deeper than {MAX_NESTING} levels."
        )
    if isinstance(value, Mapping):
        return _check_object(value, path, depth + 1)
    if isinstance(value, (list, tuple)):
        return [_check_value(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise InvalidMetadataError(
        f"{_describe(path)} is a {type(value).__name__} ({value!r:.60}); metadata values must be "
        "JSON: None, bool, int, float, str, list or dict. Convert it before storing it."
    )


def _check_object(value: Mapping[Any, Any], path: str, depth: int) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidMetadataError(
                f"key {key!r} in {_describe(path)} is a {type(key).__name__}; "
                "JSON object keys must be strings."
            )
        _encodable(key, f"a key in {_describe(path)}")
        result[key] = _check_value(item, f"{path}[{key!r}]", depth)
    return result


def check_json_object(value: object) -> dict[str, object]:
    """Check that ``value`` is a strict JSON object and return a plain copy of it.

    Tuples become lists (as ``json.dump`` would write them); everything else is
    copied as it is.

    Raises:
        InvalidMetadataError: If ``value`` is not a mapping with string keys and
            JSON values (no NaN, infinity, sets, bytes, ...).
    """
    if not isinstance(value, Mapping):
        raise InvalidMetadataError(
            f"namespace metadata must be a JSON object (a dict), not a {type(value).__name__}."
        )
    return _check_object(value, "", 0)


class NamespaceMetadata(Mapping[str, Any]):
    """The metadata of one namespace: a JSON object with an optional description.

    ``NamespaceMetadata(description="Door tasks", author="me")`` or
    ``NamespaceMetadata.from_dict({...})``. Any key besides ``description`` is kept
    as given. The object is immutable and reads like a ``Mapping``; :meth:`to_dict`
    returns exactly the object that is stored (there is no ``description`` key
    unless one was given). It is also a Pydantic field type that validates from,
    and serialises to, a JSON object.

    Args:
        description: A human-readable description, or ``None`` for none.
        **extra: Any other keys, with strict JSON values.

    Raises:
        InvalidMetadataError: If the data is not strict JSON (non-string keys,
            NaN, infinity, sets, bytes, ...) or serialises to more than 1 MiB.
    """

    __slots__ = ("_data", "_payload")

    _data: dict[str, Any]
    _payload: bytes

    def __init__(self, description: str | None = None, **extra: Any) -> None:
        data = dict(extra)
        if description is not None:
            data["description"] = description
        self._set(check_json_object(data))

    def _set(
        self, data: dict[str, Any], *, any_description: bool = False, sized: bool = False
    ) -> None:
        """Take ``data`` (already checked). ``any_description``: the description may
        be any JSON (Minari stores whatever it is given); ``sized``: the size was
        checked on the bytes as stored."""
        description = data.get("description")
        if not any_description and description is not None and not isinstance(description, str):
            raise InvalidMetadataError(
                f"'description' must be a string or None, not {type(description).__name__}."
            )
        payload = _dumps(data)
        if not sized and len(payload) > MAX_METADATA_BYTES:
            raise InvalidMetadataError(
                f"metadata serialises to {len(payload)} bytes; "
                f"the limit is {MAX_METADATA_BYTES} (1 MiB)."
            )
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_payload", payload)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceMetadata:
        """Validate ``data`` (kept exactly, ``"description": None`` included).

        Raises:
            InvalidMetadataError: If ``data`` is not strict JSON or is over 1 MiB.
        """
        if isinstance(data, NamespaceMetadata):
            return data
        instance = object.__new__(cls)
        instance._set(check_json_object(data))
        return instance

    @property
    def description(self) -> str | None:
        """The ``description`` value, or ``None`` when there is none."""
        value = self._data.get("description")
        return value if isinstance(value, str) else None

    def to_dict(self) -> dict[str, Any]:
        """Return the stored JSON object as a fresh, independent ``dict``."""
        return copy.deepcopy(self._data)

    def to_json_bytes(self) -> bytes:
        """Return the bytes that are stored: ``json.dump`` defaults, as Minari."""
        return self._payload

    def merged(
        self, updates: Mapping[str, Any] | None = None, removals: Iterable[str] = ()
    ) -> NamespaceMetadata:
        """Return a copy with ``updates`` set and ``removals`` deleted.

        Raises:
            InvalidMetadataError: If the result is not strict JSON or too large.
        """
        data = self.to_dict()
        for key in removals:
            data.pop(key, None)
        checked = check_json_object(updates or {})
        data.update(checked)
        instance = object.__new__(NamespaceMetadata)
        # A description Minari stored as a number or list stays readable unless changed.
        kept = "description" not in checked and not isinstance(
            self.get("description", ""), (str, type(None))
        )
        instance._set(data, any_description=kept)
        return instance

    def __getitem__(self, key: str) -> Any:
        return copy.deepcopy(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NamespaceMetadata):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        # Over the same view of the data as ``==`` (key order ignored, 1 == 1.0), so
        # equal objects always hash alike.
        return hash(_frozen(self._data))

    def __repr__(self) -> str:
        return f"NamespaceMetadata.from_dict({self._data!r})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("NamespaceMetadata is immutable; use merged() for a changed copy")

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (NamespaceMetadata.from_dict, (self._data,))

    @classmethod
    def _from_python(cls, value: object) -> NamespaceMetadata:
        """Pydantic's Python-mode validator: one clear error per bad value."""
        if isinstance(value, NamespaceMetadata):
            return value
        if not isinstance(value, Mapping):
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("dict_type", "Input should be a JSON object (a dict)")
        return cls.from_dict(value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        from_dict = core_schema.no_info_after_validator_function(
            cls.from_dict,
            core_schema.dict_schema(core_schema.str_schema(), core_schema.any_schema()),
        )
        return core_schema.json_or_python_schema(
            json_schema=from_dict,
            python_schema=core_schema.no_info_plain_validator_function(cls._from_python),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.to_dict(), when_used="json-unless-none"
            ),
        )


def _dumps(data: object) -> bytes:
    try:
        return json.dumps(data, allow_nan=False).encode("utf-8")
    except ValueError as error:
        # An int beyond Python's int-to-str limit (4300 digits) cannot be written.
        raise InvalidMetadataError(f"the metadata cannot be written as JSON: {error}.") from error


def load_stored_json(text: str, source: str, *, constants: bool = False) -> Any:
    """Parse JSON text read from a store, within the read limits that every later
    step relies on: at most :data:`MAX_READ_NESTING` levels, integers of at most
    :data:`MAX_INT_DIGITS` digits, and Unicode text only (no lone surrogate escape).

    Args:
        text: The stored text.
        source: The file or object it came from, for the message.
        constants: Accept ``NaN`` and the infinities (Minari writes them into a
            dataset's metadata).

    Raises:
        CorruptMetadataError: If ``text`` breaks a read limit; the message names
            ``source`` and the limit.
        ValueError: If ``text`` is not JSON (or holds ``NaN`` or an infinity
            without ``constants``).
    """
    try:
        data = json.loads(
            text,
            parse_int=_bounded_int if _LONG_DIGITS.search(text) else None,
            parse_constant=None if constants else _refuse_constant,
        )
    except RecursionError:
        raise _too_deep(source) from None
    except OverflowError:
        raise CorruptMetadataError(
            f"{source} holds an integer of more than {MAX_INT_DIGITS:,} digits; fix or "
            "delete the file."
        ) from None
    if not _shallow(data, text):
        raise _too_deep(source)
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise CorruptMetadataError(
                f"{source} holds text that is not Unicode (a lone surrogate escape such as "
                "\\ud800); fix or delete the file."
            ) from None
    return data


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise OverflowError(f"an integer of {len(digits):,} digits")
    return int(digits)


def _too_deep(source: str) -> CorruptMetadataError:
    return CorruptMetadataError(
        f"{source} nests lists and objects deeper than {MAX_READ_NESTING} levels; fix or "
        "delete the file."
    )


def _shallow(data: object, text: str) -> bool:
    """Whether ``data`` (parsed from ``text``) nests at most :data:`MAX_READ_NESTING`
    levels: walked without recursion, and only when ``text`` holds that many brackets."""
    if text.count("[") + text.count("{") <= MAX_READ_NESTING:
        return True
    pending: list[tuple[dict[str, Any] | list[Any], int]] = []
    if isinstance(data, (dict, list)):
        pending.append((data, 1))
    while pending:
        value, depth = pending.pop()
        if depth > MAX_READ_NESTING:
            return False
        items = value.values() if isinstance(value, dict) else value
        pending.extend((item, depth + 1) for item in items if isinstance(item, (dict, list)))
    return True


def decode_metadata(payload: bytes, source: str) -> NamespaceMetadata:
    """Parse stored bytes into metadata, naming ``source`` in any error.

    Raises:
        CorruptMetadataError: If ``payload`` is over 1 MiB, not UTF-8, not JSON,
            not an object, holds values that are not strict JSON, or breaks a read
            limit (see :func:`load_stored_json`).
    """
    if len(payload) > MAX_METADATA_BYTES:
        raise CorruptMetadataError(
            f"{source} is over {MAX_METADATA_BYTES} bytes (1 MiB); refusing to load it."
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorruptMetadataError(f"{source} is not UTF-8 text: {error}.") from error
    try:
        data = load_stored_json(text, source)
    except CorruptMetadataError:
        raise
    except ValueError as error:
        raise CorruptMetadataError(f"{source} is not valid JSON: {error}.") from error
    if not isinstance(data, dict):
        raise CorruptMetadataError(
            f"{source} holds a JSON {type(data).__name__}, not an object; fix or delete the file."
        )
    # Whatever Minari can write within the read limits is readable: any JSON as the
    # description, deeper nesting than we write; only what we write is held to our rules.
    instance = object.__new__(NamespaceMetadata)
    try:
        instance._set(data, any_description=True, sized=True)
    except InvalidMetadataError as error:
        raise CorruptMetadataError(f"{source} holds invalid metadata: {error}") from error
    return instance


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not strict JSON")


def _frozen(value: object) -> object:
    """A hashable value equal exactly when JSON data ``value`` is (objects as sets of items)."""
    if isinstance(value, dict):
        return frozenset((key, _frozen(item)) for key, item in value.items())
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


#: A pure function from the current metadata to the new one (``modify``).
MetadataChange = Callable[[NamespaceMetadata], NamespaceMetadata]


def described(
    description: str | None, extra: NamespaceMetadata | Mapping[str, Any] | None
) -> NamespaceMetadata:
    """``extra`` with ``description`` set, validated; the key given twice is refused.

    Raises:
        InvalidMetadataError: If ``description`` differs from ``extra``'s, or the
            result is not strict JSON or over 1 MiB.
    """
    data = dict(extra or {})
    if description is not None:
        if data.get("description", description) != description:
            raise InvalidMetadataError(
                "'description' is given twice (as an argument and in metadata) with "
                "different values; give it once."
            )
        data["description"] = description
    return NamespaceMetadata.from_dict(data)


@dataclass(frozen=True)
class PropertiesUpdateSummary:
    """What :meth:`~minari_namespaces.service.NamespaceService.update_properties` did.

    Attributes:
        updated: Keys that were set, sorted.
        removed: Keys that were removed, sorted.
        missing: Keys asked to be removed that were not there, sorted.
    """

    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


class PropertiesUpdate:
    """Keys to set and keys to remove from one namespace's metadata, checked once;
    :meth:`apply` merges them into the current metadata (as often as a
    read-modify-write retries) and keeps what the last merge did in :attr:`summary`.

    Raises:
        InvalidMetadataError: If a key is both set and removed, or the keys to set
            are not strict JSON.
    """

    def __init__(
        self,
        namespace: Any,
        updates: Mapping[str, Any] | None,
        removals: Iterable[str] | None,
    ) -> None:
        self.namespace = namespace
        self._set = dict(updates or {})
        self._remove = list(dict.fromkeys(removals or ()))
        overlap = sorted(set(self._set) & set(self._remove))
        if overlap:
            raise InvalidMetadataError(
                f"Keys {overlap} are both updated and removed for namespace '{namespace}'; "
                "ask for one or the other."
            )
        NamespaceMetadata.from_dict(self._set)
        self.summary = PropertiesUpdateSummary()

    def apply(self, current: NamespaceMetadata) -> NamespaceMetadata:
        """``current`` with the keys set and removed.

        Raises:
            InvalidMetadataError: If the result is not strict JSON or over 1 MiB.
        """
        present = [key for key in self._remove if key in current]
        self.summary = PropertiesUpdateSummary(
            updated=sorted(self._set),
            removed=sorted(present),
            missing=sorted(key for key in self._remove if key not in current),
        )
        return current.merged(self._set, present)
