"""Local HTTP servers that answer like the Gitee API v5 and the GitLab REST API v4, for the
sync, publish and webhook tests. Shapes follow the APIs' documentation: Gitee issues with
string numbers (``I4ABCD``), ``total_page`` headers and ``access_token`` query auth; GitLab
issues by ``iid``, notes with ``system`` flags, ``X-Next-Page`` and ``PRIVATE-TOKEN``.
``drop_next_post`` stores a POST and then answers 502, like a response lost on the way.
Nothing here reaches the internet.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

TOKEN = "forge-test-token"
BOT = "devrel-bot"


@dataclass
class FakeForge:
    """Issues and comments of one repo; ``kind`` is gitee or gitlab."""

    kind: str
    repo: str
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)  # ident -> issue
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    per_page: int = 100
    drop_next_post: bool = False
    posts: list[tuple[str, Any]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    url: str = ""
    next_id: int = 1000

    def add_issue(self, ident: str, title: str, body: str, updated_at: str, *,
                  author: str = "reporter", labels: tuple[str, ...] = ()) -> None:
        if self.kind == "gitee":
            self.issues[ident] = {
                "id": len(self.issues) + 1, "number": ident, "title": title, "body": body,
                "state": "open", "labels": [{"name": n} for n in labels],
                "user": {"login": author}, "created_at": updated_at, "updated_at": updated_at,
                "finished_at": None, "comments": 0,
                "html_url": f"https://gitee.com/{self.repo}/issues/{ident}"}
        else:
            self.issues[ident] = {
                "id": 5000 + int(ident), "iid": int(ident), "title": title,
                "description": body, "state": "opened", "labels": list(labels),
                "author": {"username": author}, "created_at": updated_at,
                "updated_at": updated_at, "closed_at": None, "user_notes_count": 0,
                "web_url": f"https://gitlab.com/{self.repo}/-/issues/{ident}"}

    def add_comment(self, ident: str, body: str, author: str, *, system: bool = False) -> None:
        self.next_id += 1
        issue = self.issues[ident]
        if self.kind == "gitee":
            comment = {"id": self.next_id, "body": body, "user": {"login": author},
                       "created_at": "2026-03-02T00:00:00+08:00"}
            issue["comments"] += 1
        else:
            comment = {"id": self.next_id, "body": body, "author": {"username": author},
                       "created_at": "2026-03-02T00:00:00Z", "system": system}
            issue["user_notes_count"] += 0 if system else 1
        self.comments.setdefault(ident, []).append(comment)

    def bot_comments(self, ident: str) -> list[str]:
        key = "user" if self.kind == "gitee" else "author"
        name = "login" if self.kind == "gitee" else "username"
        return [c["body"] for c in self.comments.get(ident, []) if c[key][name] == BOT]


def _handler(state: FakeForge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self, query: dict[str, str]) -> bool:
            if state.kind == "gitee":
                return query.get("access_token") == TOKEN
            return self.headers.get("PRIVATE-TOKEN") == TOKEN

        def _route(self) -> tuple[list[str], dict[str, str]]:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            prefix = "/api/v5" if state.kind == "gitee" else "/api/v4"
            path = url.path.removeprefix(prefix).strip("/")
            if state.kind == "gitlab":  # /projects/<url-encoded path>/...
                parts = path.split("/")
                if parts[:1] == ["projects"] and len(parts) > 1:
                    project = unquote(parts[1])
                    return ["projects", project, *parts[2:]], query
            return path.split("/"), query

        def _repo_ok(self, parts: list[str]) -> bool:
            if state.kind == "gitee":
                return parts[:3] == ["repos", *state.repo.split("/")]
            return parts[:2] == ["projects", state.repo]

        def _page(self, items: list[Any], query: dict[str, str]) -> None:
            page, size = int(query.get("page", 1)), min(int(query.get("per_page", 20)),
                                                        state.per_page)
            chunk = items[(page - 1) * size : page * size]
            pages = max(1, -(-len(items) // size))
            headers = {"total_count": str(len(items)), "total_page": str(pages)} \
                if state.kind == "gitee" else (
                {"X-Next-Page": str(page + 1) if page < pages else ""})
            self._send(200, chunk, headers)

        def do_GET(self) -> None:
            state.log.append(self.path)
            parts, query = self._route()
            if parts == ["user"]:
                if not self._authorized(query):
                    self._send(401, {"message": "401 Unauthorized"})
                    return
                self._send(200, {"login": BOT} if state.kind == "gitee" else {"username": BOT})
                return
            if not self._repo_ok(parts):
                self._send(404, {"message": "404 Project Not Found"})
                return
            rest = parts[3:] if state.kind == "gitee" else parts[2:]
            if rest == ["collaborators"] and state.kind == "gitee":
                self._send(200, [{"login": m} for m in state.members])
            elif rest == ["members", "all"] and state.kind == "gitlab":
                self._page([{"username": m, "access_level": 40} for m in state.members], query)
            elif rest == ["issues"]:
                since = query.get("since") or query.get("updated_after") or ""
                items = sorted((i for i in state.issues.values() if i["updated_at"] >= since),
                               key=lambda i: i["updated_at"])
                self._page(items, query)
            elif len(rest) == 2 and rest[0] == "issues" and rest[1] in state.issues:
                self._send(200, state.issues[rest[1]])
            elif len(rest) == 3 and rest[0] == "issues" and rest[2] in ("comments", "notes"):
                self._page(state.comments.get(rest[1], []), query)
            else:
                self._send(404, {"message": "Not Found"})

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length", 0))
            return json.loads(self.rfile.read(length) or b"null")

        def _write(self) -> None:
            parts, query = self._route()
            body = self._body()
            state.posts.append((self.path, body))
            if not self._authorized(query):
                self._send(401, {"message": "401 Unauthorized"})
                return
            rest = parts[3:] if state.kind == "gitee" else parts[2:]
            if not self._repo_ok(parts) or len(rest) < 2 or rest[1] not in state.issues:
                self._send(404, {"message": "Not Found"})
                return
            ident, what = rest[1], rest[2] if len(rest) > 2 else ""
            issue = state.issues[ident]
            if what in ("comments", "notes"):
                state.add_comment(ident, body["body"], BOT)
                answer = state.comments[ident][-1]
                if state.drop_next_post:
                    state.drop_next_post = False
                    self._send(502, {"message": "Bad Gateway"})
                    return
                self._send(201, answer)
            elif what == "labels" and state.kind == "gitee":
                names = {lb["name"] for lb in issue["labels"]} | set(body)
                issue["labels"] = [{"name": n} for n in sorted(names)]
                self._send(201, issue["labels"])
            elif what == "" and state.kind == "gitlab" and isinstance(body, dict):
                added = [n for n in str(body.get("add_labels", "")).split(",") if n]
                issue["labels"] = sorted(set(issue["labels"]) | set(added))
                self._send(200, issue)
            else:
                self._send(404, {"message": "Not Found"})

        do_POST = _write
        do_PUT = _write

    return Handler


class FakeForgeServer:
    """Runs a FakeForge on 127.0.0.1 in a thread; ``state.url`` is its API base URL."""

    def __init__(self, state: FakeForge) -> None:
        self.state = state
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        port = self._server.server_address[1]
        state.url = f"http://127.0.0.1:{port}/api/" + ("v5" if state.kind == "gitee" else "v4")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeForge:
        self._thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
