"""Credentials in store URLs and storage options, by one rule for the library and the
command line: what counts as a URL's user part (``user@`` or ``user:password@``), how
a URL is shown without it, and which storage options hold secrets.

A secret may hold any character, so a ``:`` anywhere before the last ``@`` is taken
for a password (``hf://user:tok/en@org``); a ``file:///path`` has no user part, and an
``@`` further down a path without a ``:`` before it (``s3://bucket/v@2``) is a key's
name.
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["carries_credentials", "carries_password", "redact", "secrets_of"]

#: Option names whose values are secrets (``key``, ``secret``, ``token``,
#: ``account_key``, ``sas_token``, ``connection_string``, ``credentials``, ...).
_SECRET_OPTION: Final = re.compile(
    r"key|secret|token|pass|credential|sas|connection_string|signature|auth", re.IGNORECASE
)


def _user_part(url: str) -> str | None:
    """What stands between ``scheme://`` and the ``@`` that ends the user part, or
    ``None`` if ``url`` has no user part."""
    _, separator, rest = url.partition("://")
    if not separator or rest.startswith("/"):
        return None
    before, at, _ = rest.rpartition("@")
    if at and ":" in before:
        return before
    user, at, _ = rest.split("/", 1)[0].rpartition("@")
    return user if at else None


def carries_credentials(url: str) -> bool:
    """Whether ``url`` holds a user or a password before an ``@``, whatever their
    characters: ``s3://KEY:SECRET@bucket``, ``s3://user@bucket``, and a secret with
    ``/``, ``@``, ``:`` or percent-escapes in it (``hf://user:tok/en@org``)."""
    return _user_part(url) is not None


def carries_password(url: str) -> bool:
    """Whether ``url`` holds ``user:password@`` after its scheme."""
    return ":" in (_user_part(url) or "")


def redact(url: str) -> str:
    """``url`` without its user part (user and password), to show in messages."""
    user = _user_part(url)
    if user is None:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest[len(user) + 1 :]}"


def secrets_of(options: dict[str, Any], *, secret: bool = False) -> list[str]:
    """The values of the options that hold secrets (by their names: keys, tokens,
    passwords, credentials, SAS, connection strings), nested ones included; an
    endpoint or a region is not a secret and stays readable in messages."""
    found: list[str] = []
    for name, value in options.items():
        hidden = secret or bool(_SECRET_OPTION.search(str(name)))
        if isinstance(value, str) and hidden and value:
            found.append(value)
        elif isinstance(value, dict):
            found.extend(secrets_of(value, secret=hidden))
        elif isinstance(value, (list, tuple)) and hidden:
            found.extend(str(item) for item in value if str(item))
    return found
