"""The command without the ``[cli]`` extra: one line saying what to install, exit 1."""

from __future__ import annotations

import sys

import pytest

from minari_namespaces.cli import main


@pytest.mark.parametrize("missing", ["typer", "rich"])
def test_the_command_without_the_cli_extra_says_which_extra_to_install(
    missing: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [name for name in sys.modules if name.startswith("minari_namespaces.cli.")]:
        monkeypatch.delitem(sys.modules, name)
    # A None entry makes Python's import raise ModuleNotFoundError, as an absent package.
    for name in [name for name in sys.modules if name.partition(".")[0] == missing]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(sys, "argv", ["minari-namespaces", "list"])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    assert (exit_.value.code, out) == (1, "")
    assert err == (
        "Error: the minari-namespaces command needs the [cli] extra: "
        "pip install 'minari-namespaces[cli]'\n"
    )
