"""The one rule by which messages, warnings and reports shorten a long list of names."""

from __future__ import annotations

from minari_namespaces.errors import first_few


def test_a_short_list_is_shown_whole_with_nothing_more() -> None:
    assert first_few(["a", "b"], 5) == (["a", "b"], "")
    assert first_few([], 5) == ([], "")


def test_a_long_list_shows_the_first_n_and_counts_the_rest() -> None:
    names = [f"n{i}" for i in range(12)]
    assert first_few(names, 10) == (names[:10], " and 2 more")
    assert first_few(names, 5) == (names[:5], " and 7 more")


def test_none_shows_every_name_and_large_counts_are_grouped() -> None:
    names = [str(i) for i in range(2_000)]
    assert first_few(names, None) == (names, "")
    assert first_few(names, 10)[1] == " and 1,990 more"
