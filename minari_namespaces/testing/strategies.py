"""Hypothesis strategies for namespace ids and metadata.

Requires ``hypothesis`` (the ``testing`` extra).
"""

from __future__ import annotations

import string
import unicodedata
from typing import Any

from hypothesis import strategies as st

from minari_namespaces.identifier import (
    MAX_DEPTH,
    MAX_SEGMENT_LENGTH,
    MAX_UTF8_BYTES,
    NamespaceId,
    is_valid_segment,
)

__all__ = ["invalid_namespace_strings", "metadata", "namespace_ids", "namespace_segments"]

ASCII_ALPHABET = string.ascii_letters + string.digits + "_-"


def namespace_segments(
    *, alphabet: str | None = None, min_size: int = 1, max_size: int = 12
) -> st.SearchStrategy[str]:
    """Valid segments: word characters and ``-``, NFC, not reserved.

    Args:
        alphabet: Characters to draw from; ``None`` draws any Unicode word
            character or ``-`` (use :data:`ASCII_ALPHABET` for ASCII only).
        min_size: Shortest segment (at least 1).
        max_size: Longest segment (at most 96).
    """
    max_size = min(max_size, MAX_SEGMENT_LENGTH)
    characters: st.SearchStrategy[str] = (
        st.sampled_from(alphabet)
        if alphabet is not None
        else st.characters(codec="utf-8", categories=("L", "N", "Pc"), include_characters="-")
    )
    return (
        st.text(characters, min_size=max(1, min_size), max_size=max_size)
        .map(lambda text: unicodedata.normalize("NFC", text))
        .filter(is_valid_segment)
    )


def namespace_ids(
    *,
    min_depth: int = 1,
    max_depth: int = 4,
    alphabet: str | None = None,
    max_segment_size: int = 12,
) -> st.SearchStrategy[NamespaceId]:
    """Valid :class:`NamespaceId` values.

    Args:
        min_depth: Fewest segments (at least 1).
        max_depth: Most segments (at most 16).
        alphabet: Characters for segments; ``None`` for any Unicode word character.
        max_segment_size: Longest segment.
    """
    segments = st.lists(
        namespace_segments(alphabet=alphabet, max_size=max_segment_size),
        min_size=max(1, min_depth),
        max_size=min(max_depth, MAX_DEPTH),
    )
    return (
        segments.map("/".join)
        .filter(lambda text: len(text.encode("utf-8")) <= MAX_UTF8_BYTES)
        .map(NamespaceId)
    )


def invalid_namespace_strings() -> st.SearchStrategy[str]:
    """Strings that :class:`NamespaceId` must reject."""
    segment = namespace_segments(alphabet=ASCII_ALPHABET, max_size=6)
    reserved = st.sampled_from(["data", "DATA", "Data", "con", "NUL", "com1", "LPT9", "aux"])
    bad_characters = st.sampled_from([" ", ".", "\\", "\x00", "\n", ":", "*", "?", "\u200b", "+"])
    return st.one_of(
        st.just(""),
        st.sampled_from(["/", "//", ".", "..", "./", "../", "/namespace", "namespace/", "a//b"]),
        st.tuples(segment, segment).map(lambda p: f"{p[0]}//{p[1]}"),
        segment.map(lambda s: f"/{s}"),
        segment.map(lambda s: f"{s}/"),
        st.tuples(segment, st.sampled_from([".", ".."])).map(lambda p: f"{p[0]}/{p[1]}"),
        st.tuples(segment, bad_characters, segment).map("".join),
        st.tuples(st.lists(segment, max_size=2), reserved).map(lambda p: "/".join([*p[0], p[1]])),
        st.integers(MAX_DEPTH + 1, MAX_DEPTH + 4).map(lambda n: "/".join(["a"] * n)),
        st.integers(MAX_SEGMENT_LENGTH + 1, MAX_SEGMENT_LENGTH + 20).map(lambda n: "x" * n),
        st.just("/".join(["\u00e9" * 40] * 8)),
    )


#: Any text UTF-8 can encode: every code point but the lone surrogates.
_TEXT: st.SearchStrategy[str] = st.characters(codec="utf-8")


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(_TEXT, max_size=20),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.text(_TEXT, max_size=8), inner, max_size=4),
        ),
        max_leaves=12,
    )


def metadata(*, with_description: bool | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Strict-JSON metadata objects, as plain dicts.

    Args:
        with_description: ``True`` always adds a string ``description``, ``False``
            never does, ``None`` sometimes does.
    """
    keys = st.text(_TEXT, max_size=10).filter(lambda key: key != "description")
    extra = st.dictionaries(keys, _json_values(), max_size=5)
    description = st.text(_TEXT, max_size=40)
    if with_description is False:
        return extra
    with_it = st.tuples(extra, description).map(lambda p: {**p[0], "description": p[1]})
    if with_description is True:
        return with_it
    return st.one_of(extra, with_it)
