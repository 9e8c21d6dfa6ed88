"""The HTTP side of the stand-in Hub: routes, the Hub's JSON answers, status
codes, and the faults a test asks for.

:class:`HubHttpServer` serves a :class:`~minari_namespaces.testing.hub.model.HubModel`
and answers as the Hub does (JSON bodies, ``Link`` paging, ranges, ``X-Error-Code``
headers, Git LFS through :mod:`~minari_namespaces.testing.hub.lfs`), mapping the
model's errors to statuses. Its :class:`Traffic` counts
requests per route and holds the :class:`Fault` each of the next requests of a
route meets: an error answer before anything changes, a request that takes effect
and whose answer is then replaced or lost (the connection dropped after the body
was read), a throttling 429 with ``Retry-After``, a slow answer. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, quote, unquote, urlsplit

from minari_namespaces.testing.hub import lfs as hublfs
from minari_namespaces.testing.hub.lfs import Reply, json_reply
from minari_namespaces.testing.hub.model import (
    Blob,
    EntryNotFoundError,
    FileTooLargeError,
    HubModel,
    HubModelError,
    LfsObjectError,
    LfsReference,
    RepoExistsError,
    RepoNotFoundError,
    Repository,
    RevisionNotFoundError,
    StaleParentError,
    blob_id,
)

__all__ = ["Fault", "HubHttpServer", "HubRequestHandler", "Traffic"]

_PAGE: Final = 1000
#: The Hub's answer to each of the model's refusals: status and ``X-Error-Code``.
_STATUS: Final[dict[type[HubModelError], tuple[int, str | None]]] = {
    RepoNotFoundError: (404, "RepoNotFound"),
    RevisionNotFoundError: (404, "RevisionNotFound"),
    EntryNotFoundError: (404, "EntryNotFound"),
    RepoExistsError: (409, None),
    StaleParentError: (412, None),
    LfsObjectError: (422, None),
    FileTooLargeError: (400, None),
}


@dataclass(frozen=True)
class Fault:
    """What one request meets instead of a plain answer.

    Attributes:
        status: The status answered instead (``None``: the real answer).
        drop: Close the connection without answering (after reading the body).
        applied: Let the request take effect first: its answer is what gets lost.
        retry_after: A ``Retry-After`` header for the error answer.
        delay: Seconds to wait before answering.
    """

    status: int | None = 500
    drop: bool = False
    applied: bool = False
    retry_after: str | None = None
    delay: float = 0.0


class HttpError(Exception):
    """An error answer decided by the HTTP layer itself (a bad route)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Traffic:
    """Requests counted per route, the faults waiting for them, and every
    ``Authorization`` header received (to check a token was sent)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._faults: dict[str, list[Fault]] = {}
        self.authorizations: list[str] = []

    def add(self, route: str, fault: Fault, times: int = 1) -> None:
        """Give each of the next ``times`` requests of ``route`` the ``fault``."""
        with self._lock:
            self._faults.setdefault(route, []).extend([fault] * times)

    def arrived(self, route: str, authorization: str | None) -> Fault | None:
        """Count a request of ``route``; the fault it meets, if any."""
        with self._lock:
            self._counts[route] += 1
            if authorization:
                self.authorizations.append(authorization)
            pending = self._faults.get(route)
            return pending.pop(0) if pending else None

    def take_counts(self) -> Counter[str]:
        """Requests per route since the last call."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return counts

    def reset(self) -> None:
        """Forget every count, fault and header."""
        with self._lock:
            self._counts.clear()
            self._faults.clear()
            self.authorizations.clear()


class HubHttpServer(ThreadingHTTPServer):
    """A threaded HTTP server answering for ``model`` (daemon threads).

    Args:
        model: The repositories served.
        sock: A listening socket already bound (``None``: a free port on 127.0.0.1).
    """

    daemon_threads = True

    #: The listen backlog: socketserver's default of 5 drops connection attempts of
    #: concurrent clients, which then wait a second to retry.
    request_queue_size = 128

    def __init__(self, model: HubModel, sock: socket.socket | None = None) -> None:
        super().__init__(("127.0.0.1", 0), HubRequestHandler, bind_and_activate=False)
        if sock is None:
            self.server_bind()
            self.server_activate()
        else:
            self.socket.close()
            self.socket = sock
            self.server_address = sock.getsockname()
        self.model = model
        self.traffic = Traffic()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about a client that stopped waiting (a slow answer's broken
        pipe); any other failure is printed as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def endpoint(self) -> str:
        """The base URL (``http://127.0.0.1:PORT``)."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def _error_reply(status: int, message: str, code: str | None = None) -> Reply:
    # Header values are Latin-1 on the wire; paths in messages may be any text.
    headers = {"X-Error-Message": message.encode("ascii", "backslashreplace").decode()}
    if code:
        headers["X-Error-Code"] = code
    return json_reply(status, {"error": message}, headers)


def _info(repo: Repository, oid: str, files: dict[str, Blob]) -> dict[str, Any]:
    return {
        "_id": hashlib.md5(repo.repo_id.encode(), usedforsecurity=False).hexdigest()[:24],
        "id": repo.repo_id,
        "author": repo.repo_id.split("/")[0],
        "sha": oid,
        "private": False,
        "disabled": False,
        "gated": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "lastModified": "2026-01-01T00:00:00.000Z",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "siblings": [{"rfilename": path} for path in sorted(files)],
    }


def _folders(files: dict[str, Blob]) -> set[str]:
    return {"/".join(n.split("/")[:d]) for n in files for d in range(1, n.count("/") + 1)}


def _file_entry(path: str, blob: Blob) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "file", "oid": blob.oid, "size": len(blob.data), "path": path}
    if blob.pointer is not None:
        entry["lfs"] = {
            "oid": blob.sha256,
            "size": len(blob.data),
            "pointerSize": len(blob.pointer),
        }
    return entry


def _folder_entry(path: str) -> dict[str, Any]:
    return {"type": "directory", "oid": blob_id(path.encode()), "size": 0, "path": path}


class HubRequestHandler(BaseHTTPRequestHandler):
    """Answers one request for the :class:`HubHttpServer` it belongs to."""

    server_version = "HubStandIn/1"
    server: HubHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read counts, not logs."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # -- plumbing --------------------------------------------------------------

    def _body(self) -> bytes:
        if not hasattr(self, "_read_body"):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._read_body = self._chunked()
            else:
                length = int(self.headers.get("Content-Length") or 0)
                self._read_body = self.rfile.read(length) if length else b""
        return self._read_body

    def _chunked(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline().strip():
            pass  # trailers
        return b"".join(chunks)

    def _json(self) -> dict[str, Any]:
        raw = self._body()
        if not raw:
            return {}
        loaded = json.loads(raw)
        return loaded if isinstance(loaded, dict) else {}

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _drop(self) -> None:
        self._body()  # the request was read in full: only its answer is lost
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _page(self, items: list[Any], start: int) -> Reply:
        headers = {}
        if start + _PAGE < len(items):
            split = urlsplit(self.path)
            query = {k: v for k, v in parse_qs(split.query).items() if k != "cursor"}
            query["cursor"] = [str(start + _PAGE)]
            encoded = "&".join(f"{k}={quote(v)}" for k, vs in query.items() for v in vs)
            headers["Link"] = f'<{self.server.endpoint}{split.path}?{encoded}>; rel="next"'
        return json_reply(200, items[start : start + _PAGE], headers)

    @staticmethod
    def _route(method: str, parts: list[str]) -> str:
        """The route's name, as :meth:`Traffic.take_counts` reports it."""
        if parts[:1] != ["api"]:
            return hublfs.route(method, parts) or "resolve"
        fixed = {
            ("repos", "create"): "create_repo",
            ("repos", "delete"): "delete_repo",
            ("agent-harnesses",): "agent_harnesses",
        }
        named = fixed.get(tuple(parts[1:3]))
        if named is not None:
            return named
        if len(parts) == 2:
            return "list_repos"
        if len(parts) > 4 and parts[4] in ("tree", "preupload", "commit", "paths-info"):
            return parts[4].replace("-", "_")
        return "repo_info"

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        parts = [unquote(part) for part in split.path.strip("/").split("/")]
        route = self._route(method, parts)
        fault = self.server.traffic.arrived(route, self.headers.get("Authorization"))
        if fault is not None and not fault.applied and (fault.drop or fault.status is not None):
            time.sleep(fault.delay)
            self._fail(route, fault)
            return
        try:
            reply = self._answer(method, route, parts, parse_qs(split.query))
        except HubModelError as refused:
            status, code = _STATUS.get(type(refused), (400, None))
            reply = _error_reply(status, str(refused), code)
        except HttpError as refused:
            reply = _error_reply(refused.status, str(refused))
        if fault is not None:
            # A slow answer: the work is done, only the answer is late (a client
            # that stops waiting has lost the answer of a request that took effect).
            time.sleep(fault.delay)
        if fault is not None and (fault.drop or fault.status is not None):
            self._fail(route, fault)  # it took effect; its answer is lost
            return
        self._write(reply)

    def _fail(self, route: str, fault: Fault) -> None:
        if fault.drop:
            self._drop()
            return
        self._body()
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        reply = _error_reply(int(fault.status or 500), f"Injected failure of {route}.")
        reply.headers.update(headers)
        self._write(reply)

    def _answer(
        self, method: str, route: str, parts: list[str], query: dict[str, list[str]]
    ) -> Reply:
        if route in ("create_repo", "delete_repo"):
            return self._create_or_delete(route)
        if route == "agent_harnesses":
            # The client asks which AI-agent harnesses to detect; this Hub knows none.
            return json_reply(200, {"standardEnvVars": [], "harnesses": {}})
        if route == "list_repos":
            if parts[1] not in ("datasets", "models", "spaces"):
                raise HttpError(404, "Not found")
            return self._list(parts[1].rstrip("s"), query)
        if parts[:1] != ["api"]:
            return self._outside_api(method, route, parts, query)
        kind, repo_id = parts[1].rstrip("s"), f"{parts[2]}/{parts[3]}"
        if route == "repo_info":
            revision = parts[5] if len(parts) > 5 and parts[4] == "revision" else "main"
            return self._repo_info(kind, repo_id, revision)
        answers = {
            "tree": self._tree,
            "paths_info": self._paths_info,
            "preupload": self._preupload,
            "commit": self._commit,
        }
        return answers[route](kind, repo_id, parts[5], parts[6:], query)

    def _create_or_delete(self, route: str) -> Reply:
        model = self.server.model
        body = self._json()
        kind = str(body.get("type") or "model")
        name, org = str(body.get("name", "")), body.get("organization")
        repo_id = f"{org}/{name}" if org else name
        if route == "delete_repo":
            model.delete(kind, repo_id)
            return json_reply(200, {})
        prefix = f"{kind}s/" if kind != "model" else ""
        url = f"{self.server.endpoint}/{prefix}{repo_id}"
        try:
            model.create(kind, repo_id)
        except RepoExistsError as exists:
            return json_reply(409, {"error": str(exists), "url": url})
        return json_reply(200, {"url": url, "name": repo_id, "id": repo_id})

    def _repo_info(self, kind: str, repo_id: str, revision: str) -> Reply:
        model = self.server.model
        oid, files = model.snapshot(kind, repo_id, revision)
        return json_reply(200, _info(model.repository(kind, repo_id), oid, files))

    def _tree(
        self, kind: str, repo_id: str, revision: str, rest: list[str], query: dict[str, list[str]]
    ) -> Reply:
        recursive = (query.get("recursive") or ["false"])[0].lower() in ("1", "true")
        start = int((query.get("cursor") or ["0"])[0])
        _, files = self.server.model.snapshot(kind, repo_id, revision)
        path = "/".join(rest)
        prefix = f"{path}/" if path else ""
        folders = _folders(files)
        if path and path not in folders:
            raise EntryNotFoundError(f"Entry not found: {path}")

        def wanted(name: str) -> bool:
            return name.startswith(prefix) and (recursive or "/" not in name[len(prefix) :])

        entries = [_folder_entry(name) for name in sorted(folders) if wanted(name)] + [
            _file_entry(name, files[name]) for name in sorted(files) if wanted(name)
        ]
        return self._page(entries, start)

    def _preupload(
        self, kind: str, repo_id: str, revision: str, rest: list[str], query: dict[str, list[str]]
    ) -> Reply:
        model = self.server.model
        oid, files = model.snapshot(kind, repo_id, revision)
        answers = []
        for entry in self._json().get("files", []):
            path = str(entry["path"])
            sample = base64.b64decode(str(entry.get("sample") or ""))
            lfs = model.wants_lfs(kind, repo_id, path, int(entry.get("size") or 0), sample)
            held = files.get(path)
            # The remote oid the client compares with its own: sha256 for LFS, else git's.
            known = None if held is None else (held.sha256 or held.oid)
            answers.append(
                {
                    "path": path,
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": known,
                }
            )
        return json_reply(200, {"files": answers, "commitOid": oid})

    def _list(self, kind: str, query: dict[str, list[str]]) -> Reply:
        author = next(iter(query.get("author", [])), None)
        searches = query.get("search", [])
        start = int((query.get("cursor") or ["0"])[0])
        found = [
            _info(repo, *repo.head)
            for repo in self.server.model.repositories(kind)
            if (author is None or repo.repo_id.split("/")[0] == author)
            and all(text.lower() in repo.repo_id.lower() for text in searches)
        ]
        return self._page(found, start)

    def _paths_info(
        self, kind: str, repo_id: str, revision: str, rest: list[str], query: dict[str, list[str]]
    ) -> Reply:
        _, files = self.server.model.snapshot(kind, repo_id, revision)
        body = self._body().decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            paths = [str(p) for p in json.loads(body).get("paths", [])]
        else:
            paths = parse_qs(body).get("paths", [])
        folders = _folders(files)
        found = [
            _file_entry(path, files[path]) if path in files else _folder_entry(path)
            for path in paths
            if path in files or path in folders
        ]
        return json_reply(200, found)

    def _commit(
        self, kind: str, repo_id: str, revision: str, rest: list[str], query: dict[str, list[str]]
    ) -> Reply:
        header: dict[str, Any] = {}
        adds: dict[str, bytes | LfsReference] = {}
        deletes: list[tuple[str, bool]] = []
        for line in (json.loads(raw) for raw in self._body().splitlines() if raw.strip()):
            key, value = line.get("key"), line.get("value", {})
            if key == "header":
                header = value
            elif key == "file":
                adds[str(value["path"])] = base64.b64decode(value["content"])
            elif key == "lfsFile":
                size = value.get("size")
                adds[str(value["path"])] = LfsReference(str(value["oid"]), size)
            elif key in ("deletedFile", "deletedFolder"):
                deletes.append((str(value["path"]).rstrip("/"), key == "deletedFolder"))
            else:
                raise HttpError(400, f"Unsupported commit operation {key!r} on this stand-in Hub.")
        model = self.server.model
        model.repository(kind, repo_id)
        if revision != "main":
            raise RevisionNotFoundError(f"Invalid rev id: {revision}")
        parent = header.get("parentCommit")
        oid = model.commit(kind, repo_id, adds, deletes, None if parent is None else str(parent))
        prefix = f"{kind}s/" if kind != "model" else ""
        return json_reply(
            200,
            {
                "success": True,
                "commitOid": oid,
                "commitUrl": f"{self.server.endpoint}/{prefix}{repo_id}/commit/{oid}",
                "hookOutput": "",
            },
        )

    def _resolve(self, parts: list[str]) -> Reply:
        # /datasets/ORG/NAME/resolve/REV/PATH (models have no type prefix).
        if parts[0] in ("datasets", "spaces"):
            kind, parts = parts[0].rstrip("s"), parts[1:]
        else:
            kind = "model"
        if len(parts) < 5 or parts[2] != "resolve":
            raise HttpError(404, "Not found")
        repo_id, revision, path = f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])
        oid, files = self.server.model.snapshot(kind, repo_id, revision)
        if path not in files:
            raise EntryNotFoundError(f"Entry not found: {path}")
        blob = files[path]
        headers = {"X-Repo-Commit": oid, "ETag": f'"{blob.oid}"'}
        if blob.sha256 is not None:
            # As the Hub: a redirect to the object's CDN address, which carries the
            # file's own ETag and size for a client that does not follow it.
            target = hublfs.object_path(kind, repo_id, blob.sha256)
            headers["Location"] = f"{hublfs.cdn_base(self.server.endpoint)}{target}"
            headers["X-Linked-Etag"] = f'"{blob.sha256}"'
            headers["X-Linked-Size"] = str(len(blob.data))
            return Reply(302, headers)
        headers["Content-Type"] = "application/octet-stream"
        return hublfs.ranged(blob.data, self.headers.get("Range", ""), headers)

    def _outside_api(
        self, method: str, route: str, parts: list[str], query: dict[str, list[str]]
    ) -> Reply:
        if route == "resolve":
            return self._resolve(parts)
        if route in ("cdn", "lfs_upload"):
            return self._cdn(method, parts, query)
        # /datasets/ORG/NAME.git/info/lfs/objects/{batch,verify} (models: no prefix)
        kind = parts[0].rstrip("s") if parts[0] in ("datasets", "spaces") else "model"
        repo_id = "/".join(parts[0 if kind == "model" else 1 : -4]).removesuffix(".git")
        model, request = self.server.model, self._json()
        if route == "lfs_batch":
            return hublfs.batch(model, kind, repo_id, request, self.server.endpoint)
        return hublfs.verify(model, kind, repo_id, request)

    def _cdn(self, method: str, parts: list[str], query: dict[str, list[str]]) -> Reply:
        # /cdn-lfs/KINDs/ORG/NAME/SHA256
        if len(parts) != 5:
            raise HttpError(404, "Not found")
        kind, repo_id, sha256 = parts[1].rstrip("s"), f"{parts[2]}/{parts[3]}", parts[4]
        model = self.server.model
        if method == "PUT":
            size = query.get("size")
            expected = int(size[0]) if size else None
            return hublfs.store(model, kind, repo_id, sha256, self._body(), size=expected)
        data = model.lfs_object(kind, repo_id, sha256)
        if data is None:
            raise HttpError(404, f"No such object: {sha256}")
        headers = {"ETag": f'"{sha256}"', "Content-Type": "application/octet-stream"}
        return hublfs.ranged(data, self.headers.get("Range", ""), headers)
