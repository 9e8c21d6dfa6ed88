"""The behaviour every ``NamespaceRepository`` must show, as a reusable pytest suite.

Run it against your own repository by subclassing :class:`NamespaceRepositoryContract`
and providing a ``harness`` fixture::

    import pytest
    from minari_namespaces.testing.contract import NamespaceRepositoryContract, RepositoryHarness

    class TestMyRepository(NamespaceRepositoryContract):
        @pytest.fixture
        def harness(self, tmp_path):
            repository = MyRepository(tmp_path)
            return RepositoryHarness(
                repository=repository,
                add_dataset=lambda ns, name: ...,   # put a dataset folder inside ns
                write_marker=lambda ns, raw: ...,   # store raw bytes as ns's marker
                write_dataset_metadata=lambda ns, name, raw: ...,  # its data/metadata.json
            )

Requires ``pytest`` (the ``testing`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from minari_namespaces.errors import (
    CorruptMetadataError,
    InvalidNamespaceError,
    NamespaceConflictError,
    NamespaceError,
    NamespaceExistsError,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
)
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository
from minari_namespaces.testing.dataset_contract import DatasetListingContract
from minari_namespaces.testing.harness import RepositoryHarness
from minari_namespaces.testing.transfer_contract import DatasetTransferContract

__all__ = ["NamespaceRepositoryContract", "RepositoryHarness"]


def ns(text: str) -> NamespaceId:
    return NamespaceId(text)


EMPTY = NamespaceMetadata()


class NamespaceRepositoryContract(DatasetListingContract, DatasetTransferContract):
    """The repository contract; subclass it and define the ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> RepositoryHarness:
        raise NotImplementedError("define a 'harness' fixture returning a RepositoryHarness")

    @pytest.fixture
    def repo(self, harness: RepositoryHarness) -> NamespaceRepository:
        return harness.repository

    # -- an empty store ----------------------------------------------------

    def test_a_new_store_is_empty(self, repo: NamespaceRepository) -> None:
        assert repo.list_namespaces() == []
        assert repo.children() == []
        assert not repo.exists(ns("D4RL"))
        assert repo.get_many([ns("D4RL")]) == {}

    def test_url_is_a_plain_string(self, repo: NamespaceRepository) -> None:
        assert isinstance(repo.url, str)
        assert repo.url

    # -- create and get ----------------------------------------------------

    def test_created_namespace_reads_back_exactly(self, repo: NamespaceRepository) -> None:
        data = {"description": "Door tasks", "tags": ["a", 1, 2.5, None, True], "n": {"x": 1}}
        repo.create(ns("D4RL"), NamespaceMetadata.from_dict(data))
        assert repo.exists(ns("D4RL"))
        assert repo.get(ns("D4RL")).to_dict() == data

    def test_metadata_without_description_has_no_description_key(
        self, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("plain"), NamespaceMetadata(author="me"))
        stored = repo.get(ns("plain"))
        assert stored.to_dict() == {"author": "me"}
        assert stored.description is None

    def test_explicit_null_description_is_kept(self, repo: NamespaceRepository) -> None:
        repo.create(ns("nulls"), NamespaceMetadata.from_dict({"description": None}))
        assert repo.get(ns("nulls")).to_dict() == {"description": None}

    def test_unicode_ids_round_trip(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        top = "u/" if harness.ascii_top_level else ""
        ids = [ns(f"{top}café"), ns(f"{top}café/données-1"), ns(f"{top}日本/ロボット_2")]
        for one in ids:
            repo.create(one, NamespaceMetadata(description=str(one)))
        assert repo.list_namespaces() == sorted(ids)
        for one in ids:
            assert repo.get(one).description == str(one)
        assert repo.exists(ns(f"{top}cafe\u0301"))

    def test_a_top_level_name_is_held_or_refused_before_anything_is_written(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        names = [ns(text) for text in ("café", "-lead", "trail-", "a--b")]
        for name in names:
            if not harness.ascii_top_level:
                repo.create(name, EMPTY)
                continue
            with pytest.raises(InvalidNamespaceError, match="Malformed namespace"):
                repo.create(name, EMPTY)
            with pytest.raises(InvalidNamespaceError, match="Malformed namespace"):
                repo.create_many([(name, EMPTY), (name / "child", EMPTY)])
        assert repo.list_namespaces() == ([] if harness.ascii_top_level else sorted(names))

    def test_deepest_and_longest_ids_work(self, repo: NamespaceRepository) -> None:
        deep = NamespaceId("/".join(f"l{i}" for i in range(16)))
        long = NamespaceId("x" * 96)
        repo.create(deep, EMPTY)
        repo.create(long, EMPTY)
        assert repo.exists(deep)
        assert repo.exists(long)
        assert set(repo.list_namespaces()) == {deep, long}

    def test_create_twice_raises_exists_and_keeps_the_first(
        self, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("a"), NamespaceMetadata(description="first"))
        with pytest.raises(NamespaceExistsError, match="already exists"):
            repo.create(ns("a"), NamespaceMetadata(description="second"))
        assert repo.get(ns("a")).description == "first"

    def test_a_child_can_be_created_without_its_parent(self, repo: NamespaceRepository) -> None:
        repo.create(ns("p/c"), EMPTY)
        assert repo.list_namespaces() == [ns("p/c")]
        assert not repo.exists(ns("p"))
        repo.create(ns("p"), EMPTY)
        assert repo.list_namespaces() == [ns("p"), ns("p/c")]

    def test_create_many_creates_in_order_and_returns_those_that_existed(
        self, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("a/b"), NamespaceMetadata(description="kept"))
        existed = repo.create_many(
            [
                (ns("a"), NamespaceMetadata(description="A")),
                (ns("a/b"), NamespaceMetadata(description="replaced?")),
                (ns("a/b/c"), NamespaceMetadata(description="C")),
                (ns("z"), EMPTY),
            ]
        )
        assert existed == [ns("a/b")]
        assert repo.list_namespaces() == [ns("a"), ns("a/b"), ns("a/b/c"), ns("z")]
        assert repo.get(ns("a/b")).description == "kept"
        assert repo.get(ns("a/b/c")).description == "C"
        assert repo.create_many([]) == []

    def test_create_many_refuses_conflicts_before_writing_anything(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("a"), EMPTY)
        repo.create(ns("a/door"), EMPTY)
        harness.add_dataset(ns("a"), "pen-v0")
        with pytest.raises(NamespaceConflictError):
            repo.create_many([(ns("a/pen-v0/inner"), EMPTY)])
        with pytest.raises(NamespaceConflictError, match="case"):
            repo.create_many([(ns("a/Door"), EMPTY)])
        with pytest.raises(NamespaceConflictError, match="case"):
            repo.create_many([(ns("b"), EMPTY), (ns("A"), EMPTY)])
        with pytest.raises(NamespaceConflictError, match="case"):
            repo.create_many([(ns("x"), EMPTY), (ns("x/y"), EMPTY), (ns("X/z"), EMPTY)])
        assert repo.list_namespaces() == [ns("a"), ns("a/door")]

    def test_get_missing_raises_not_found(self, repo: NamespaceRepository) -> None:
        with pytest.raises(NamespaceNotFoundError, match="does not exist") as info:
            repo.get(ns("missing"))
        assert isinstance(info.value, LookupError)
        assert isinstance(info.value, ValueError)

    def test_get_many_returns_present_and_omits_missing(self, repo: NamespaceRepository) -> None:
        repo.create(ns("a"), NamespaceMetadata(description="A"))
        repo.create(ns("a/b"), NamespaceMetadata(description="B"))
        found = repo.get_many([ns("a"), ns("missing"), ns("a/b"), ns("a/zz")])
        assert found == {
            ns("a"): NamespaceMetadata(description="A"),
            ns("a/b"): NamespaceMetadata(description="B"),
        }
        assert repo.get_many([]) == {}

    # -- replace and modify ------------------------------------------------

    def test_replace_overwrites_everything(self, repo: NamespaceRepository) -> None:
        repo.create(ns("a"), NamespaceMetadata(description="old", keep="no"))
        repo.replace(ns("a"), NamespaceMetadata(other=1))
        assert repo.get(ns("a")).to_dict() == {"other": 1}

    def test_replace_missing_raises_not_found(self, repo: NamespaceRepository) -> None:
        with pytest.raises(NamespaceNotFoundError):
            repo.replace(ns("missing"), EMPTY)
        assert not repo.exists(ns("missing"))

    def test_modify_applies_the_change_and_returns_it(self, repo: NamespaceRepository) -> None:
        repo.create(ns("a"), NamespaceMetadata(description="d", x=1))
        result = repo.modify(ns("a"), lambda current: current.merged({"y": 2}, ["x"]))
        assert result.to_dict() == {"description": "d", "y": 2}
        assert repo.get(ns("a")) == result

    def test_modify_missing_raises_not_found(self, repo: NamespaceRepository) -> None:
        with pytest.raises(NamespaceNotFoundError):
            repo.modify(ns("missing"), lambda current: current)

    # -- delete ------------------------------------------------------------

    def test_delete_removes_an_empty_namespace(self, repo: NamespaceRepository) -> None:
        repo.create(ns("a"), EMPTY)
        repo.create(ns("a/b"), EMPTY)
        repo.delete(ns("a/b"))
        assert repo.list_namespaces() == [ns("a")]
        assert not repo.exists(ns("a/b"))
        repo.delete(ns("a"))
        assert repo.list_namespaces() == []

    def test_a_deleted_namespace_can_be_created_again(self, repo: NamespaceRepository) -> None:
        repo.create(ns("a"), NamespaceMetadata(description="one"))
        repo.delete(ns("a"))
        repo.create(ns("a"), NamespaceMetadata(description="two"))
        assert repo.get(ns("a")).description == "two"

    def test_delete_missing_raises_not_found(self, repo: NamespaceRepository) -> None:
        with pytest.raises(NamespaceNotFoundError):
            repo.delete(ns("missing"))

    def test_delete_refuses_a_namespace_with_children(self, repo: NamespaceRepository) -> None:
        repo.create(ns("a"), EMPTY)
        repo.create(ns("a/b"), EMPTY)
        with pytest.raises(NamespaceNotEmptyError, match="not empty"):
            repo.delete(ns("a"))
        assert repo.list_namespaces() == [ns("a"), ns("a/b")]

    def test_delete_refuses_a_namespace_with_a_dataset(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("a"), NamespaceMetadata(description="kept"))
        harness.add_dataset(ns("a"), "cartpole-v0")
        with pytest.raises(NamespaceNotEmptyError, match="not empty"):
            repo.delete(ns("a"))
        assert repo.get(ns("a")).description == "kept"

    # -- listing -----------------------------------------------------------

    def test_list_is_sorted_in_tree_order(self, repo: NamespaceRepository) -> None:
        names = ["b", "a/z", "a", "a-b", "a/b", "a/b/c", "A"]
        for name in names:
            if name == "A":
                continue
            repo.create(ns(name), EMPTY)
        listed = repo.list_namespaces()
        assert listed == sorted(ns(n) for n in names if n != "A")
        assert listed == sorted(listed, key=lambda one: one.parts)
        assert [str(x) for x in listed] == ["a", "a/b", "a/b/c", "a/z", "a-b", "b"]

    def test_list_with_prefix_returns_the_subtree_and_the_prefix(
        self, repo: NamespaceRepository
    ) -> None:
        for name in ["a", "a/b", "a/b/c", "a/bc", "ab", "z"]:
            repo.create(ns(name), EMPTY)
        assert repo.list_namespaces(ns("a/b")) == [ns("a/b"), ns("a/b/c")]
        assert repo.list_namespaces(ns("a")) == [ns("a"), ns("a/b"), ns("a/b/c"), ns("a/bc")]
        assert repo.list_namespaces(ns("missing")) == []

    def test_list_with_a_prefix_that_is_not_a_namespace(self, repo: NamespaceRepository) -> None:
        repo.create(ns("p/c"), EMPTY)
        assert repo.list_namespaces(ns("p")) == [ns("p/c")]

    def test_children_are_direct_only(self, repo: NamespaceRepository) -> None:
        for name in ["a", "a/b", "a/b/c", "a/d", "e"]:
            repo.create(ns(name), EMPTY)
        assert repo.children() == [ns("a"), ns("e")]
        assert repo.children(ns("a")) == [ns("a/b"), ns("a/d")]
        assert repo.children(ns("a/b/c")) == []
        assert repo.children(ns("missing")) == []

    # -- datasets ----------------------------------------------------------

    def test_datasets_are_not_namespaces(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("a"), EMPTY)
        harness.add_dataset(ns("a"), "door-v0")
        harness.add_dataset(None, "top-v0")
        assert repo.list_namespaces() == [ns("a")]
        assert repo.children(ns("a")) == []
        assert repo.children() == [ns("a")]
        assert not repo.exists(ns("a/door-v0"))
        assert repo.list_namespaces(ns("a/door-v0")) == []

    def test_has_datasets_sees_direct_datasets_only(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("a"), EMPTY)
        repo.create(ns("a/b"), EMPTY)
        assert not repo.has_datasets(ns("a"))
        harness.add_dataset(ns("a/b"), "door-v0")
        assert repo.has_datasets(ns("a/b"))
        assert not repo.has_datasets(ns("a"))
        assert not repo.has_datasets(ns("missing"))

    def test_no_namespace_inside_or_on_top_of_a_dataset(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("a"), EMPTY)
        harness.add_dataset(ns("a"), "door-v0")
        with pytest.raises(NamespaceConflictError):
            repo.create(ns("a/door-v0"), EMPTY)
        with pytest.raises(NamespaceConflictError):
            repo.create(ns("a/door-v0/inner"), EMPTY)
        assert repo.list_namespaces() == [ns("a")]

    def test_a_namespace_planted_inside_a_dataset_does_not_exist(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        if harness.write_marker is None:
            pytest.skip("this harness cannot plant raw markers")
        harness.add_dataset(None, "ds")
        harness.write_marker(ns("ds"), b"{}")
        harness.write_marker(ns("ds/inner"), b"{}")
        for planted in (ns("ds"), ns("ds/inner")):
            assert not repo.exists(planted)
            assert repo.get_many([planted]) == {}
            with pytest.raises(NamespaceNotFoundError):
                repo.get(planted)
            with pytest.raises(NamespaceNotFoundError):
                repo.modify(planted, lambda current: current)
        assert repo.list_namespaces() == []

    # -- the same words everywhere -------------------------------------------

    def test_every_store_says_the_same_words_for_the_same_situation(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("a"), EMPTY)
        repo.create(ns("a/b"), EMPTY)
        harness.add_dataset(ns("a"), "ds")
        scenarios: dict[str, Callable[[], object]] = {
            "missing": lambda: repo.get(ns("gone")),
            "exists": lambda: repo.create(ns("a"), EMPTY),
            "not empty": lambda: repo.delete(ns("a")),
            "case twin": lambda: repo.create(ns("a/B"), EMPTY),
            "inside a dataset": lambda: repo.create(ns("a/ds/inner"), EMPTY),
        }
        said: dict[str, tuple[str, str]] = {}
        for name, scenario in scenarios.items():
            with pytest.raises(NamespaceError) as caught:
                scenario()
            said[name] = (type(caught.value).__name__, str(caught.value).replace(repo.url, "<url>"))
        assert said == {
            "missing": (
                "NamespaceNotFoundError",
                "Namespace 'gone' does not exist in <url> (no namespace_metadata.json at "
                "<url>/gone). Create it first, or check the spelling.",
            ),
            "exists": ("NamespaceExistsError", "Namespace 'a' already exists in <url>."),
            "not empty": (
                "NamespaceNotEmptyError",
                "Namespace 'a' is not empty: <url>/a still holds b, ds. "
                "Delete its datasets and child namespaces first.",
            ),
            "case twin": (
                "NamespaceConflictError",
                "Cannot create namespace 'a/B': <url>/a/b differs from it only in letter case "
                "or Unicode form, which would collide on macOS and Windows. Rename one of them.",
            ),
            "inside a dataset": (
                "NamespaceConflictError",
                "Cannot create namespace 'a/ds/inner': it lies inside the dataset folder "
                "<url>/a/ds. Namespaces cannot be created in or on datasets.",
            ),
        }

    # -- portability -------------------------------------------------------

    def test_a_case_only_twin_is_refused(self, repo: NamespaceRepository) -> None:
        repo.create(ns("D4RL/door"), EMPTY)
        with pytest.raises(NamespaceConflictError, match="case"):
            repo.create(ns("D4RL/Door"), EMPTY)
        with pytest.raises(NamespaceConflictError, match="case"):
            repo.create(ns("d4rl"), EMPTY)
        assert repo.list_namespaces() == [ns("D4RL/door")]

    def test_a_deleted_namespace_leaves_no_case_twin_behind(
        self, repo: NamespaceRepository
    ) -> None:
        repo.create(ns("D4RL"), EMPTY)
        repo.create(ns("D4RL/door"), EMPTY)
        repo.delete(ns("D4RL/door"))
        repo.create(ns("D4RL/Door"), EMPTY)
        assert repo.list_namespaces() == [ns("D4RL"), ns("D4RL/Door")]

    # -- corrupt data ------------------------------------------------------

    @pytest.mark.parametrize(
        "raw",
        [
            b"{not json",
            b"[1, 2, 3]",
            b'"a string"',
            b"\xff\xfe\x00garbage",
            b'{"x": NaN}',
            b"",
        ],
        ids=["not-json", "array", "string", "not-utf8", "nan", "empty"],
    )
    def test_corrupt_metadata_raises_corrupt_naming_the_file(
        self, harness: RepositoryHarness, repo: NamespaceRepository, raw: bytes
    ) -> None:
        if harness.write_marker is None:
            pytest.skip("this harness cannot plant raw markers")
        harness.write_marker(ns("bad"), raw)
        with pytest.raises(CorruptMetadataError, match=r"namespace_metadata\.json"):
            repo.get(ns("bad"))

    def test_oversized_metadata_is_refused_on_read(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        if harness.write_marker is None:
            pytest.skip("this harness cannot plant raw markers")
        harness.write_marker(ns("big"), json.dumps({"x": "y" * (1024 * 1024)}).encode())
        with pytest.raises(CorruptMetadataError, match="1 MiB"):
            repo.get(ns("big"))
