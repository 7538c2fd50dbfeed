"""The API against its own OpenAPI schema with schemathesis, in process over ASGI: the target
(the app over a prepared data dir, seeded drafts, a key per role, a webhook secret, an
unreachable GitHub), the checks, and two runners that collect every failed check: the
harness's own cases (``FuzzTarget.run_operation``) and schemathesis' engine with all its phases
(``FuzzTarget.run_engine``).

Shared by ``tests/test_api_schema.py`` (25 cases per operation and mode, as an admin, in CI) and
``evals/api_fuzz.py`` (more cases, every role, every check, a summary). The example project's
full index behind the test profile's fake chat model, with five triage drafts made from GitHub
issues (three waiting for review, two approved for publishing), a key per role (bot, reviewer,
admin) and a spare admin key, a webhook secret (a fuzzed signature answers 401; positive cases
without one are signed, so the event handling runs too), a GitHub that is a closed port on
loopback (publishing answers 502/503 and never posts) and no drafting worker.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import os
import shlex
import socket
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import (
    content_type_conformance,
    is_check_class,
    load_all_checks,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.engine import events

from assistant.api.app import create_app
from assistant.context import AppContext
from assistant.drafting.engine import draft_now
from assistant.forge.shapes import IssueInput
from assistant.services.review import approve_draft
from assistant.settings import Settings, get_settings
from assistant.store.keys import KeyStore
from assistant.store.models import DraftKind, Role

WEBHOOK_SECRET = "schema-fuzz-webhook-secret"
WEBHOOK_PATH = "/v1/webhooks/github"
MAX_EXAMPLES = 25  # per operation and generation mode

# 5xx answers that are designed and documented in this setup; any other 5xx fails.
DESIGNED_5XX: dict[str, set[int]] = {
    # GitHub is a closed port here: a forge error (502) or an unavailable forge (503).
    "POST /v1/drafts/{draft_id}/publish": {502, 503},
}

def _not_an_undesigned_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code in DESIGNED_5XX.get(case.operation.label, set()):
        return None
    return not_a_server_error(ctx, response, case)


# What every answer must pass: no 5xx, a documented status code, content type and body.
CHECKS = [_not_an_undesigned_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def all_checks() -> list[Any]:
    """Every check the installed schemathesis registers (``--checks all``), with the designed
    5xx of this setup allowed; checks that need the engine's context (its coverage phase,
    stateful links, a run-wide auth record) pass over the harness's own cases."""
    load_all_checks()
    found = [check for check in REGISTERED_CHECKS.get_all() if not is_check_class(check)]
    return [_not_an_undesigned_server_error if check is not_a_server_error else check
            for check in found]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fuzz_settings(data_dir: Path) -> Settings:
    """Test-profile settings for a fuzzed API: no rate limit in the way, no waiting for a worker
    that does not run (``?wait=true`` answers 202 at once), webhook secrets (GitHub, Gitee,
    GitLab), no real forge."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("DEVREL_")}
    try:
        return get_settings(
            profile="test", data_dir=data_dir,
            api={"rate_limit": "100000/minute", "wait_max_s": 0.0,
                 "webhook_secret": WEBHOOK_SECRET},
            github={"api_url": f"http://127.0.0.1:{_closed_port()}", "token": "ghp_fuzz",
                    "timeout_s": 2.0, "max_wait_s": 0.0},
            gitee={"api_url": f"http://127.0.0.1:{_closed_port()}/api/v5",
                   "webhook_secret": WEBHOOK_SECRET, "timeout_s": 2.0, "max_wait_s": 0.0},
            gitlab={"api_url": f"http://127.0.0.1:{_closed_port()}/api/v4",
                    "webhook_token": WEBHOOK_SECRET, "timeout_s": 2.0, "max_wait_s": 0.0},
        )
    finally:
        os.environ.update(saved)


def seed_drafts(ctx: AppContext) -> tuple[list[int], list[int]]:
    """Triage drafts made from GitHub issues: three waiting for review, two approved (for
    publishing, which meets the unreachable GitHub)."""
    issues = [
        ("database is locked after a crash", "kvlite 0.4.1: after kill -9 open() fails.", 301),
        ("Windows 上从源码安装失败", "error: linker `link.exe` not found", 302),
        ("compaction never finishes", "The log grows past 2 GB and compaction loops.", 303),
        ("get() returns stale data", "After `kvlite compact` get() returns old values.", 304),
        ("文档里的示例无法运行", "快速开始的示例报错 KeyError。", 305),
    ]
    ids = [draft_now(ctx, DraftKind.TRIAGE, IssueInput(title=t, body=b, author="fuzzer",
                                               repo="example-org/kvlite", number=n)).id
           for t, b, n in issues]
    for draft_id in ids[3:]:
        approve_draft(ctx, draft_id, "seed", 1)
    return ids[:3], ids[3:]


_ISSUE = {"number": 4242, "title": "get() returns stale data after compaction",
          "body": "After `kvlite compact` a get() returns the old value.",
          "user": {"login": "reporter"},
          "html_url": "https://github.com/example-org/kvlite/issues/4242"}
# The bodies of signed deliveries, in turn: (event, payload).
WEBHOOK_EVENTS: list[tuple[str, Any]] = [
    ("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}),
    ("issues", {"action": "opened", "issue": _ISSUE,
                "repository": {"full_name": "example-org/kvlite"}}),
    ("issues", {"action": "opened", "issue": _ISSUE,
                "repository": {"full_name": "someone/elsewhere"}}),
    ("issues", {"action": "opened", "repository": {"full_name": "example-org/kvlite"}}),
    ("release", {"action": "published", "release": {"tag_name": "v0.5.0"},
                 "repository": {"full_name": "example-org/kvlite"}}),
    ("issues", ["not", "an", "object"]),
]


@dataclass
class Finding:
    """One failed check on one case."""

    operation: str
    check: str
    title: str
    message: str
    request: str  # a curl command (the API key filtered out)
    status: int | None
    role: str = Role.ADMIN.value
    answer: str = ""  # the start of the response body

    def __str__(self) -> str:
        return (f"{self.operation} ({self.role}): {self.check}: {self.title} "
                f"(status {self.status})\n  {self.request}\n  "
                + self.message.strip().replace("\n", "\n  ") + f"\n  answer: {self.answer}")


@dataclass
class OperationRun:
    """What the cases of one operation met, with one role's key."""

    operation: str
    role: str = Role.ADMIN.value
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    def distinct(self) -> list[Finding]:
        """One finding per check, title and status."""
        seen: dict[tuple[str, str, int | None], Finding] = {}
        for f in self.findings:
            seen.setdefault((f.check, f.title, f.status), f)
        return list(seen.values())


@dataclass
class FuzzTarget:
    """The app under test, its schema, and what the calls need (a key per role, seeded
    drafts)."""

    ctx: AppContext
    app: Any
    schema: Any
    raw_schema: dict[str, Any]
    secrets: dict[Role, str]
    key_ids: dict[Role, int]
    spare_key_id: int
    review_ids: list[int]
    publish_ids: list[int]
    _deliveries: int = 0

    def auth_for(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role]}"}

    @property
    def auth(self) -> dict[str, str]:
        return self.auth_for(Role.ADMIN)

    def call_kwargs(self, case: Any, role: Role = Role.ADMIN) -> dict[str, Any]:
        """Arguments for ``case.call``: the role's key; for a positive webhook case without a
        signature, a signed body (the next of WEBHOOK_EVENTS)."""
        headers = self.auth_for(role)
        if case.operation.path != WEBHOOK_PATH or _is_negative(case):
            return {"headers": headers}
        if any(k.lower() == "x-hub-signature-256" for k in case.headers or {}):
            return {"headers": headers}  # a fuzzed signature: must answer 401
        event, payload = WEBHOOK_EVENTS[self._deliveries % len(WEBHOOK_EVENTS)]
        self._deliveries += 1
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers |= {"X-GitHub-Event": event, "X-Hub-Signature-256": signature,
                    "Content-Type": "application/json"}
        return {"data": body, "headers": headers}

    def known_path_parameters(self, operation: Any) -> list[dict[str, Any]]:
        """Path parameters naming things that exist: the project, seeded drafts, the spare key
        (drafts to publish are kept away from edit, approve and reject)."""
        names = [p.name for p in operation.path_parameters]
        if operation.method.upper() == "GET":
            drafts = self.review_ids + self.publish_ids
        else:
            drafts = self.publish_ids if operation.path.endswith("/publish") else self.review_ids
        known = {"project": [self.ctx.settings.project], "draft_id": drafts,
                 "key_id": [self.spare_key_id]}
        if not names or any(n not in known for n in names):
            return []
        return [dict(zip(names, values, strict=True))
                for values in itertools.product(*(known[n] for n in names))]

    def prepare(self, case: Any) -> Any:
        """Revoking a key the run authenticates with would turn every later call with it into a
        401: such a case revokes the spare admin key instead."""
        if (case.path_parameters or {}).get("key_id") in self.key_ids.values():
            case.path_parameters["key_id"] = self.spare_key_id
        return case

    def run_operation(self, operation: Any, max_examples: int = MAX_EXAMPLES,
                      modes: tuple[GenerationMode, ...] = tuple(GenerationMode),
                      derandomize: bool = True, seed: int | None = None,
                      checks: list[Any] | None = None, role: Role = Role.ADMIN) -> OperationRun:
        """The schema's examples, cases on existing resources, then ``max_examples`` cases per
        generation mode, all with ``role``'s key; every failed check is collected (no
        shrinking: the curl line of a finding reproduces it)."""
        run = OperationRun(operation.label, role.value)

        def one(case: Any) -> None:
            self.prepare(case)
            run.cases += 1
            kwargs = self.call_kwargs(case, role)
            curl = _curl(case, kwargs["headers"])
            if "data" in kwargs:  # a signed webhook body
                curl += " --data-binary " + shlex.quote(kwargs["data"].decode())
            try:
                response = case.call(**kwargs)
            except Exception as exc:  # in process, an unhandled error raises instead of a 500
                run.statuses[500] += 1
                run.findings.append(Finding(operation.label, "not_a_server_error",
                                            f"Unhandled {type(exc).__name__} (500)",
                                            f"{type(exc).__name__}: {exc}", curl, 500, role))
                return
            run.statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=checks or CHECKS,
                                       headers=kwargs["headers"])
            except (FailureGroup, Failure) as exc:
                failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
                for failure in failures:
                    check = type(failure).checks[0] if type(failure).checks else "custom"
                    run.findings.append(Finding(operation.label, check, failure.title,
                                                failure.message, curl, response.status_code,
                                                role, _answer(response.content)))

        strategies: list[tuple[str, Any, int]] = []
        if examples := self.schema.get_strategies_from_examples(operation):
            strategies.append(("examples", st.one_of(examples), max(1, max_examples // 5)))
        if known := self.known_path_parameters(operation):
            strategies.append(("existing", st.one_of(
                [operation.as_strategy(path_parameters=p) for p in known]), max_examples))
        strategies += [(mode.value, operation.as_strategy(generation_mode=mode), max_examples)
                       for mode in modes]
        for name, strategy, budget in strategies:
            test = settings(max_examples=budget, deadline=None, derandomize=derandomize,
                            database=None, phases=[Phase.explicit, Phase.generate],
                            suppress_health_check=list(HealthCheck))(given(case=strategy)(one))
            if seed is not None and not derandomize:
                test = hypothesis_seed(seed)(test)
            try:
                test()
            except Unsatisfiable:
                if name != GenerationMode.NEGATIVE.value:
                    raise  # else: nothing in the operation to make invalid (no parameters)
        return run

    def run_engine(self, role: Role, max_examples: int = MAX_EXAMPLES, seed: int | None = None,
                   operation: str | None = None) -> list[OperationRun]:
        """Schemathesis' own engine, as ``st run --checks all`` runs it, with ``role``'s key:
        examples, coverage (missing headers, undeclared methods), fuzzing and stateful phases
        (resources followed through links: used after a delete, missing after a create), a
        probe without and with a wrong key on the first success of each operation; designed
        5xx allowed. One OperationRun per operation (stateful steps count where they call)."""
        label = "Stateful tests"  # the engine's name for a scenario over several operations
        schema = self._engine_schema(role, max_examples, seed)
        if operation is not None:
            schema = schema.include(func=lambda ctx: operation in ctx.operation.label)
        runs: dict[str, OperationRun] = {}

        def run_for(name: str) -> OperationRun:
            return runs.setdefault(name, OperationRun(name, role.value))

        for event in schemathesis.engine.from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                recorder = event.recorder
                for case_id, node in recorder.cases.items():
                    case = node.value
                    run = run_for(case.operation.label)
                    interaction = recorder.interactions.get(case_id)
                    response = interaction.response if interaction is not None else None
                    run.cases += 1
                    if response is not None:
                        run.statuses[response.status_code] += 1
                    status = response.status_code if response is not None else None
                    for check in recorder.checks.get(case_id, []):
                        if check.failure_info is None or _designed(check.name, case, status):
                            continue
                        failure = check.failure_info.failure
                        run.findings.append(Finding(
                            case.operation.label, check.name, failure.title, failure.message,
                            _curl(case, self.auth_for(role)), status, role,
                            _answer(response.content if response is not None else b"")))
            elif isinstance(event, events.NonFatalError | events.FatalError):
                name = event.label if isinstance(event, events.NonFatalError) else label
                message = (event.info.message if isinstance(event, events.NonFatalError)
                           else f"{type(event.exception).__name__}: {event.exception}")
                run_for(name).findings.append(Finding(name, "engine", "Engine error", message,
                                                      "", None, role))
        return sorted(runs.values(), key=lambda r: r.operation)

    def _engine_schema(self, role: Role, max_examples: int, seed: int | None) -> Any:
        """The schema as the engine loads it: every check, the role's key on every call (no
        generated keys, so a case is not refused for one), no example database or cache on
        disk, run keys never revoked."""
        config: dict[str, Any] = {
            "headers": self.auth_for(role), "workers": 1, "continue-on-failure": True,
            "cache": {"enabled": False},
            "generation": {"max-examples": max_examples, "with-security-parameters": False,
                           "database": "none", "deterministic": seed is None}}
        if seed is not None:
            config["seed"] = seed
        schema = schemathesis.openapi.from_dict(copy.deepcopy(self.raw_schema),
                                                config=schemathesis.Config.from_dict(config))
        schema.app = self.app
        schema.hook("map_case")(lambda _, case: self.prepare(case))
        return schema


def _designed(check: str, case: Any, status: int | None) -> bool:
    """A designed 5xx the engine reported (its per-operation settings would also stop
    ``schema.include`` from selecting operations)."""
    return check == "not_a_server_error" and status in DESIGNED_5XX.get(case.operation.label, ())


def _curl(case: Any, headers: dict[str, str]) -> str:
    curl = case.as_curl_command(headers=headers)
    return curl if len(curl) <= 2000 else curl[:2000] + f"… ({len(curl)} characters)"


def _answer(content: bytes | None, limit: int = 300) -> str:
    text = (content or b"").decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "…"


def _is_negative(case: Any) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_negative


def build_target(data_dir: Path) -> FuzzTarget:
    """The app over ``data_dir`` (a prepared index; the run writes to it), seeded, with a key
    per role and a spare admin key."""
    ctx = AppContext(fuzz_settings(data_dir))
    review_ids, publish_ids = seed_drafts(ctx)
    keys = KeyStore(ctx.drafts().engine)
    made = {role: keys.create(f"schema-fuzz-{role.value}", role.value) for role in Role}
    spare, _ = keys.create("schema-fuzz-spare", "admin")
    app = create_app(ctx)
    raw = copy.deepcopy(app.openapi())
    # The role's key goes with every call (FuzzTarget.call_kwargs): no generated, invalid keys.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    schema = schemathesis.openapi.from_dict(copy.deepcopy(raw), config=config)
    schema.app = app  # as schemathesis.openapi.from_asgi does: calls go in process
    return FuzzTarget(ctx=ctx, app=app, schema=schema, raw_schema=raw,
                      secrets={role: secret for role, (_, secret) in made.items()},
                      key_ids={role: record.id for role, (record, _) in made.items()},
                      spare_key_id=spare.id, review_ids=review_ids, publish_ids=publish_ids)


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]
