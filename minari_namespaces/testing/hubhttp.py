"""The HTTP side of the stand-in Hub (:mod:`minari_namespaces.testing.hubserver`):
routing a request to the :class:`~minari_namespaces.testing.hubserver.HubStandIn`
that serves it, and answering as the Hub does (JSON bodies, ``Link`` paging, ranges,
``X-Error-Code`` headers). Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import socket
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

if TYPE_CHECKING:
    from minari_namespaces.testing.hubserver import HubStandIn

__all__ = ["HubError", "HubRequestHandler", "blob_id"]


def blob_id(data: bytes) -> str:
    """Git's object id of a file (what the Hub reports as a file's ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class HubError(Exception):
    """An HTTP error answer: status, Hub error code and message."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class HubRequestHandler(BaseHTTPRequestHandler):
    """Routes a request to the :class:`HubStandIn` it belongs to."""

    server_version = "HubStandIn/1"

    @property
    def hub(self) -> HubStandIn:
        hub: HubStandIn = self.server.hub  # type: ignore[attr-defined]
        return hub

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

    # -- plumbing --------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json(self) -> dict[str, Any]:
        raw = self._body()
        if not raw:
            return {}
        loaded = json.loads(raw)
        return loaded if isinstance(loaded, dict) else {}

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, answer: HubError) -> None:
        # Header values are Latin-1 on the wire; paths in messages may be any text.
        headers = {"X-Error-Message": answer.message.encode("ascii", "backslashreplace").decode()}
        if answer.code:
            headers["X-Error-Code"] = answer.code
        self._send(answer.status, {"error": answer.message}, headers)

    def _page(self, items: list[Any], following: int) -> None:
        headers = {}
        if following >= 0:
            split = urlsplit(self.path)
            query = {k: v for k, v in parse_qs(split.query).items() if k != "cursor"}
            query["cursor"] = [str(following)]
            encoded = "&".join(f"{k}={quote(v)}" for k, vs in query.items() for v in vs)
            headers["Link"] = f'<{self.hub.endpoint}{split.path}?{encoded}>; rel="next"'
        self._send(200, items, headers)

    @staticmethod
    def _route(parts: list[str]) -> str:
        """The route's name, as :meth:`HubStandIn.take_counts` reports it."""
        if parts[:1] != ["api"]:
            return "resolve"
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
        route = self._route(parts)
        authorization = self.headers.get("Authorization")
        if authorization:
            self.hub.authorizations.append(authorization)
        fault = self.hub._count(route)
        if fault is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not False:
            self._body()
            self._error(HubError(int(fault), f"Injected failure of {route}."))
            return
        try:
            self._answer(method, route, parts, parse_qs(split.query))
        except HubError as answer:
            self._error(answer)

    def _answer(
        self, method: str, route: str, parts: list[str], query: dict[str, list[str]]
    ) -> None:
        hub = self.hub
        if route == "create_repo":
            self._send(*hub.handle_create(self._json()))
            return
        if route == "delete_repo":
            self._send(*hub.handle_delete(self._json()))
            return
        if route == "agent_harnesses":
            # The client asks which AI-agent harnesses to detect; this Hub knows none.
            self._send(200, {"standardEnvVars": [], "harnesses": {}})
            return
        if route == "list_repos":
            if parts[1] not in ("datasets", "models", "spaces"):
                raise HubError(404, "Not found")
            self._page(*hub.handle_list(parts[1].rstrip("s"), query))
            return
        if route == "resolve":
            self._resolve(method, parts)
            return
        kind = parts[1].rstrip("s")
        repo_id = f"{parts[2]}/{parts[3]}"
        if route == "repo_info":
            revision = parts[5] if len(parts) > 5 and parts[4] == "revision" else "main"
            self._send(200, hub.handle_info(kind, repo_id, revision))
        elif route == "tree":
            recursive = (query.get("recursive") or ["false"])[0].lower() in ("1", "true")
            start = int((query.get("cursor") or ["0"])[0])
            self._page(
                *hub.handle_tree(
                    kind, repo_id, parts[5], "/".join(parts[6:]), recursive=recursive, start=start
                )
            )
        elif route == "paths_info":
            body = self._body().decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                paths = [str(p) for p in json.loads(body).get("paths", [])]
            else:
                paths = parse_qs(body).get("paths", [])
            self._send(200, hub.handle_paths_info(kind, repo_id, parts[5], paths))
        elif route == "preupload":
            self._send(200, hub.handle_preupload(kind, repo_id, parts[5], self._json()))
        else:
            lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
            self._send(200, hub.handle_commit(kind, repo_id, parts[5], lines))

    def _resolve(self, method: str, parts: list[str]) -> None:
        # /datasets/ORG/NAME/resolve/REV/PATH (models have no type prefix).
        if parts[0] in ("datasets", "spaces"):
            kind, parts = parts[0].rstrip("s"), parts[1:]
        else:
            kind = "model"
        if len(parts) < 5 or parts[2] != "resolve":
            raise HubError(404, "Not found")
        repo_id, revision, path = f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])
        oid, data = self.hub.handle_resolve(kind, repo_id, revision, path)
        status, body = 200, data
        headers = {
            "X-Repo-Commit": oid,
            "ETag": f'"{blob_id(data)}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes=") and data:
            first, _, last = wanted[len("bytes=") :].partition("-")
            start = int(first or 0)
            end = min(int(last) if last else len(data) - 1, len(data) - 1)
            status, body = 206, data[start : end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)
