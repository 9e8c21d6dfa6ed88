"""``NamespaceId``: every rule of DESIGN.md, one specification per case."""

from __future__ import annotations

import copy
import pickle
import re
from pathlib import Path, PurePosixPath

import pydantic
import pytest

from minari_namespaces import InvalidNamespaceError, NamespaceError, NamespaceId

DEVICE_NAMES = [
    "con",
    "prn",
    "aux",
    "nul",
    # Windows reserves 0-9 and the superscripts one to three (issue 10, defect 15).
    *(f"com{digit}" for digit in "0123456789¹²³"),
    *(f"lpt{digit}" for digit in "0123456789¹²³"),
]
EXACTLY_512_BYTES = "/".join(["x" * 96] * 5 + ["x" * 27])
EXACTLY_512_BYTES_UNICODE = "/".join(["é" * 96, "é" * 96, "é" * 63])


def rejection(text: object) -> str:
    with pytest.raises(InvalidNamespaceError) as info:
        NamespaceId(text)  # type: ignore[arg-type]
    return str(info.value)


# -- accepted ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "D4RL",
        "D4RL/door",
        "a",
        "a/b/c",
        "0",
        "_",
        "-",
        "a-b_c",
        "mujoco/halfcheetah/expert-v0_2",
        "café",
        "日本/ロボット_2",
        "données-1",
        "x" * 96,
        "/".join(f"l{i}" for i in range(16)),
        EXACTLY_512_BYTES,
        EXACTLY_512_BYTES_UNICODE,
        "data1",
        "database",
        "metadata",
        "com10",
        "LPT10",
        "com4x",
        "console",
        "con-1",
        "auxiliary",
        "null",
    ],
)
def test_valid_ids_are_accepted_and_kept_verbatim(text: str) -> None:
    ns = NamespaceId(text)
    assert str(ns) == text
    assert ns.parts == tuple(text.split("/"))


def test_single_character_segments_are_valid_unlike_minari() -> None:
    assert NamespaceId("a/b/c").parts == ("a", "b", "c")
    assert NamespaceId("x").depth == 1


def test_the_limits_are_inclusive() -> None:
    assert len(EXACTLY_512_BYTES.encode()) == 512
    assert len(EXACTLY_512_BYTES_UNICODE.encode()) == 512
    assert NamespaceId("/".join(["a"] * 16)).depth == 16
    assert NamespaceId("y" * 96).name == "y" * 96


# -- rejected: each with its reason and the offending segment ------------------


@pytest.mark.parametrize(
    ("text", "reason", "shown"),
    [
        ("", "empty", ""),
        ("a//b", "empty segment ('//')", "a//b"),
        ("/a", "empty segment (leading '/')", "/a"),
        ("a/", "empty segment (trailing '/')", "a/"),
        ("/", "empty segment", "/"),
        (".", "relative path", "."),
        ("..", "relative path", ".."),
        ("a/./b", "relative path", "."),
        ("a/../b", "relative path", ".."),
        ("../etc", "relative path", ".."),
        ("a b", "contains ' '", "a b"),
        ("D4RL/door v2", "contains ' '", "door v2"),
        ("a.b", "contains '.'", "a.b"),
        ("a\\b", "U+005C", "a\\b"),
        ("a\x00b", "U+0000", "a\x00b"),
        ("a\nb", "U+000A", "a\nb"),
        ("a\tb", "U+0009", "a\tb"),
        ("x/a\x7fb", "U+007F", "a\x7fb"),
        ("a:b", "contains ':'", "a:b"),
        ("a*b", "contains '*'", "a*b"),
        ("zero\u200bwidth", "U+200B", "zero\u200bwidth"),
        ("data", "reserved", "data"),
        ("DATA", "reserved", "DATA"),
        ("Data", "reserved", "Data"),
        ("D4RL/dAtA", "reserved", "dAtA"),
        ("D4RL/data/door", "reserved", "data"),
    ],
)
def test_malformed_ids_are_rejected_with_reason_and_segment(
    text: str, reason: str, shown: str
) -> None:
    message = rejection(text)
    assert "Malformed namespace" in message
    assert reason in message
    assert repr(shown) in message


@pytest.mark.parametrize("device", DEVICE_NAMES)
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title], ids=["lower", "upper", "title"])
def test_windows_device_names_are_rejected_in_any_case(device: str, case: object) -> None:
    name = case(device)  # type: ignore[operator]
    for text in (name, f"D4RL/{name}"):
        message = rejection(text)
        assert "Malformed namespace" in message
        assert "device name" in message
        assert repr(name) in message


def test_more_than_16_segments_is_rejected() -> None:
    text = "/".join(f"s{i}" for i in range(17))
    message = rejection(text)
    assert "Malformed namespace" in message
    assert "17 segments" in message
    assert "16" in message
    assert "'s16'" in message


def test_a_segment_longer_than_96_characters_is_rejected() -> None:
    segment = "toolong" + "x" * 90
    message = rejection(f"D4RL/{segment}")
    assert "Malformed namespace" in message
    assert "97 characters" in message
    assert "96" in message
    assert repr(segment[:16]) in message


def test_more_than_512_utf8_bytes_is_rejected() -> None:
    text = "/".join(["é" * 96, "é" * 96, "é" * 64])
    assert len(text.encode()) == 514
    message = rejection(text)
    assert "Malformed namespace" in message
    assert "514 bytes" in message
    assert "512" in message
    assert repr("é" * 64) in message


def test_ascii_over_512_bytes_is_rejected() -> None:
    message = rejection(EXACTLY_512_BYTES + "x")
    assert "513 bytes" in message


@pytest.mark.parametrize("value", [None, 1, 1.5, b"D4RL", ["D4RL"], PurePosixPath("D4RL")])
def test_non_strings_raise_type_error_as_minari(value: object) -> None:
    with pytest.raises(TypeError, match="Malformed namespace"):
        NamespaceId(value)  # type: ignore[arg-type]


def test_rejections_are_value_errors_and_namespace_errors() -> None:
    with pytest.raises(InvalidNamespaceError) as info:
        NamespaceId("a//b")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, NamespaceError)


def test_a_very_long_rejected_string_is_shortened_in_the_message() -> None:
    message = rejection("a b" * 10_000)
    assert len(message) < 1_000
    assert "30000 characters" in message


# -- Unicode normalisation -------------------------------------------------------


def test_decomposed_and_composed_forms_are_the_same_id() -> None:
    decomposed = NamespaceId("cafe\u0301")
    composed = NamespaceId("caf\u00e9")
    assert decomposed == composed
    assert hash(decomposed) == hash(composed)
    assert str(decomposed) == "caf\u00e9"
    assert decomposed.parts == ("caf\u00e9",)
    assert len({decomposed, composed}) == 1


def test_normalisation_applies_to_every_segment() -> None:
    ns = NamespaceId("cafe\u0301/de\u0301ja\u0300")
    assert ns.parts == ("caf\u00e9", "d\u00e9j\u00e0")


def test_compatibility_characters_are_not_folded() -> None:
    # NFC, not NFKC: the ligature stays a distinct id.
    assert NamespaceId("\ufb01le") != NamespaceId("file")


# -- structure -------------------------------------------------------------------


def test_parts_name_and_depth() -> None:
    ns = NamespaceId("D4RL/door/expert")
    assert ns.parts == ("D4RL", "door", "expert")
    assert ns.name == "expert"
    assert ns.depth == 3
    assert NamespaceId("D4RL").depth == 1


def test_parent_is_none_at_top_level() -> None:
    assert NamespaceId("D4RL").parent is None
    assert NamespaceId("D4RL/door").parent == NamespaceId("D4RL")
    assert NamespaceId("a/b/c").parent == NamespaceId("a/b")


def test_hierarchy_is_root_first_and_self_last() -> None:
    ns = NamespaceId("a/b/c")
    assert ns.hierarchy() == (NamespaceId("a"), NamespaceId("a/b"), ns)
    assert NamespaceId("a").hierarchy() == (NamespaceId("a"),)


def test_ancestors_is_the_hierarchy_without_self() -> None:
    assert NamespaceId("a/b/c").ancestors() == (NamespaceId("a"), NamespaceId("a/b"))
    assert NamespaceId("a").ancestors() == ()


def test_child_and_slash_operator_build_the_nested_id() -> None:
    ns = NamespaceId("D4RL")
    assert ns.child("door") == NamespaceId("D4RL/door")
    assert ns / "door" / "expert" == NamespaceId("D4RL/door/expert")
    assert ns.child("cafe\u0301") == NamespaceId("D4RL/café")


@pytest.mark.parametrize("name", ["", "a/b", "/", "..", ".", "data", "CON", "a b", "x" * 97])
def test_child_rejects_anything_but_one_valid_segment(name: str) -> None:
    with pytest.raises(InvalidNamespaceError, match="Malformed namespace"):
        NamespaceId("D4RL").child(name)


def test_child_rejects_going_deeper_than_16_segments() -> None:
    deepest = NamespaceId("/".join(["a"] * 16))
    with pytest.raises(InvalidNamespaceError, match="17 segments"):
        deepest.child("b")


def test_child_of_a_non_string_raises_type_error() -> None:
    with pytest.raises(TypeError):
        NamespaceId("a").child(1)  # type: ignore[arg-type]


def test_is_ancestor_of_means_strictly_inside() -> None:
    a = NamespaceId("a")
    assert a.is_ancestor_of(NamespaceId("a/b"))
    assert a.is_ancestor_of(NamespaceId("a/b/c"))
    assert not a.is_ancestor_of(a)
    assert not a.is_ancestor_of(NamespaceId("ab"))
    assert not a.is_ancestor_of(NamespaceId("a-b/c"))
    assert not NamespaceId("a/b").is_ancestor_of(a)
    assert not NamespaceId("a/b").is_ancestor_of(NamespaceId("a/c"))


def test_from_parts_joins_validated_segments() -> None:
    assert NamespaceId.from_parts(["D4RL", "door"]) == NamespaceId("D4RL/door")
    with pytest.raises(InvalidNamespaceError):
        NamespaceId.from_parts([])
    with pytest.raises(InvalidNamespaceError):
        NamespaceId.from_parts(["a", "data"])


def test_from_parts_refuses_a_segment_holding_a_separator() -> None:
    with pytest.raises(InvalidNamespaceError, match="'a/b'"):
        NamespaceId.from_parts(["a/b", "c"])


def test_parse_returns_ids_unchanged_and_converts_strings() -> None:
    ns = NamespaceId("a/b")
    assert NamespaceId.parse(ns) is ns
    assert NamespaceId.parse("a/b") == ns
    assert NamespaceId(ns) == ns
    with pytest.raises(TypeError):
        NamespaceId.parse(3)


# -- ordering --------------------------------------------------------------------


def test_a_parent_sorts_directly_before_its_own_subtree() -> None:
    ordered = sorted(NamespaceId(text) for text in ["a-b", "a/b", "a"])
    assert [str(ns) for ns in ordered] == ["a", "a/b", "a-b"]


def test_sorted_ids_are_in_tree_order() -> None:
    texts = ["b", "a/z", "a_", "a", "a-b/c", "a/b/c", "a/b", "a-b", "A", "a/b-c", "a/b/c/d"]
    ordered = [str(ns) for ns in sorted(NamespaceId(text) for text in texts)]
    assert ordered == [
        "A",
        "a",
        "a/b",
        "a/b/c",
        "a/b/c/d",
        "a/b-c",
        "a/z",
        "a-b",
        "a-b/c",
        "a_",
        "b",
    ]
    for index, ns in enumerate(ordered):
        subtree = [other for other in ordered if other.startswith(f"{ns}/")]
        assert ordered[index + 1 : index + 1 + len(subtree)] == subtree


def test_comparison_operators_follow_parts() -> None:
    a, ab, a_b = NamespaceId("a"), NamespaceId("a/b"), NamespaceId("a-b")
    same_a, same_a_b = NamespaceId("a"), NamespaceId("a-b")
    assert a < ab < a_b
    assert a <= same_a <= ab
    assert a_b > ab > a
    assert a_b >= same_a_b >= a
    assert not a < same_a
    assert not a > same_a


def test_an_id_equals_its_canonical_string_and_hashes_as_it() -> None:
    """Issue 13, point 10: ``"D4RL/door" in {ns}`` was False."""
    ns = NamespaceId("D4RL/door")
    assert ns == "D4RL/door"
    assert "D4RL/door" == ns  # noqa: SIM300 - the reflected comparison is the point
    assert ns != "D4RL"
    assert hash(ns) == hash("D4RL/door")
    assert "D4RL/door" in {ns}
    assert ns in {"D4RL/door"}
    lookup: dict[object, int] = {ns: 1}
    assert lookup["D4RL/door"] == 1
    assert len({ns, "D4RL/door"}) == 1


def test_a_string_in_another_spelling_is_not_equal_until_parsed() -> None:
    decomposed = "cafe\u0301"
    ns = NamespaceId(decomposed)
    assert ns == "caf\u00e9"
    assert ns != decomposed
    assert NamespaceId(decomposed) == ns


def test_ids_are_not_equal_to_other_types() -> None:
    assert NamespaceId("a") != b"a"
    assert NamespaceId("a") != ("a",)
    assert NamespaceId("a") != None  # noqa: E711


def test_ids_do_not_order_with_strings() -> None:
    """Tree order is not string order (``a/b`` < ``a-b`` as ids, not as strings)."""
    ns = NamespaceId("a")
    with pytest.raises(TypeError):
        _ = ns < "b"  # type: ignore[operator]
    with pytest.raises(TypeError):
        sorted([NamespaceId("a"), "b"])  # type: ignore[type-var]


# -- value semantics -------------------------------------------------------------


def test_equal_ids_hash_equal_and_work_as_keys() -> None:
    first, second = NamespaceId("D4RL/door"), NamespaceId("D4RL/door")
    assert first == second
    assert first is not second
    assert hash(first) == hash(second)
    assert {first: 1}[second] == 1
    assert len({first, second, NamespaceId("D4RL")}) == 2


def test_ids_are_not_strings_but_print_as_them() -> None:
    ns = NamespaceId("D4RL/door")
    assert not isinstance(ns, str)
    assert str(ns) == "D4RL/door"
    assert f"{ns}" == "D4RL/door"
    assert repr(ns) == "NamespaceId('D4RL/door')"


def test_ids_are_immutable() -> None:
    ns = NamespaceId("a/b")
    with pytest.raises(AttributeError):
        ns._text = "c"
    with pytest.raises(AttributeError):
        ns._parts = ("c",)
    with pytest.raises(AttributeError):
        ns.extra = 1
    with pytest.raises(AttributeError):
        del ns._text
    with pytest.raises(AttributeError):
        ns.parts = ("c",)  # type: ignore[misc]
    assert str(ns) == "a/b"
    assert ns.parts == ("a", "b")


def test_copies_are_the_same_value() -> None:
    ns = NamespaceId("a/b")
    assert copy.copy(ns) == ns
    assert copy.deepcopy(ns) == ns


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_ids_survive_pickling(protocol: int) -> None:
    ns = NamespaceId("D4RL/café")
    restored = pickle.loads(pickle.dumps(ns, protocol=protocol))
    assert restored == ns
    assert restored.parts == ns.parts
    assert hash(restored) == hash(ns)


# -- Pydantic --------------------------------------------------------------------


class Dataset(pydantic.BaseModel):
    namespace: NamespaceId
    parents: list[NamespaceId] = []
    optional: NamespaceId | None = None


def test_a_pydantic_field_validates_from_a_string() -> None:
    model = Dataset(namespace="D4RL/door", parents=["D4RL"])  # type: ignore[arg-type, list-item]
    assert model.namespace == NamespaceId("D4RL/door")
    assert isinstance(model.namespace, NamespaceId)
    assert model.parents == [NamespaceId("D4RL")]
    assert Dataset(namespace="cafe\u0301").namespace == NamespaceId("café")  # type: ignore[arg-type]


def test_a_pydantic_field_accepts_an_id() -> None:
    ns = NamespaceId("D4RL")
    assert Dataset(namespace=ns).namespace is ns


@pytest.mark.parametrize(
    ("text", "reason"),
    [("a//b", "empty segment"), ("data", "reserved"), ("a b", "contains ' '"), ("", "empty")],
)
def test_a_pydantic_field_rejects_bad_ids_with_the_same_reason(text: str, reason: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        Dataset(namespace=text)  # type: ignore[arg-type]
    (error,) = info.value.errors()  # one error, not one per branch of a union
    assert "Malformed namespace" in error["msg"]
    assert reason in error["msg"]
    with pytest.raises(pydantic.ValidationError, match=re.escape(reason)):
        Dataset.model_validate_json(f'{{"namespace": "{text}"}}')


def test_a_pydantic_field_rejects_non_strings_as_a_validation_error() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        Dataset(namespace=3)  # type: ignore[arg-type]
    (error,) = info.value.errors()
    assert error["type"] == "string_type"
    with pytest.raises(pydantic.ValidationError):
        Dataset.model_validate_json('{"namespace": 3}')


def test_a_pydantic_field_serialises_to_the_plain_string() -> None:
    model = Dataset(namespace=NamespaceId("D4RL/door"), parents=[NamespaceId("D4RL")])
    assert model.model_dump_json() == (
        '{"namespace":"D4RL/door","parents":["D4RL"],"optional":null}'
    )
    assert model.model_dump(mode="json") == {
        "namespace": "D4RL/door",
        "parents": ["D4RL"],
        "optional": None,
    }
    assert Dataset.model_validate_json(model.model_dump_json()) == model


def test_the_json_schema_is_a_string_with_a_pattern() -> None:
    schema = Dataset.model_json_schema()["properties"]["namespace"]
    assert schema["type"] == "string"
    pattern = re.compile(schema["pattern"])
    for good in ["D4RL", "D4RL/door", "a-b_c/x"]:
        assert pattern.search(good)
    for bad in ["", "a//b", "/a", "a/", "a b", "a.b", "/".join(["a"] * 17), "x" * 97]:
        assert not pattern.search(bad)


def test_a_segment_that_no_file_system_can_hold_is_refused() -> None:
    """Issue 10, defect 9: 86 CJK characters fit the 96-character limit but are 258
    UTF-8 bytes, more than any common file system allows in one name."""
    assert str(NamespaceId("日" * 85)) == "日" * 85  # 255 bytes: the largest that fits
    with pytest.raises(InvalidNamespaceError, match="258 bytes in UTF-8; the limit is 255"):
        NamespaceId("日" * 86)
    with pytest.raises(InvalidNamespaceError, match="Malformed namespace"):
        NamespaceId("ok/" + "日" * 86)
    assert str(NamespaceId("x" * 96)) == "x" * 96


def test_every_valid_segment_can_be_made_as_a_folder(tmp_path: Path) -> None:
    """Issue 10, defect 9: the longest valid segment of 4-byte characters is a name
    the local file system accepts."""
    name = "\U00020000" * 63  # a CJK ideograph of 4 bytes in UTF-8: 252 bytes
    NamespaceId(name)
    (tmp_path / name).mkdir()
