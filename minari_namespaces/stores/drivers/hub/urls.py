"""What an ``hf://`` URL names: the organisation, and whether a top-level namespace
can be one of its dataset repositories (the Hub's rule for repository names)."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["hub_repo_name_problem", "organisation_of"]

_REPO_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]{1,96}")


def hub_repo_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a Hub repository name (the Hub's own rule, as
    ``huggingface_hub.utils.validate_repo_id`` checks it), or ``None``."""
    if not _REPO_NAME.fullmatch(name):
        return "use 1 to 96 ASCII letters, digits, '-', '_' or '.'"
    if "--" in name or ".." in name:
        return "'--' and '..' are not allowed"
    if name[0] in "-." or name[-1] in "-.":
        return "it may not start or end with '-' or '.'"
    if name.endswith(".git"):
        return "it may not end with '.git'"
    return None


def organisation_of(url: str) -> str:
    """The user or organisation of ``hf://ORG`` (or ``hf://datasets/ORG``).

    Raises:
        ValueError: If the URL names no organisation.
    """
    rest = url.split("://", 1)[1].strip("/")
    rest = rest.removeprefix("datasets/")
    if not rest or "/" in rest or hub_repo_name_problem(rest):
        raise ValueError(
            "a Hugging Face remote is 'hf://ORG' (or 'hf://datasets/ORG'), ORG being a "
            "user or organisation name"
        )
    return rest
