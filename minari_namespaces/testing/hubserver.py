"""A stand-in for the Hugging Face Hub on 127.0.0.1, for tests and demos.

It speaks the part of the Hub's HTTP API that ``huggingface_hub`` uses for dataset
repositories, as the client expects it (routes, JSON fields, headers, status codes
and ``X-Error-Code`` values), so the real client — and the real ``minari`` on top of
it — runs against it unchanged. Point the client at it with ``HF_ENDPOINT`` *before*
``huggingface_hub`` is imported (the client reads it once, at import)::

    with HubStandIn() as hub:
        os.environ["HF_ENDPOINT"] = hub.endpoint
        ...

Repositories live in memory with a linear history of commits (each a full
snapshot), so ``parent_commit`` checks, revisions and resolves behave as on the Hub.
Requests are counted per route (:meth:`HubStandIn.take_counts`), and faults can be
injected before a request changes anything (:meth:`HubStandIn.fail_next`).
Standard library only.

Run one in the foreground with ``python -m minari_namespaces.testing.hubserver``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final

from minari_namespaces.testing.hubhttp import HubError, HubRequestHandler, blob_id

__all__ = ["HubStandIn"]

_PAGE: Final = 1000
_GITATTRIBUTES: Final = b"*.h5 filter=lfs diff=lfs merge=lfs -text\n"
_STALE: Final = "A commit has happened since. Please refresh and try again."


@dataclass
class _Repo:
    """A repository: commits oldest first, each ``(oid, files)``."""

    kind: str
    repo_id: str
    history: list[tuple[str, dict[str, bytes]]] = field(default_factory=list)

    @property
    def head(self) -> tuple[str, dict[str, bytes]]:
        return self.history[-1]

    def at(self, revision: str) -> tuple[str, dict[str, bytes]] | None:
        if revision == "main":
            return self.head
        for oid, files in self.history:
            if oid == revision:
                return oid, files
        return None


class HubStandIn:
    """A threaded stand-in Hub on 127.0.0.1.

    Args:
        sock: A listening socket already bound on 127.0.0.1 (so ``HF_ENDPOINT`` can
            be set before the server starts); ``None`` binds a free port.
    """

    def __init__(self, sock: socket.socket | None = None) -> None:
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], _Repo] = {}
        self._counts: Counter[str] = Counter()
        self._faults: dict[str, list[int | None]] = {}
        self._commits = 0
        #: Every ``Authorization`` header received (to check a token was sent).
        self.authorizations: list[str] = []
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), HubRequestHandler, bind_and_activate=False
        )
        self._server.daemon_threads = True
        if sock is None:
            self._server.server_bind()
            self._server.server_activate()
        else:
            self._server.socket.close()
            self._server.socket = sock
            self._server.server_address = sock.getsockname()
        self._server.hub = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """The base URL to give ``HF_ENDPOINT`` (``http://127.0.0.1:PORT``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HubStandIn:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> HubStandIn:
        return self.start()

    @contextmanager
    def as_hf_endpoint(self, home: str | os.PathLike[str]) -> Iterator[None]:
        """Point ``huggingface_hub`` at this stand-in for the block, with its cache in
        ``home``; the environment is restored after. The client reads ``HF_ENDPOINT``
        when it is first imported, so import it only inside the block.

        Raises:
            RuntimeError: If ``huggingface_hub`` was imported already.
        """
        if "huggingface_hub" in sys.modules:
            raise RuntimeError("huggingface_hub is imported already: it reads HF_ENDPOINT once")
        saved = dict(os.environ)
        os.environ.update(
            {
                "HF_ENDPOINT": self.endpoint,
                "HF_HOME": os.fspath(home),
                "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            }
        )
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- for tests -------------------------------------------------------------

    def take_counts(self) -> Counter[str]:
        """Requests per route since the last call (``commit``, ``tree``, ...)."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return counts

    def fail_next(self, route: str, status: int | None = 500, times: int = 1) -> None:
        """Answer the next ``times`` requests of ``route`` with ``status`` before
        they change anything; ``status=None`` drops the connection unanswered."""
        with self._lock:
            self._faults.setdefault(route, []).extend([status] * times)

    def reset(self) -> None:
        """Forget every repository, count and fault."""
        with self._lock:
            self._repos.clear()
            self._counts.clear()
            self._faults.clear()
            self.authorizations.clear()

    def create_repo(self, repo_id: str, kind: str = "dataset") -> None:
        """Create a repository (with the Hub's ``.gitattributes``) if it is missing."""
        with self._lock:
            if (kind, repo_id) not in self._repos:
                repo = _Repo(kind, repo_id)
                self._append(repo, {".gitattributes": _GITATTRIBUTES})
                self._repos[(kind, repo_id)] = repo

    def put_file(self, repo_id: str, path: str, data: bytes, kind: str = "dataset") -> None:
        """Commit ``data`` at ``path`` (creating the repository), unchecked."""
        with self._lock:
            self.create_repo(repo_id, kind)
            repo = self._repos[(kind, repo_id)]
            self._append(repo, {**repo.head[1], path: bytes(data)})

    def delete_file(self, repo_id: str, path: str, kind: str = "dataset") -> None:
        """Commit the removal of ``path``."""
        with self._lock:
            repo = self._repos[(kind, repo_id)]
            self._append(repo, {p: d for p, d in repo.head[1].items() if p != path})

    def files(self, repo_id: str, kind: str = "dataset") -> dict[str, bytes]:
        """The files at the head of ``repo_id`` (``{}`` if it does not exist)."""
        with self._lock:
            repo = self._repos.get((kind, repo_id))
            return dict(repo.head[1]) if repo else {}

    def repos(self, kind: str = "dataset") -> list[str]:
        """The ids of the repositories of ``kind``."""
        with self._lock:
            return sorted(repo_id for k, repo_id in self._repos if k == kind)

    def commits(self, repo_id: str, kind: str = "dataset") -> int:
        """How many commits ``repo_id`` has (its creation included)."""
        with self._lock:
            repo = self._repos.get((kind, repo_id))
            return len(repo.history) if repo else 0

    def _append(self, repo: _Repo, files: dict[str, bytes]) -> str:
        self._commits += 1
        parent = repo.history[-1][0] if repo.history else ""
        oid = hashlib.sha1(
            f"{repo.repo_id}:{parent}:{self._commits}".encode(), usedforsecurity=False
        ).hexdigest()
        repo.history.append((oid, files))
        return oid

    # -- the routes ------------------------------------------------------------

    def _count(self, route: str) -> int | bool | None:
        """Count a request; return an injected fault (a status, ``None`` to drop)
        or ``False`` when there is none."""
        with self._lock:
            self._counts[route] += 1
            pending = self._faults.get(route)
            if pending:
                return pending.pop(0)
        return False

    def _repo(self, kind: str, repo_id: str) -> _Repo:
        repo = self._repos.get((kind, repo_id))
        if repo is None:
            raise HubError(404, f"Repository Not Found for url: {repo_id}.", "RepoNotFound")
        return repo

    def _snapshot(self, repo: _Repo, revision: str) -> tuple[str, dict[str, bytes]]:
        found = repo.at(revision)
        if found is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return found

    def handle_create(self, body: dict[str, Any]) -> tuple[int, Any]:
        kind = str(body.get("type") or "model")
        name, org = str(body.get("name", "")), body.get("organization")
        repo_id = f"{org}/{name}" if org else name
        url = (
            f"{self.endpoint}/{kind}s/{repo_id}"
            if kind != "model"
            else f"{self.endpoint}/{repo_id}"
        )
        with self._lock:
            if (kind, repo_id) in self._repos:
                return 409, {"error": "You already created this dataset repo", "url": url}
            self.create_repo(repo_id, kind)
        return 200, {"url": url, "name": repo_id, "id": repo_id}

    def handle_delete(self, body: dict[str, Any]) -> tuple[int, Any]:
        kind = str(body.get("type") or "model")
        name, org = str(body.get("name", "")), body.get("organization")
        repo_id = f"{org}/{name}" if org else name
        with self._lock:
            self._repo(kind, repo_id)
            del self._repos[(kind, repo_id)]
        return 200, {}

    def handle_list(self, kind: str, query: dict[str, list[str]]) -> tuple[list[Any], int]:
        author = next(iter(query.get("author", [])), None)
        searches = query.get("search", [])
        start = int((query.get("cursor") or ["0"])[0])
        with self._lock:
            found = [
                self._info(repo)
                for (k, repo_id), repo in sorted(self._repos.items())
                if k == kind
                and (author is None or repo_id.split("/")[0] == author)
                and all(text.lower() in repo_id.lower() for text in searches)
            ]
        return found[start : start + _PAGE], (start + _PAGE if start + _PAGE < len(found) else -1)

    def _info(self, repo: _Repo, revision: str = "main") -> dict[str, Any]:
        oid, files = self._snapshot(repo, revision)
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

    def handle_info(self, kind: str, repo_id: str, revision: str) -> dict[str, Any]:
        with self._lock:
            return self._info(self._repo(kind, repo_id), revision)

    def handle_tree(
        self, kind: str, repo_id: str, revision: str, path: str, *, recursive: bool, start: int
    ) -> tuple[list[Any], int]:
        with self._lock:
            _, files = self._snapshot(self._repo(kind, repo_id), revision)
        prefix = f"{path}/" if path else ""
        folders = {
            "/".join(name.split("/")[:depth])
            for name in files
            for depth in range(1, name.count("/") + 1)
        }
        if path and path not in folders:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        entries: list[dict[str, Any]] = []
        for name in sorted(folders):
            if name.startswith(prefix) and (recursive or "/" not in name[len(prefix) :]):
                entries.append(
                    {"type": "directory", "oid": blob_id(name.encode()), "size": 0, "path": name}
                )
        for name in sorted(files):
            if name.startswith(prefix) and (recursive or "/" not in name[len(prefix) :]):
                data = files[name]
                entries.append(
                    {"type": "file", "oid": blob_id(data), "size": len(data), "path": name}
                )
        return entries[start : start + _PAGE], (
            start + _PAGE if start + _PAGE < len(entries) else -1
        )

    def handle_paths_info(
        self, kind: str, repo_id: str, revision: str, paths: list[str]
    ) -> list[Any]:
        with self._lock:
            _, files = self._snapshot(self._repo(kind, repo_id), revision)
        folders = {"/".join(n.split("/")[:d]) for n in files for d in range(1, n.count("/") + 1)}
        found: list[dict[str, Any]] = []
        for path in paths:
            if path in files:
                data = files[path]
                found.append(
                    {"type": "file", "oid": blob_id(data), "size": len(data), "path": path}
                )
            elif path in folders:
                found.append(
                    {"type": "directory", "oid": blob_id(path.encode()), "size": 0, "path": path}
                )
        return found

    def handle_preupload(
        self, kind: str, repo_id: str, revision: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            oid, files = self._snapshot(self._repo(kind, repo_id), revision)
        answers = []
        for entry in body.get("files", []):
            path = str(entry["path"])
            answers.append(
                {
                    "path": path,
                    "uploadMode": "regular",
                    "shouldIgnore": False,
                    "oid": blob_id(files[path]) if path in files else None,
                }
            )
        return {"files": answers, "commitOid": oid}

    def handle_commit(
        self, kind: str, repo_id: str, revision: str, lines: list[dict[str, Any]]
    ) -> dict[str, Any]:
        header: dict[str, Any] = {}
        adds: dict[str, bytes] = {}
        deletes: list[tuple[str, bool]] = []
        for line in lines:
            key, value = line.get("key"), line.get("value", {})
            if key == "header":
                header = value
            elif key == "file":
                adds[str(value["path"])] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                deletes.append((str(value["path"]).rstrip("/"), key == "deletedFolder"))
            else:
                raise HubError(400, f"Unsupported commit operation {key!r} on this stand-in Hub.")
        with self._lock:
            repo = self._repo(kind, repo_id)
            if revision != "main":
                raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            parent = header.get("parentCommit")
            head, files = repo.head
            if parent is not None and parent != head:
                raise HubError(412, _STALE)
            updated = dict(files)
            for path, is_folder in deletes:
                doomed = [
                    n for n in updated if n == path or (is_folder and n.startswith(f"{path}/"))
                ]
                if not doomed:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                for name in doomed:
                    del updated[name]
            updated.update(adds)
            oid = self._append(repo, updated)
        return {
            "success": True,
            "commitOid": oid,
            "commitUrl": f"{self.endpoint}/{kind}s/{repo_id}/commit/{oid}",
            "hookOutput": "",
        }

    def handle_resolve(
        self, kind: str, repo_id: str, revision: str, path: str
    ) -> tuple[str, bytes]:
        with self._lock:
            oid, files = self._snapshot(self._repo(kind, repo_id), revision)
        if path not in files:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        return oid, files[path]


def _main() -> None:
    parser = argparse.ArgumentParser(description="A stand-in Hugging Face Hub on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    arguments = parser.parse_args()
    sock = socket.create_server(("127.0.0.1", arguments.port))
    hub = HubStandIn(sock).start()
    print(f"HF_ENDPOINT={hub.endpoint}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        hub.stop()


if __name__ == "__main__":
    _main()
