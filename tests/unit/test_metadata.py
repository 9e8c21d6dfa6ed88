"""``NamespaceMetadata``: strict JSON, exact round trips, limits on write and read."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings

from minari_namespaces import (
    CorruptMetadataError,
    InvalidMetadataError,
    LocalNamespaceRepository,
    NamespaceError,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
)
from minari_namespaces.metadata import MAX_INT_DIGITS, MAX_METADATA_BYTES, MAX_READ_NESTING
from minari_namespaces.testing import InMemoryNamespaceRepository
from minari_namespaces.testing.strategies import metadata as metadata_objects

MIB = 1024 * 1024
MARKER = "namespace_metadata.json"


def read_back(raw: bytes, ns: str = "D4RL") -> NamespaceMetadata:
    """Read ``raw`` as a store reads a marker file it finds (Minari may have written
    it): through the public API of a repository."""
    store = InMemoryNamespaceRepository("read-back")
    store.write_marker(NamespaceId(ns), raw)
    return store.get(NamespaceId(ns))


def self_referencing() -> dict[str, Any]:
    data: dict[str, Any] = {}
    data["self"] = data
    return data


BAD_OBJECTS: dict[str, Any] = {
    "nan": {"x": float("nan")},
    "infinity": {"x": float("inf")},
    "minus-infinity": {"x": float("-inf")},
    "set": {"x": {1, 2}},
    "frozenset": {"x": frozenset({"a"})},
    "bytes": {"x": b"raw"},
    "bytearray": {"x": bytearray(b"raw")},
    "object": {"x": object()},
    "complex": {"x": 1j},
    "tuple-key": {(1, 2): "x"},
    "int-key": {1: "x"},
    "float-key": {1.5: "x"},
    "none-key": {None: "x"},
    "bool-key": {True: "x"},
    "nested-nan": {"a": {"b": [1, {"c": float("nan")}]}},
    "nested-set": {"a": [[{"b": {3}}]]},
    "nested-int-key": {"a": [{2: "x"}]},
    "nested-bytes": {"a": {"b": {"c": b"x"}}},
    "non-string-description": {"description": 5},
    "lone-surrogate-value": {"x": "\ud800"},
    "lone-surrogate-key": {"\udfff": 1},
    "too-deep": {"x": json.loads("[" * 100 + "]" * 100)},
    "self-reference": self_referencing(),
    "int-beyond-str-limit": {"x": 10**5000},
}


# -- strict JSON on write --------------------------------------------------------


@pytest.mark.parametrize("data", BAD_OBJECTS.values(), ids=BAD_OBJECTS.keys())
def test_non_json_metadata_is_refused(data: dict[Any, Any]) -> None:
    with pytest.raises(InvalidMetadataError) as info:
        NamespaceMetadata.from_dict(data)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, NamespaceError)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (float("nan"), "NaN"),
        (float("inf"), "infinity"),
        ({1}, "set"),
        (b"x", "bytes"),
    ],
)
def test_the_message_names_the_key_and_the_problem(value: object, words: str) -> None:
    with pytest.raises(InvalidMetadataError, match=words) as info:
        NamespaceMetadata(version=value)
    assert "'version'" in str(info.value)


def test_the_message_names_a_bad_key() -> None:
    with pytest.raises(InvalidMetadataError, match=r"key \(1, 2\).*strings"):
        NamespaceMetadata.from_dict({"fine": 1, (1, 2): 3})  # type: ignore[dict-item]


def test_metadata_must_be_an_object() -> None:
    for value in ([1, 2], "text", 3, None):
        with pytest.raises(InvalidMetadataError, match="object"):
            NamespaceMetadata.from_dict(value)  # type: ignore[arg-type]


def test_tuples_are_stored_as_lists_as_json_dump_writes_them() -> None:
    stored = NamespaceMetadata(shape=(1, 2), nested={"t": (3, (4,))})
    assert stored.to_dict() == {"shape": [1, 2], "nested": {"t": [3, [4]]}}
    assert (
        stored.to_json_bytes() == json.dumps({"shape": (1, 2), "nested": {"t": (3, (4,))}}).encode()
    )


def test_every_json_type_is_accepted() -> None:
    data: dict[str, Any] = {
        "description": "all of them",
        "none": None,
        "true": True,
        "false": False,
        "int": -(2**70),
        "float": 1.5e-300,
        "zero": -0.0,
        "str": "é\u0000\n\"'",
        "list": [1, "a", None, [], {}],
        "object": {"": {"nested": [True]}},
        "unicode key ü": "x",
    }
    assert NamespaceMetadata.from_dict(data).to_dict() == data


# -- the 1 MiB limit ---------------------------------------------------------------


def padded(total_bytes: int) -> dict[str, str]:
    """An object that serialises to exactly ``total_bytes`` bytes."""
    overhead = len(json.dumps({"x": ""}))
    return {"x": "y" * (total_bytes - overhead)}


def test_exactly_one_mib_is_accepted() -> None:
    data = padded(MIB)
    stored = NamespaceMetadata.from_dict(data)
    assert len(stored.to_json_bytes()) == MAX_METADATA_BYTES == MIB
    assert read_back(stored.to_json_bytes()) == stored


def test_one_byte_over_one_mib_is_refused() -> None:
    with pytest.raises(InvalidMetadataError, match="1 MiB"):
        NamespaceMetadata.from_dict(padded(MIB + 1))


def test_the_limit_counts_utf8_bytes_as_written() -> None:
    # json.dump escapes non-ASCII: one "é" is six bytes on disk ("\u00e9").
    with pytest.raises(InvalidMetadataError, match="1 MiB"):
        NamespaceMetadata(x="é" * (MIB // 6 + 1))


def test_merging_past_one_mib_is_refused() -> None:
    half = NamespaceMetadata.from_dict(padded(MIB // 2 + 100))
    with pytest.raises(InvalidMetadataError, match="1 MiB"):
        half.merged({"z": half["x"]})


# -- nothing is written when metadata is refused ------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "datasets"


@pytest.fixture
def service(root: Path) -> NamespaceService:
    return NamespaceService(LocalNamespaceRepository(root))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else b"<dir>"
        for path in sorted(folder.rglob("*"))
    }


REFUSED_ON_CREATE: dict[str, dict[str, Any]] = {
    "nan": {"score": float("nan")},
    "infinity": {"score": float("inf")},
    "set": {"tags": {"a"}},
    "bytes": {"blob": b"\x00"},
    "nested-tuple-key": {"nested": {(1,): 2}},
    "over-one-mib": {"blob": "x" * MIB},
}


@pytest.mark.parametrize("extra", REFUSED_ON_CREATE.values(), ids=REFUSED_ON_CREATE.keys())
def test_create_with_bad_metadata_writes_nothing_at_all(
    service: NamespaceService, root: Path, extra: dict[str, Any]
) -> None:
    with pytest.raises(InvalidMetadataError):
        service.create("D4RL/door/expert", description="d", metadata=extra)
    assert not root.exists()
    assert service.list_local() == []


@pytest.mark.parametrize("extra", REFUSED_ON_CREATE.values(), ids=REFUSED_ON_CREATE.keys())
def test_create_with_bad_metadata_leaves_an_existing_tree_untouched(
    service: NamespaceService, root: Path, extra: dict[str, Any]
) -> None:
    service.create("D4RL", description="kept")
    before = snapshot(root)
    with pytest.raises(InvalidMetadataError):
        service.create("D4RL/door/expert", metadata=extra)
    assert snapshot(root) == before


@pytest.mark.parametrize("extra", REFUSED_ON_CREATE.values(), ids=REFUSED_ON_CREATE.keys())
def test_update_with_bad_metadata_keeps_the_old_file(
    service: NamespaceService, root: Path, extra: dict[str, Any]
) -> None:
    service.create("D4RL", description="kept", metadata={"n": 1})
    before = snapshot(root)
    with pytest.raises(InvalidMetadataError):
        service.replace("D4RL", extra)
    with pytest.raises(InvalidMetadataError):
        service.update_properties("D4RL", updates=extra)
    assert snapshot(root) == before
    assert service.get("D4RL").to_dict() == {"n": 1, "description": "kept"}


# -- corrupt files on read -----------------------------------------------------------


CORRUPT_PAYLOADS: dict[str, bytes] = {
    "array": b"[1, 2]",
    "string": b'"text"',
    "number": b"3",
    "null": b"null",
    "true": b"true",
    "not-json": b"{description: 1}",
    "truncated": b'{"description": "hal',
    "empty": b"",
    "not-utf8": b'{"description": "\xff\xfe"}',
    "utf16": '{"a": 1}'.encode("utf-16"),
    "nan": b'{"x": NaN}',
    "infinity": b'{"x": -Infinity}',
    "deeply-nested": b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "lone-surrogate-escape": b'{"x": "\\ud800"}',
    "two-objects": b"{}{}",
    "over-one-mib": json.dumps(padded(MIB + 1)).encode(),
    "five-mib": b'{"x": "' + b"y" * (5 * MIB) + b'"}',
}


@pytest.mark.parametrize("payload", CORRUPT_PAYLOADS.values(), ids=CORRUPT_PAYLOADS.keys())
def test_corrupt_payloads_raise_corrupt_metadata_naming_the_source(payload: bytes) -> None:
    with pytest.raises(CorruptMetadataError) as info:
        read_back(payload, "somewhere/D4RL")
    assert "somewhere/D4RL/namespace_metadata.json" in str(info.value)
    assert not isinstance(info.value, json.JSONDecodeError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"[1, 2]", "not an object"),
        (b"\xff", "not UTF-8"),
        (json.dumps(padded(MIB + 1)).encode(), "1 MiB"),
        (b"{", "not valid JSON"),
    ],
    ids=["not-an-object", "not-utf8", "too-large", "not-json"],
)
def test_a_corrupt_local_file_is_named_in_the_error(
    service: NamespaceService, root: Path, payload: bytes, words: str
) -> None:
    folder = root / "D4RL" / "door"
    folder.mkdir(parents=True)
    (folder / MARKER).write_bytes(payload)
    with pytest.raises(CorruptMetadataError, match=words) as info:
        service.get("D4RL/door")
    assert str(folder / MARKER) in str(info.value)
    assert (folder / MARKER).read_bytes() == payload


def test_a_file_of_exactly_one_mib_is_read(service: NamespaceService, root: Path) -> None:
    data = padded(MIB)
    (root / "big").mkdir(parents=True)
    (root / "big" / MARKER).write_text(json.dumps(data))
    assert service.get("big").to_dict() == data


def test_reading_tolerates_minaris_registry_keys_and_null_description() -> None:
    written_by_minari = {
        "description": None,
        "namespaces": ["D4RL/door", "D4RL/pen"],
        "datasets": ["D4RL/door/human-v2"],
    }
    stored = read_back(json.dumps(written_by_minari).encode())
    assert stored.to_dict() == written_by_minari
    assert stored.description is None
    assert stored["namespaces"] == ["D4RL/door", "D4RL/pen"]


# -- exact round trips -----------------------------------------------------------------


def test_to_dict_has_no_description_key_unless_one_was_set() -> None:
    assert NamespaceMetadata().to_dict() == {}
    assert NamespaceMetadata(author="me").to_dict() == {"author": "me"}
    assert NamespaceMetadata(None, author="me").to_dict() == {"author": "me"}
    assert NamespaceMetadata("Door").to_dict() == {"description": "Door"}
    assert NamespaceMetadata.from_dict({"description": None}).to_dict() == {"description": None}


def test_to_dict_returns_exactly_what_was_given() -> None:
    data = {"b": 1, "a": [1.0, 2.5], "description": "d", "nested": {"z": None, "y": "é"}}
    stored = NamespaceMetadata.from_dict(data)
    assert stored.to_dict() == data
    assert list(stored.to_dict()) == list(data)
    assert stored.description == "d"


def test_to_dict_is_an_independent_copy() -> None:
    stored = NamespaceMetadata(tags=["a"], nested={"k": [1]})
    copy = stored.to_dict()
    copy["tags"].append("b")
    copy["nested"]["k"].append(2)
    copy["new"] = 1
    assert stored.to_dict() == {"tags": ["a"], "nested": {"k": [1]}}


def test_later_changes_to_the_input_do_not_leak_in() -> None:
    data: dict[str, Any] = {"tags": ["a"]}
    stored = NamespaceMetadata.from_dict(data)
    data["tags"].append("b")
    data["other"] = 1
    assert stored.to_dict() == {"tags": ["a"]}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"description": None},
        {"description": "Door tasks", "author": "me"},
        {"author": "me", "description": "Door tasks"},
        {"unicode": "café ロボット", "emoji": "\U0001f916", "ctrl": "\x00\x1f"},
        {"float": 0.1, "big": 10**30, "small": 5e-324, "neg": -0.0, "exp": 1e300},
        {"nested": {"list": [1, [2, [3, {"deep": True}]]]}, "": ""},
        {"\u00e9": "key is non-ASCII", "pair": "\U0001f916"},
    ],
)
def test_bytes_are_json_dumps_defaults_as_minari_writes_them(data: dict[str, Any]) -> None:
    stored = NamespaceMetadata.from_dict(data)
    assert stored.to_json_bytes() == json.dumps(data).encode("utf-8")
    assert json.loads(stored.to_json_bytes()) == data


def test_description_and_extras_are_ordered_as_minaris_create_namespace() -> None:
    # Minari: metadata = copy.deepcopy(kwargs); metadata["description"] = description
    minari = {"author": "me", "version": 2}
    minari["description"] = "Door tasks"
    ours = NamespaceMetadata("Door tasks", author="me", version=2)
    assert ours.to_json_bytes() == json.dumps(minari).encode()


def test_a_created_file_holds_exactly_the_bytes_minari_would_write(
    service: NamespaceService, root: Path
) -> None:
    service.create(
        "D4RL/door", description="Door tasks", metadata={"author": "me", "tags": ["a", "é"]}
    )
    expected = {"author": "me", "tags": ["a", "é"], "description": "Door tasks"}
    assert (root / "D4RL" / "door" / MARKER).read_bytes() == json.dumps(expected).encode()
    assert (root / "D4RL" / MARKER).read_bytes() == b"{}"


@hypothesis_settings(max_examples=60, deadline=None)
@given(metadata_objects())
def test_any_strict_json_object_round_trips_through_its_bytes(data: dict[str, Any]) -> None:
    stored = NamespaceMetadata.from_dict(data)
    assert stored.to_json_bytes() == json.dumps(data).encode()
    assert read_back(stored.to_json_bytes()) == stored
    assert stored.to_dict() == data


# -- Mapping behaviour and immutability --------------------------------------------------


def test_metadata_reads_like_a_mapping() -> None:
    stored = NamespaceMetadata("d", n=1, tags=["a"])
    assert isinstance(stored, Mapping)
    assert len(stored) == 3
    assert list(stored) == ["n", "tags", "description"]
    assert dict(stored) == {"n": 1, "tags": ["a"], "description": "d"}
    assert stored["n"] == 1
    assert "tags" in stored
    assert "missing" not in stored
    assert stored.get("missing", "default") == "default"
    assert list(stored.items()) == [("n", 1), ("tags", ["a"]), ("description", "d")]
    with pytest.raises(KeyError):
        _ = stored["missing"]


def test_equality_with_metadata_and_with_plain_dicts() -> None:
    first = NamespaceMetadata("d", n=1)
    assert first == NamespaceMetadata.from_dict({"n": 1, "description": "d"})
    assert first == {"description": "d", "n": 1}
    assert first != NamespaceMetadata("d", n=2)
    assert first != NamespaceMetadata(n=1)
    assert NamespaceMetadata() != NamespaceMetadata.from_dict({"description": None})
    assert hash(first) == hash(NamespaceMetadata("d", n=1))


def test_values_read_out_cannot_change_the_metadata() -> None:
    stored = NamespaceMetadata(tags=["a"])
    stored["tags"].append("b")
    assert stored["tags"] == ["a"]
    assert stored.to_json_bytes() == b'{"tags": ["a"]}'


def test_metadata_is_immutable() -> None:
    stored = NamespaceMetadata("d", n=1)
    with pytest.raises(TypeError):
        stored["n"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        del stored["n"]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        stored.description = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        stored._data = {}
    assert stored.to_dict() == {"n": 1, "description": "d"}


def test_metadata_survives_pickling() -> None:
    stored = NamespaceMetadata("d", nested={"a": [1, None]})
    restored = pickle.loads(pickle.dumps(stored))
    assert restored == stored
    assert restored.to_json_bytes() == stored.to_json_bytes()


# -- merged ---------------------------------------------------------------------------


def test_merged_sets_and_removes_keys_in_a_new_copy() -> None:
    original = NamespaceMetadata("d", keep=1, change=2, drop=3)
    merged = original.merged({"change": 20, "new": 4}, ["drop"])
    assert merged.to_dict() == {"keep": 1, "change": 20, "description": "d", "new": 4}
    assert original.to_dict() == {"keep": 1, "change": 2, "drop": 3, "description": "d"}


def test_merged_ignores_removal_of_missing_keys_and_can_drop_the_description() -> None:
    original = NamespaceMetadata("d", n=1)
    merged = original.merged(removals=["ghost", "description"])
    assert merged.to_dict() == {"n": 1}
    assert merged.description is None


def test_merged_with_nothing_is_equal() -> None:
    original = NamespaceMetadata("d", n=1)
    assert original.merged() == original
    assert original.merged({}, []) == original


def test_merged_refuses_non_json_updates() -> None:
    original = NamespaceMetadata(n=1)
    for bad in BAD_OBJECTS.values():
        with pytest.raises(InvalidMetadataError):
            original.merged(bad)
    assert original.to_dict() == {"n": 1}


# -- as a Pydantic field ----------------------------------------------------------------


class Entry(pydantic.BaseModel):
    namespace: NamespaceId
    metadata: NamespaceMetadata


def test_metadata_is_a_pydantic_field_that_serialises_to_an_object() -> None:
    entry = Entry.model_validate_json('{"namespace": "D4RL", "metadata": {"description": "d"}}')
    assert entry.metadata == NamespaceMetadata("d")
    assert entry.model_dump_json() == '{"namespace":"D4RL","metadata":{"description":"d"}}'
    with pytest.raises(pydantic.ValidationError) as info:
        Entry(namespace=NamespaceId("D4RL"), metadata={"x": float("nan")})  # type: ignore[arg-type]
    (error,) = info.value.errors()
    assert "NaN" in error["msg"]
    with pytest.raises(pydantic.ValidationError) as info:
        Entry(namespace=NamespaceId("D4RL"), metadata=[1])  # type: ignore[arg-type]
    assert [error["type"] for error in info.value.errors()] == ["dict_type"]


def test_no_temporary_files_are_left_after_a_refused_update(
    service: NamespaceService, root: Path
) -> None:
    service.create("a")
    with pytest.raises(InvalidMetadataError):
        service.replace("a", {"blob": "x" * MIB})
    assert os.listdir(root / "a") == [MARKER]


def test_equal_metadata_hashes_alike_whatever_the_key_order_or_number_type() -> None:
    """Issue 10, defect 14: equal objects with keys in another order hashed differently."""
    one = NamespaceMetadata.from_dict({"a": 1, "b": {"x": [1, {"y": None}], "z": True}})
    other = NamespaceMetadata.from_dict({"b": {"z": True, "x": [1, {"y": None}]}, "a": 1})
    assert one == other
    assert hash(one) == hash(other)
    assert len({one, other}) == 1
    number = NamespaceMetadata.from_dict({"n": 1})
    assert number == NamespaceMetadata.from_dict({"n": 1.0})
    assert hash(number) == hash(NamespaceMetadata.from_dict({"n": 1.0}))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"description": 5}',
        b'{"description": ["x"], "k": 1}',
        b'{"x": ' + b"[" * 65 + b"]" * 65 + b"}",
        b'{"emoji": "\\ud83e\\udd16"}',
    ],
    ids=["number-description", "list-description", "nested-65", "escaped-pair"],
)
def test_everything_minari_can_write_is_readable(raw: bytes) -> None:
    """Issue 10, defect 5: Minari writes any JSON value as the description and any
    nesting; reading it raised CorruptMetadataError and broke whole-tree commands."""
    stored = read_back(raw)
    assert stored.to_dict() == json.loads(raw)
    assert stored.description is None or isinstance(stored.description, str)
    assert stored.to_json_bytes() == json.dumps(json.loads(raw)).encode()
    assert stored.merged({"k": 2}).to_dict() == {**json.loads(raw), "k": 2}


def test_what_is_written_can_be_read_back_within_the_read_limits() -> None:
    """Issue 25, medium 5: integers are held to the read limit on write too, so
    that no namespace is written that its own store would refuse to read."""
    longest = int("9" * MAX_INT_DIGITS)
    assert read_back(NamespaceMetadata(n=longest).to_json_bytes())["n"] == longest
    with pytest.raises(InvalidMetadataError, match="digits"):
        NamespaceMetadata(n=longest + 1)
    with pytest.raises(CorruptMetadataError, match="digits"):
        read_back(b'{"n": -' + b"9" * (MAX_INT_DIGITS + 1) + b"}")
    deepest = json.loads("[" * (MAX_READ_NESTING - 1) + "]" * (MAX_READ_NESTING - 1))
    assert read_back(json.dumps({"x": deepest}).encode())["x"] == deepest
    with pytest.raises(CorruptMetadataError, match="deeper than"):
        read_back(json.dumps({"x": [deepest]}).encode())
