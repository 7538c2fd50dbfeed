"""A local HTTP server that answers like the GitHub REST API, for the live-sync tests.

It serves ``/repos/{o}/{r}/issues`` (state, sort=updated, direction, since, per_page,
page, Link headers) and ``/repos/{o}/{r}/issues/{n}/comments``; for release notes
``compare/{base}...{head}`` (paged), ``pulls/{n}``, ``commits/{sha}/pulls`` and
``commits?sha=&author=`` over ``commits`` (a linear history, oldest first, with ``tags``); POSTs to
``.../issues/{n}/comments`` and ``.../issues/{n}/labels`` (token required; comments are written by ``login``, the account ``GET /user`` names), and can be told to
answer with rate limits or server errors first, or to answer slowly. Nothing here reaches the
internet.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}


@dataclass(frozen=True)
class Slow:
    """A scripted answer: handle the request normally, but answer after ``seconds``."""

    seconds: float


Failure = tuple[int, dict[str, str], str] | Slow


@dataclass
class FakeGitHub:
    """State of the fake API: issues, comments, scripted failures, and a request log.

    ``failures`` answer the next requests of any method, ``post_failures`` the next POSTs;
    ``posts`` holds (path, JSON body) of every POST.
    """

    repo: str = "example-org/kvlite"
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    post_failures: list[Failure] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    posts: list[tuple[str, Any]] = field(default_factory=list)
    url: str = ""
    next_id: int = 1000
    commits: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # tag → sha
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    login: str = "devrel-bot"  # whose token the client sends (``GET /user``, its comments)

    def add_commit(self, message: str, author: str | None, *, pr: int | None = None,
                   tag: str | None = None, parents: int = 1) -> dict[str, Any]:
        """A commit on the one branch; ``pr``: the merged PR it belongs to (for lookups)."""
        sha = f"{len(self.commits) + 1:040x}"
        commit = {"sha": sha, "html_url": f"https://github.com/{self.repo}/commit/{sha}",
                  "commit": {"message": message, "author": {"name": author or "someone"}},
                  "author": {"login": author} if author else None,
                  "parents": [{"sha": "0" * 40}] * parents, "pr": pr}
        self.commits.append(commit)
        if tag:
            self.tags[tag] = sha
        return commit

    def add_pull(self, number: int, title: str, author: str, labels: tuple[str, ...] = (),
                 body: str = "") -> None:
        self.pulls[number] = {
            "number": number, "title": title, "body": body, "user": {"login": author},
            "labels": [{"name": n} for n in labels], "merged_at": "2026-03-01T00:00:00Z",
            "html_url": f"https://github.com/{self.repo}/pull/{number}"}

    def _position(self, ref: str) -> int | None:
        sha = self.tags.get(ref, ref)
        return next((i for i, c in enumerate(self.commits) if c["sha"] == sha), None)

    def add_issue(self, number: int, updated_at: str, **fields: Any) -> dict[str, Any]:
        issue = {
            "number": number,
            "title": fields.pop("title", f"Issue {number}"),
            "body": fields.pop("body", f"Body of issue {number}."),
            "state": fields.pop("state", "open"),
            "state_reason": fields.pop("state_reason", None),
            "labels": [{"name": n} for n in fields.pop("labels", [])],
            "user": {"login": fields.pop("author", "reporter")},
            "author_association": "NONE",
            "comments": len(self.comments.get(number, [])),
            "created_at": fields.pop("created_at", "2026-01-01T00:00:00Z"),
            "updated_at": updated_at,
            "closed_at": None,
            "html_url": f"https://github.com/{self.repo}/issues/{number}",
            **fields,
        }
        self.issues[number] = issue
        return issue

    def add_comment(self, number: int, body: str, author: str = "maintainer") -> dict[str, Any]:
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "html_url": f"https://github.com/{self.repo}/issues/{number}#issuecomment-{self.next_id}",
            "issue_url": f"{self.url}/repos/{self.repo}/issues/{number}",
            "user": {"login": author}, "author_association": "MEMBER", "body": body,
            "created_at": f"2026-02-{len(self.comments.get(number, [])) + 1:02d}T00:00:00Z",
        }
        self.comments.setdefault(number, []).append(comment)
        self.issues[number]["comments"] = len(self.comments[number])
        return comment


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        delay = 0.0  # seconds before answering (set by a Slow failure)

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            return

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            if self.delay:
                time.sleep(self.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                pass

        def _scripted(self, *queues: list[Failure]) -> bool:
            """Answer with the next scripted failure, if any; a Slow one delays the answer."""
            self.delay = 0.0
            for queue in queues:
                if queue:
                    failure = queue.pop(0)
                    if isinstance(failure, Slow):
                        self.delay = failure.seconds
                        return False
                    status, headers, body = failure
                    self._send(status, body, headers)
                    return True
            return False

        def do_GET(self) -> None:
            state.log.append(self.path)
            state.auth.append(self.headers.get("Authorization"))
            if self._scripted(state.failures):
                return
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            parts = url.path.strip("/").split("/")
            if parts == ["user"]:
                if self.headers.get("Authorization"):
                    self._send(200, {"login": state.login, "id": 1, "type": "User"})
                else:
                    self._send(401, {"message": "Requires authentication"})
                return
            if parts[:1] != ["repos"] or "/".join(parts[1:3]) != state.repo:
                self._send(404, {"message": "Not Found"})
                return
            per_page = int(query.get("per_page", 30))
            page = int(query.get("page", 1))
            if parts[3:] == ["issues"]:
                items = sorted(state.issues.values(), key=lambda i: (i["updated_at"], i["number"]))
                if "since" in query:
                    items = [i for i in items if i["updated_at"] >= query["since"]]
                self._page(items, page, per_page, url.path, query)
            elif len(parts) == 5 and parts[3] == "issues" and parts[4].isdigit():
                issue = state.issues.get(int(parts[4]))
                self._send(200 if issue else 404, issue or {"message": "Not Found"})
            elif len(parts) == 6 and parts[3] == "issues" and parts[5] == "comments":
                items = state.comments.get(int(parts[4]), [])
                self._page(items, page, per_page, url.path, query)
            elif len(parts) == 5 and parts[3] == "compare" and "..." in parts[4]:
                base, head = (state._position(r) for r in parts[4].split("...", 1))
                if base is None or head is None:
                    self._send(404, NOT_FOUND)
                    return
                commits = [{k: v for k, v in c.items() if k != "pr"}
                           for c in state.commits[base + 1: head + 1]]
                self._send(200, {"total_commits": len(commits), "status": "ahead",
                                 "commits": commits[(page - 1) * per_page: page * per_page]})
            elif len(parts) == 5 and parts[3] == "pulls" and parts[4].isdigit():
                pull = state.pulls.get(int(parts[4]))
                self._send(200 if pull else 404, pull or NOT_FOUND)
            elif len(parts) == 6 and parts[3] == "commits" and parts[5] == "pulls":
                commit = next((c for c in state.commits if c["sha"] == parts[4]), None)
                pr = commit and commit.get("pr")
                self._send(200, [state.pulls[pr]] if pr in state.pulls else [])
            elif parts[3:] == ["commits"]:
                end = state._position(query.get("sha", ""))
                end = len(state.commits) - 1 if end is None else end
                found = [c for c in state.commits[: end + 1]
                         if (c.get("author") or {}).get("login") == query.get("author")]
                self._page(found[::-1], page, per_page, url.path, query)
            else:
                self._send(404, {"message": "Not Found"})

        def do_POST(self) -> None:
            state.log.append(f"POST {self.path}")
            state.auth.append(self.headers.get("Authorization"))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = None
            state.posts.append((self.path, body))
            if self._scripted(state.failures, state.post_failures):
                return
            if not self.headers.get("Authorization"):
                self._send(401, {"message": "Requires authentication",
                                 "documentation_url": "https://docs.github.com/rest"})
                return
            parts = urlparse(self.path).path.strip("/").split("/")
            number = int(parts[4]) if len(parts) == 6 and parts[4].isdigit() else 0
            known = parts[:1] == ["repos"] and "/".join(parts[1:3]) == state.repo
            if (not known or parts[3:4] != ["issues"] or number not in state.issues
                    or parts[5] not in ("comments", "labels")):
                self._send(404, NOT_FOUND)
            elif not isinstance(body, dict):
                self._send(400, {"message": "Problems parsing JSON"})
            elif parts[5] == "comments":
                if not str(body.get("body") or "").strip():
                    self._send(422, _invalid("IssueComment", "body", "missing_field"))
                    return
                comment = state.add_comment(number, body["body"], author=state.login)
                self._send(201, comment)
            else:
                names = body.get("labels")
                if not isinstance(names, list) or not all(
                        isinstance(n, str) and n.strip() for n in names):
                    self._send(422, _invalid("Label", "name", "invalid"))
                    return
                labels = state.issues[number]["labels"]
                for name in names:
                    if {"name": name} not in labels:
                        labels.append({"name": name})
                self._send(200, [{"id": i + 1, "name": label["name"], "color": "ededed"}
                                 for i, label in enumerate(labels)])

        def _page(self, items: list[Any], page: int, per_page: int, path: str,
                  query: dict[str, str]) -> None:
            chunk = items[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(items):
                nxt = dict(query, page=str(page + 1))
                link = f"{state.url}{path}?" + "&".join(f"{k}={v}" for k, v in nxt.items())
                headers["Link"] = f'<{link}>; rel="next"'
            self._send(200, chunk, headers)

    return Handler


class FakeGitHubServer:
    """Runs a FakeGitHub on 127.0.0.1 in a thread; use as a context manager."""

    def __init__(self, state: FakeGitHub) -> None:
        self.state = state
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        state.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _invalid(resource: str, fieldname: str, code: str) -> dict[str, Any]:
    """GitHub's 422 shape."""
    return {"message": "Validation Failed",
            "errors": [{"resource": resource, "field": fieldname, "code": code}],
            "documentation_url": "https://docs.github.com/rest"}


def rate_limited(reset_in: float = 1.0) -> tuple[int, dict[str, str], str]:
    """A primary rate-limit answer (403, remaining 0, reset soon)."""
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time() + reset_in))}
    return 403, headers, json.dumps({"message": "API rate limit exceeded"})


def secondary_limited(retry_after: int = 2) -> tuple[int, dict[str, str], str]:
    """A secondary rate-limit answer (429 with retry-after)."""
    return 429, {"retry-after": str(retry_after)}, json.dumps({"message": "secondary rate limit"})
