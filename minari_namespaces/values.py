"""``TextValue``: what the library's identifiers share as values.

:class:`~minari_namespaces.identifier.NamespaceId` and
:class:`~minari_namespaces.datasets.DatasetId` are each a canonical string parsed
once. Both are immutable, equal to (and hashed as) their canonical string, totally
ordered among their own kind by a key that is not string order, picklable,
copied as themselves, and Pydantic field types that validate from a string and
serialise to it. The value semantics live here, once; each subclass keeps its
parsing and its JSON schema.

This module is a leaf: it imports nothing from the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = ["TextValue"]

V = TypeVar("V", bound="TextValue")


class TextValue:
    """An immutable value that is a canonical string.

    A subclass sets two slots in its constructor: ``_text`` (the canonical string) and
    ``_key`` (a tuple that orders values of the subclass), with
    ``object.__setattr__``; its constructor takes the string (or an instance) alone.
    """

    __slots__ = ()

    _text: str
    _key: tuple[Any, ...]

    def __init__(self, value: str) -> None:
        raise NotImplementedError  # every subclass parses its own kind of string

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._text!r})"

    def __hash__(self) -> int:
        # The hash of the canonical string, so a value and the string equal to it
        # (below) are one key in a set or a dict.
        return hash(self._text)

    def __eq__(self, other: object) -> bool:
        """Equal to a value of the same kind with the same canonical form, and to a
        ``str`` that is exactly that form. A string in another spelling (decomposed
        Unicode) is not equal: parse it first."""
        if isinstance(other, type(self)):
            return self._text == other._text
        if isinstance(other, str):
            return self._text == other
        return NotImplemented

    def __lt__(self: V, other: V) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self._key < other._key

    def __le__(self: V, other: V) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self._key <= other._key

    def __gt__(self: V, other: V) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self._key > other._key

    def __ge__(self: V, other: V) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self._key >= other._key

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[TextValue], tuple[str]]:
        return (type(self), (self._text,))

    def __copy__(self: V) -> V:
        return self

    def __deepcopy__(self: V, memo: dict[int, object]) -> V:
        return self

    # -- pydantic ----------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        from_str = core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(strict=True)
        )
        return core_schema.json_or_python_schema(
            json_schema=from_str,
            python_schema=core_schema.no_info_plain_validator_function(cls.from_python),
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, when_used="json-unless-none"
            ),
        )

    @classmethod
    def from_python(cls: type[V], value: object) -> V:
        """Pydantic's Python-mode validator: a value of this kind as it is, a string
        parsed, anything else one clear error.

        Raises:
            PydanticCustomError: If ``value`` is neither a string nor of this kind.
        """
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError(
                "string_type", "Input should be a valid string or {kind}", {"kind": cls.__name__}
            )
        return cls(value)
