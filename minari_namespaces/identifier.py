"""``NamespaceId``: the validated, canonical name of a namespace.

A namespace id is a ``/``-separated path of segments such as ``D4RL/door``. It is
parsed once, at the edge, into this value object; everything below works with
``NamespaceId`` and never re-parses strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Final

from minari_namespaces.errors import InvalidNamespaceError, NamespaceConflictError
from minari_namespaces.values import TextValue

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = [
    "MAX_DEPTH",
    "MAX_SEGMENT_BYTES",
    "MAX_SEGMENT_LENGTH",
    "MAX_UTF8_BYTES",
    "NamespaceId",
    "RESERVED_SEGMENTS",
    "SEPARATOR",
    "portable_key",
]

#: The separator of segments, on every operating system.
SEPARATOR: Final = "/"
#: The most characters in one segment.
MAX_SEGMENT_LENGTH: Final = 96
#: The most segments in one id.
MAX_DEPTH: Final = 16
#: The most UTF-8 bytes in one whole id.
MAX_UTF8_BYTES: Final = 512
#: The most UTF-8 bytes in one segment, which every common file system holds in a name.
MAX_SEGMENT_BYTES: Final = 255
# A segment of at most this many characters fits MAX_SEGMENT_BYTES whatever they are.
_SAFE_SEGMENT_CHARS: Final = MAX_SEGMENT_BYTES // 4

# Windows reserves COM and LPT with any digit 0-9 and with the superscripts ¹ ² ³.
_DEVICE_DIGITS: Final = "0123456789\u00b9\u00b2\u00b3"
_DEVICE_NAMES: Final = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{digit}" for digit in _DEVICE_DIGITS}
    | {f"lpt{digit}" for digit in _DEVICE_DIGITS}
)
#: Segments refused in any letter case. ``data`` marks a dataset folder in
#: Minari's layout; the rest are Windows device names.
RESERVED_SEGMENTS: Final = frozenset({"data"}) | _DEVICE_NAMES

_RESERVED_ALTERNATIVES: Final = f"data|con|prn|aux|nul|com[{_DEVICE_DIGITS}]|lpt[{_DEVICE_DIGITS}]"
_SEGMENT: Final = rf"(?!(?i:{_RESERVED_ALTERNATIVES})(?:/|\Z))[\w-]{{1,{MAX_SEGMENT_LENGTH}}}"
#: The whole rule set but NFC and the byte limit, as one regular expression.
ID_PATTERN: Final = rf"{_SEGMENT}(?:/{_SEGMENT}){{0,{MAX_DEPTH - 1}}}"
_ID_RE: Final = re.compile(ID_PATTERN)
_SEGMENT_CHARS_RE: Final = re.compile(r"[\w-]+")
#: What the JSON schema advertises (JSON Schema regexes know no lookahead flags).
_SCHEMA_PATTERN: Final = (
    rf"^[\w-]{{1,{MAX_SEGMENT_LENGTH}}}(/[\w-]{{1,{MAX_SEGMENT_LENGTH}}}){{0,{MAX_DEPTH - 1}}}$"
)


_SEGMENT_RE: Final = re.compile(_SEGMENT)


def is_valid_segment(name: str) -> bool:
    """Whether ``name`` is one valid, canonical (NFC) segment of an id."""
    if _SEGMENT_RE.fullmatch(name) is None:
        return False
    if name.isascii():
        return True
    return unicodedata.is_normalized("NFC", name) and not _too_many_bytes(name)


def _too_many_bytes(segment: str) -> bool:
    return len(segment) > _SAFE_SEGMENT_CHARS and len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES


def portable_key(name: str) -> str:
    """What ``name`` collides with on case- or normalisation-insensitive file
    systems (macOS, Windows): its NFC form, case-folded."""
    return (name if name.isascii() else unicodedata.normalize("NFC", name)).casefold()


def id_from_checked_parts(text: str, parts: tuple[str, ...]) -> NamespaceId:
    """The id ``text`` (``parts`` joined by ``/``) without validating it again: for a
    caller that has checked every segment and the byte limit itself (the local
    store's walk checks each folder name as it enters it), so that listing a large
    tree does not pay for a second validation of every id."""
    return NamespaceId._trusted(text, parts)


def check_batch_twins(ids: Iterable[NamespaceId]) -> None:
    """Refuse a batch in which two ids differ only in letter case at some level.

    Raises:
        NamespaceConflictError: Naming the two twins.
    """
    seen: dict[tuple[tuple[str, ...], str], str] = {}
    for ns in ids:
        for depth, part in enumerate(ns.parts):
            key = (ns.parts[:depth], portable_key(part))
            other = seen.setdefault(key, part)
            if other != part:
                twin = "/".join((*ns.parts[:depth], other))
                raise NamespaceConflictError(
                    f"Cannot create namespace '{ns}': '{twin}' in the same batch is a "
                    "case-only twin, which would collide on macOS and Windows."
                )


def _malformed(text: str, reason: str) -> InvalidNamespaceError:
    shown = repr(text) if len(text) <= 120 else f"{text[:100]!r}... ({len(text)} characters)"
    return InvalidNamespaceError(f"Malformed namespace {shown}: {reason}.", reason)


def _explain(text: str) -> InvalidNamespaceError:  # noqa: PLR0911 - one return per rule
    """Say precisely why ``text`` (already NFC) is not a valid id."""
    if text == "":
        return _malformed(text, "the namespace is empty")
    segments = text.split(SEPARATOR)
    for index, segment in enumerate(segments):
        if segment == "":
            where = (
                "leading '/'"
                if index == 0
                else "trailing '/'"
                if index == len(segments) - 1
                else "'//'"
            )
            return _malformed(
                text, f"empty segment ({where}); segments are separated by a single '/'"
            )
        if segment in (".", ".."):
            return _malformed(text, f"segment {segment!r} is a relative path component")
        if not _SEGMENT_CHARS_RE.fullmatch(segment):
            bad = next(c for c in segment if not _SEGMENT_CHARS_RE.fullmatch(c))
            shown = repr(segment) if len(segment) <= 40 else f"{segment[:32]!r}..."
            return _malformed(
                text,
                f"segment {shown} contains {bad!r} (U+{ord(bad):04X}); "
                "only letters, digits, '_' and '-' are allowed",
            )
        if len(segment) > MAX_SEGMENT_LENGTH:
            return _malformed(
                text,
                f"segment {segment[:16]!r}... is {len(segment)} characters long; "
                f"the limit is {MAX_SEGMENT_LENGTH}",
            )
        if _too_many_bytes(segment):
            return _malformed(
                text,
                f"segment {segment[:16]!r}... is {len(segment.encode('utf-8'))} bytes in "
                f"UTF-8; the limit is {MAX_SEGMENT_BYTES} (no file system holds a longer name)",
            )
        if segment.lower() == "data":
            return _malformed(
                text, f"segment {segment!r} is reserved: a 'data' folder marks a dataset"
            )
        if segment.lower() in _DEVICE_NAMES:
            return _malformed(text, f"segment {segment!r} is a reserved Windows device name")
    if len(segments) > MAX_DEPTH:
        return _malformed(
            text,
            f"it has {len(segments)} segments; the limit is {MAX_DEPTH} "
            f"(segment {segments[MAX_DEPTH]!r} is too deep)",
        )
    size = len(text.encode("utf-8"))
    if size > MAX_UTF8_BYTES:
        return _malformed(
            text,
            f"it is {size} bytes in UTF-8; the limit is {MAX_UTF8_BYTES} "
            f"(last segment {segments[-1]!r})",
        )
    return _malformed(text, "it does not follow the namespace rules")


def _canonical(value: object) -> str:
    """Return the canonical form of ``value`` or raise why it is not an id."""
    if type(value) is not str:
        if isinstance(value, NamespaceId):
            return value._text
        if not isinstance(value, str):
            raise TypeError(
                f"Malformed namespace {value!r}: expected a str, got {type(value).__name__}."
            )
        value = str(value)
    text = value if value.isascii() else unicodedata.normalize("NFC", value)
    if _ID_RE.fullmatch(text) is None:
        raise _explain(text)
    if len(text) > MAX_UTF8_BYTES // 4 and len(text.encode("utf-8")) > MAX_UTF8_BYTES:
        raise _explain(text)
    if not text.isascii() and any(_too_many_bytes(part) for part in text.split(SEPARATOR)):
        raise _explain(text)
    return text


class NamespaceId(TextValue):
    """A valid, canonical namespace identifier such as ``D4RL/door``.

    Instances are immutable, hashable and totally ordered by :attr:`parts`, so a
    sorted list of ids is in tree order: a parent comes directly before its own
    subtree. ``str(ns)`` gives back the canonical string, and an id equals (and
    hashes as) that string, so ``"D4RL/door" in {NamespaceId("D4RL/door")}``; ids
    are ordered only among themselves, since tree order is not string order. The
    class is also a Pydantic field type: it validates from a string and
    serialises to one.

    Rules: segments are separated by ``/``; each is 1 to 96 characters, every one
    a Unicode word character (``\\w``) or ``-``, and at most 255 UTF-8 bytes;
    ``data`` (any case) and Windows device names are reserved; at most 16 segments
    and 512 UTF-8 bytes. Input is normalised to Unicode NFC first.

    Args:
        value: The identifier as a string (or an existing ``NamespaceId``).

    Raises:
        InvalidNamespaceError: If ``value`` breaks a rule. The message contains
            ``Malformed namespace``, the reason and the offending segment.
        TypeError: If ``value`` is not a string.
    """

    __slots__ = ("_key", "_parts", "_text")

    _parts: tuple[str, ...]
    pattern: ClassVar[str] = ID_PATTERN

    def __init__(self, value: str | NamespaceId) -> None:
        text = _canonical(value)
        parts = tuple(text.split(SEPARATOR))
        object.__setattr__(self, "_text", text)
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_key", parts)

    @classmethod
    def _trusted(cls, text: str, parts: tuple[str, ...]) -> NamespaceId:
        """Build an id from parts that are already known to be valid."""
        instance = object.__new__(cls)
        object.__setattr__(instance, "_text", text)
        object.__setattr__(instance, "_parts", parts)
        object.__setattr__(instance, "_key", parts)
        return instance

    @classmethod
    def from_parts(cls, parts: Iterable[str]) -> NamespaceId:
        """Build an id from its segments, validating them.

        Raises:
            InvalidNamespaceError: If a segment holds a ``/`` or the joined
                segments are not a valid id.
            TypeError: If a segment is not a string.
        """
        segments = list(parts)
        for segment in segments:
            if not isinstance(segment, str):
                raise TypeError(
                    f"Malformed namespace segment {segment!r}: expected a str, "
                    f"got {type(segment).__name__}."
                )
            if SEPARATOR in segment:
                raise _malformed(
                    SEPARATOR.join(segments),
                    f"segment {segment!r} must not contain '/'",
                )
        return cls(SEPARATOR.join(segments))

    @classmethod
    def parse(cls, value: object) -> NamespaceId:
        """Return ``value`` as an id, converting a string once.

        Raises:
            InvalidNamespaceError: If ``value`` is a string that breaks a rule.
            TypeError: If ``value`` is neither a string nor a ``NamespaceId``.
        """
        if type(value) is cls:
            return value
        return cls(_canonical(value))

    # -- structure ---------------------------------------------------------

    @property
    def parts(self) -> tuple[str, ...]:
        """The segments, root first."""
        return self._parts

    @property
    def name(self) -> str:
        """The last segment."""
        return self._parts[-1]

    @property
    def depth(self) -> int:
        """The number of segments (1 at top level)."""
        return len(self._parts)

    @property
    def parent(self) -> NamespaceId | None:
        """The enclosing namespace, or ``None`` at top level."""
        if len(self._parts) == 1:
            return None
        parts = self._parts[:-1]
        return NamespaceId._trusted(SEPARATOR.join(parts), parts)

    def ancestors(self) -> tuple[NamespaceId, ...]:
        """Every enclosing namespace, root first, without ``self``."""
        return self.hierarchy()[:-1]

    def hierarchy(self) -> tuple[NamespaceId, ...]:
        """Every enclosing namespace, root first, then ``self``.

        ``NamespaceId("a/b/c").hierarchy()`` is ``(a, a/b, a/b/c)``.
        """
        parts = self._parts
        return (
            *(
                NamespaceId._trusted(SEPARATOR.join(parts[:i]), parts[:i])
                for i in range(1, len(parts))
            ),
            self,
        )

    def child(self, name: str) -> NamespaceId:
        """The namespace ``name`` directly inside this one.

        Raises:
            InvalidNamespaceError: If ``name`` is not exactly one valid segment or
                the result breaks a limit.
            TypeError: If ``name`` is not a string.
        """
        if not isinstance(name, str):
            raise TypeError(
                f"Malformed namespace segment {name!r}: expected a str, got {type(name).__name__}."
            )
        if SEPARATOR in name:
            raise _malformed(
                f"{self._text}{SEPARATOR}{name}",
                f"child name {name!r} must be a single segment without '/'",
            )
        return NamespaceId(f"{self._text}{SEPARATOR}{name}")

    def __truediv__(self, name: str) -> NamespaceId:
        return self.child(name)

    def is_ancestor_of(self, other: NamespaceId) -> bool:
        """Whether ``other`` lies strictly inside this namespace."""
        n = len(self._parts)
        return len(other._parts) > n and other._parts[:n] == self._parts

    def is_within(self, other: NamespaceId) -> bool:
        """Whether this namespace is ``other`` or lies inside it."""
        return self == other or other.is_ancestor_of(self)

    # -- value semantics ---------------------------------------------------

    # Value semantics (str, equality with the string, hashing, order by ``parts``,
    # immutability, pickling, Pydantic) are TextValue's.

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": _SCHEMA_PATTERN,
            "maxLength": MAX_UTF8_BYTES,
            "title": "NamespaceId",
            "description": "A '/'-separated namespace identifier such as 'D4RL/door'.",
            "examples": ["D4RL", "D4RL/door"],
        }
