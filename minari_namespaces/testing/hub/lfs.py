"""The stand-in Hub's Git LFS answers: the batch API, the object store behind it
(a CDN-like address on the same server), and byte ranges.

What ``huggingface_hub`` does with them (when it does not upload through Xet): the
commit's ``preupload`` call says which files go through LFS; the client posts their
sha256 and size to ``<repo>.git/info/lfs/objects/batch`` and, for each object the
repository lacks, PUTs the content to the ``upload`` address it is given (the basic
transfer: one request per object), then posts to ``verify``; the commit then names
the object in an ``lfsFile`` entry. Downloads of an LFS file are redirected from
``resolve`` to the object's address, which answers ``Range`` requests.

The object addresses use the host name ``localhost`` while the API answers on
``127.0.0.1``: the same server, but another origin to the client, which therefore
treats them as the Hub's CDN (it reads a file's metadata from the redirect itself
and sends no ``Authorization`` there), exactly as with ``cdn-lfs.hf.co``.
Standard library only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

from minari_namespaces.testing.hub.model import HubModel, LfsObjectError

__all__ = [
    "CDN_PREFIX",
    "Reply",
    "batch",
    "cdn_base",
    "json_reply",
    "object_path",
    "ranged",
    "route",
    "store",
    "verify",
]

#: The first path segment of the object store's addresses.
CDN_PREFIX: Final = "cdn-lfs"
_LFS_JSON: Final = "application/vnd.git-lfs+json"
_SHA256: Final = re.compile(r"[0-9a-f]{64}\Z")
_UNPROCESSABLE: Final = 422


@dataclass
class Reply:
    """One HTTP answer: status, headers (``Content-Length`` is added on sending), body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer."""
    return Reply(
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(payload).encode(),
    )


def route(method: str, parts: list[str]) -> str | None:
    """The name of an LFS route (``lfs_batch``, ``lfs_verify``, ``lfs_upload``,
    ``cdn``) for a request path's ``parts``; ``None`` for any other path."""
    if parts[:1] == [CDN_PREFIX]:
        return "lfs_upload" if method == "PUT" else "cdn"
    if len(parts) > 4 and parts[-5].endswith(".git") and parts[-4:-1] == ["info", "lfs", "objects"]:
        return f"lfs_{parts[-1]}"
    return None


def cdn_base(endpoint: str) -> str:
    """The object store's base URL for the API at ``endpoint`` (``127.0.0.1``):
    the same port under the name ``localhost``, another origin to the client."""
    return endpoint.replace("://127.0.0.1:", "://localhost:", 1)


def object_path(kind: str, repo_id: str, sha256: str) -> str:
    """The object store's path of an LFS object of ``repo_id``."""
    return f"/{CDN_PREFIX}/{kind}s/{quote(repo_id)}/{sha256}"


def batch(model: HubModel, kind: str, repo_id: str, request: Any, endpoint: str) -> Reply:
    """Answer the LFS batch API for an upload: per object, nothing to do (the
    repository holds it already), upload and verify addresses, or an error.

    Raises:
        RepoNotFoundError: If the repository does not exist.
    """
    model.repository(kind, repo_id)
    if not isinstance(request, dict) or request.get("operation") != "upload":
        return json_reply(
            _UNPROCESSABLE, {"message": "This stand-in Hub accepts uploads only."}, _lfs_type()
        )
    prefix = f"{kind}s/" if kind != "model" else ""
    answers = []
    for wanted in request.get("objects") or []:
        oid, size = wanted.get("oid"), wanted.get("size")
        if not (
            isinstance(oid, str) and _SHA256.match(oid) and isinstance(size, int) and size >= 0
        ):
            answers.append(
                {
                    "oid": str(oid),
                    "size": size if isinstance(size, int) else 0,
                    "error": {"code": _UNPROCESSABLE, "message": "Invalid oid or size."},
                }
            )
            continue
        held = model.lfs_object(kind, repo_id, oid)
        answer: dict[str, Any] = {"oid": oid, "size": size}
        if held is None or len(held) != size:
            href = f"{cdn_base(endpoint)}{object_path(kind, repo_id, oid)}?size={size}"
            verify_href = f"{endpoint}/{prefix}{repo_id}.git/info/lfs/objects/verify"
            answer["authenticated"] = True
            answer["actions"] = {
                "upload": {"href": href, "header": {}},
                "verify": {"href": verify_href, "header": {}},
            }
        answers.append(answer)
    return json_reply(200, {"transfer": "basic", "objects": answers}, _lfs_type())


def verify(model: HubModel, kind: str, repo_id: str, request: Any) -> Reply:
    """Answer the verify call after an upload: 200 if the object is held with that size.

    Raises:
        RepoNotFoundError: If the repository does not exist.
    """
    oid = request.get("oid") if isinstance(request, dict) else None
    size = request.get("size") if isinstance(request, dict) else None
    held = model.lfs_object(kind, repo_id, str(oid))
    if held is None or len(held) != size:
        return json_reply(404, {"message": f"Object {oid} of size {size} was not uploaded."})
    return json_reply(200, {"message": "Verified."})


def store(
    model: HubModel, kind: str, repo_id: str, sha256: str, data: bytes, *, size: int | None
) -> Reply:
    """Keep an uploaded object once its sha256 (and the size announced to the batch
    API) match: a mismatch is a 400 and nothing is kept.

    Raises:
        RepoNotFoundError: If the repository does not exist.
    """
    try:
        model.store_lfs_object(kind, repo_id, sha256, data, size)
    except LfsObjectError as refused:
        return Reply(400, {"Content-Type": "text/plain"}, str(refused).encode())
    return Reply(200, {"ETag": f'"{sha256}"'})


def ranged(data: bytes, wanted: str, headers: dict[str, str]) -> Reply:
    """``data`` whole (200) or the part a ``Range: bytes=...`` header asks for (206;
    416 when it starts past the end), with ``headers`` added."""
    headers = {**headers, "Accept-Ranges": "bytes"}
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
    if match is None or not data or match.group(0) == "bytes=-":
        return Reply(200, headers, data)
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
    else:  # a suffix: the last N bytes
        start, end = max(len(data) - int(last), 0), len(data) - 1
    if start >= len(data) or start > end:
        headers["Content-Range"] = f"bytes */{len(data)}"
        return Reply(416, headers)
    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
    return Reply(206, headers, data[start : end + 1])


def _lfs_type() -> dict[str, str]:
    return {"Content-Type": _LFS_JSON}
