"""Properties of ``NamespaceId`` over generated ids and arbitrary text."""

from __future__ import annotations

import itertools
import os
import unicodedata

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from minari_namespaces import InvalidNamespaceError, NamespaceId
from minari_namespaces.identifier import is_valid_segment
from minari_namespaces.testing.strategies import (
    invalid_namespace_strings,
    namespace_ids,
    namespace_segments,
)

ROOT = os.path.abspath(os.path.join(os.sep, "srv", "minari", "datasets"))

#: Text that is often close to an id: word characters, separators, dots,
#: combining marks, reserved words, spaces and control characters.
NEAR_IDS = st.lists(
    st.one_of(
        st.sampled_from(["/", "//", ".", "..", "-", "_", " ", "\\", "\x00", "\u0301", "\u200b"]),
        st.sampled_from(["data", "Data", "con", "COM1", "lpt9", "aux", "nul", "prn"]),
        namespace_segments(max_size=6),
        st.text(max_size=3),
    ),
    max_size=12,
).map("".join)


def parse(text: str) -> NamespaceId | InvalidNamespaceError:
    """The id ``text`` names, or the error that says why it names none.

    Any other exception propagates and fails the property.
    """
    try:
        return NamespaceId(text)
    except InvalidNamespaceError as error:
        return error


ANY_IDS = st.one_of(namespace_ids(), namespace_ids(max_depth=16, max_segment_size=96))


@given(ANY_IDS)
def test_the_string_form_round_trips(ns: NamespaceId) -> None:
    again = NamespaceId(str(ns))
    assert again == ns
    assert str(again) == str(ns)
    assert again.parts == ns.parts
    assert hash(again) == hash(ns)


@given(ANY_IDS)
def test_the_decomposed_form_is_the_same_id(ns: NamespaceId) -> None:
    assert NamespaceId(unicodedata.normalize("NFD", str(ns))) == ns


@given(ANY_IDS)
def test_parent_child_of_name_is_the_id(ns: NamespaceId) -> None:
    if ns.depth == 1:
        assert ns.parent is None
    else:
        assert ns.parent is not None
        assert ns.parent.child(ns.name) == ns
        assert ns.parent / ns.name == ns
        assert ns.parent.is_ancestor_of(ns)


@given(ANY_IDS)
def test_hierarchy_runs_from_the_root_to_the_id(ns: NamespaceId) -> None:
    levels = ns.hierarchy()
    assert len(levels) == ns.depth == len(ns.parts)
    assert levels[0].depth == 1
    assert levels[0].parent is None
    assert levels[-1] == ns
    for upper, lower in itertools.pairwise(levels):
        assert lower.parent == upper
        assert upper.is_ancestor_of(lower)
        assert upper < lower
    assert ns.ancestors() == levels[:-1]
    assert all(level.is_ancestor_of(ns) for level in ns.ancestors())


@given(ANY_IDS, ANY_IDS)
def test_ordering_agrees_with_parts(first: NamespaceId, second: NamespaceId) -> None:
    assert (first < second) == (first.parts < second.parts)
    assert (first <= second) == (first.parts <= second.parts)
    assert (first > second) == (first.parts > second.parts)
    assert (first == second) == (first.parts == second.parts)
    assert first.is_ancestor_of(second) == (
        first.depth < second.depth and second.parts[: first.depth] == first.parts
    )


@given(st.lists(namespace_ids(alphabet="ab-", max_depth=3, max_segment_size=2), max_size=20))
def test_sorting_puts_each_parent_directly_before_its_subtree(
    found: list[NamespaceId],
) -> None:
    ordered = sorted(set(found))
    assert ordered == sorted(ordered, key=lambda ns: ns.parts)
    for index, ns in enumerate(ordered):
        subtree = [other for other in ordered if ns.is_ancestor_of(other)]
        assert ordered[index + 1 : index + 1 + len(subtree)] == subtree


@given(st.one_of(st.text(), NEAR_IDS))
@example("cafe\u0301")
@example("a/\u0301")
@example("\u212a")
def test_any_text_is_an_id_that_round_trips_or_invalid(text: str) -> None:
    ns = parse(text)
    if isinstance(ns, InvalidNamespaceError):
        assert "Malformed namespace" in str(ns)
        return
    canonical = unicodedata.normalize("NFC", text)
    assert str(ns) == canonical
    assert NamespaceId(str(ns)) == ns
    assert all(is_valid_segment(part) for part in ns.parts)
    assert 1 <= ns.depth <= 16
    assert len(str(ns).encode()) <= 512


# -- equality with strings (issue 13, point 10) --------------------------------------------


@given(ANY_IDS, st.one_of(ANY_IDS.map(str), NEAR_IDS, st.text()))
@example(NamespaceId("caf\u00e9"), "cafe\u0301")
def test_an_id_equals_a_string_exactly_when_it_is_the_canonical_form(
    ns: NamespaceId, text: str
) -> None:
    assert (ns == text) is (str(ns) == text)
    assert (text == ns) is (ns == text)
    assert (ns != text) is not (ns == text)
    assert (text != ns) is not (ns == text)


@given(ANY_IDS, ANY_IDS)
def test_equality_with_strings_keeps_the_laws_of_hashing_and_transitivity(
    first: NamespaceId, second: NamespaceId
) -> None:
    text = str(first)
    assert first == text
    assert hash(first) == hash(text)
    # Two ids equal to the same string are equal to each other, and the other way round.
    assert (second == text) is (second == first)
    if second == text:
        assert hash(second) == hash(text)
    keys = {first, second, str(first), str(second)}
    assert len(keys) == len({str(first), str(second)})
    assert NamespaceId(text) in {text}
    assert text in {NamespaceId(text)}


#: Valid ids spelled in any Unicode normal form.
ANY_SPELLING = st.one_of(
    ANY_IDS.map(lambda ns: unicodedata.normalize("NFC", str(ns))),
    ANY_IDS.map(lambda ns: unicodedata.normalize("NFD", str(ns))),
    ANY_IDS.map(lambda ns: unicodedata.normalize("NFKC", str(ns))),
)


@given(ANY_SPELLING)
@example("cafe\u0301")
def test_a_valid_text_equals_its_id_exactly_when_it_is_already_canonical(text: str) -> None:
    ns = parse(text)
    assume(isinstance(ns, NamespaceId))  # an NFK form of a valid id may not be one
    assert isinstance(ns, NamespaceId)
    assert (ns == text) is unicodedata.is_normalized("NFC", text)


@given(invalid_namespace_strings(), ANY_IDS)
def test_no_id_equals_an_invalid_string(text: str, ns: NamespaceId) -> None:
    assert ns != text


@given(invalid_namespace_strings())
def test_invalid_strings_are_always_rejected(text: str) -> None:
    with pytest.raises(InvalidNamespaceError, match="Malformed namespace"):
        NamespaceId(text)


@given(namespace_segments())
def test_a_valid_segment_is_a_one_segment_id(segment: str) -> None:
    assert is_valid_segment(segment)
    assert NamespaceId(segment).parts == (segment,)


@given(st.one_of(st.text(max_size=8), NEAR_IDS))
def test_is_valid_segment_agrees_with_the_id_rules(text: str) -> None:
    assume("/" not in text)
    ns = parse(text)
    accepted = isinstance(ns, NamespaceId) and str(ns) == text
    assert is_valid_segment(text) == accepted


def stays_under_root(ns: NamespaceId) -> None:
    by_parts = os.path.normpath(os.path.join(ROOT, *ns.parts))
    by_string = os.path.normpath(os.path.join(ROOT, str(ns)))
    for path in (by_parts, by_string):
        assert path.startswith(ROOT + os.sep)
        assert os.path.commonpath([ROOT, path]) == ROOT
    assert by_parts == by_string == os.path.join(ROOT, *ns.parts)
    assert os.path.relpath(by_parts, ROOT).split(os.sep) == list(ns.parts)


@given(ANY_IDS)
def test_no_generated_id_resolves_outside_the_root(ns: NamespaceId) -> None:
    stays_under_root(ns)


@given(st.one_of(st.text(), NEAR_IDS))
@example("../etc")
@example("a/../../b")
@example("/etc/passwd")
@example("a\\..\\..\\b")
@example("~")
def test_no_accepted_text_resolves_outside_the_root(text: str) -> None:
    ns = parse(text)
    if isinstance(ns, NamespaceId):
        stays_under_root(ns)
