"""The API against its own OpenAPI schema: schemathesis, in process over ASGI, as an admin.

Every operation gets its schema examples, 25 cases on resources that exist (seeded drafts, the
project, a spare key) when its path names one, and 25 positive and 25 negative generated cases,
derandomized so CI sees the same cases every run. Each answer must not be a 5xx (except the
designed, documented ones of this setup: ``DESIGNED_5XX``), and its status code, content type and
body must be documented ones. What it found once is pinned by the regression tests at
the end.
The target, checks and runner live in ``evals/harness/schema_fuzz.py``: ``evals/api_fuzz.py``
runs the same target with more cases, with each role's key and (``--checks all``) every check
schemathesis has, and prints a summary.

The target is the example project's full index (docs, issues, project files) behind the test
profile's fake chat model, with five triage drafts made from GitHub issues (three waiting for
review, two approved for publishing), a webhook secret (a fuzzed signature answers 401; positive
cases without one are signed, so the event handling runs too), a GitHub that is a closed port on
loopback (publishing answers 502/503 and never posts) and no drafting worker.

One test per operation would need the operations at collection time: schemathesis builds them
from a pytest fixture only through ``schemathesis.pytest.from_fixture``, which fails on pytest 9.2
(it sets ``Function._nodeid``, gone from pytest). So the operations run as pytest subtests of
one test, each a Hypothesis test over ``operation.as_strategy()``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.kinds.community_update.kind import FIRST_DAY, LAST_DAY
from evals.harness.schema_fuzz import FuzzTarget, build_target, operations

pytestmark = pytest.mark.slow

INT64_MAX = 2**63 - 1


@pytest.fixture(scope="module")
def fuzz_target(triage_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[FuzzTarget]:
    target = tmp_path_factory.mktemp("api-schema") / "data"
    shutil.copytree(triage_data_dir, target)
    yield build_target(target)


def test_every_operation_conforms_to_the_schema(fuzz_target: FuzzTarget,
                                                subtests: pytest.Subtests) -> None:
    ops = operations(fuzz_target.schema)
    assert len(ops) >= 24
    for operation in ops:
        with subtests.test(msg=operation.label):
            run = fuzz_target.run_operation(operation)
            assert run.cases > 0
            findings = run.distinct()
            assert not findings, "\n\n".join(map(str, findings))


def test_the_schema_has_a_triage_example_and_describes_every_route(
        fuzz_target: FuzzTarget) -> None:
    with TestClient(fuzz_target.app) as client:
        spec = client.get("/openapi.json").json()
    triage = spec["paths"]["/v1/drafts/triage"]["post"]["requestBody"]["content"]
    ref = triage["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    example = spec["components"]["schemas"][ref]["examples"][0]
    assert example["issue"]["title"] and example["issue"]["body"]
    routes = [(f"{method.upper()} {path}", op) for path, item in spec["paths"].items()
              for method, op in item.items()]
    assert len(routes) >= 24
    described = {name: (op.get("description") or "").strip() for name, op in routes}
    assert [n for n, d in described.items() if not d or "\n" in d] == [], \
        "routes without a one-line docstring"
    assert all(op.get("summary") for _, op in routes)


# Regressions: what the fuzzing found once (naive timestamps, a 500 on ids beyond int64,
# undocumented 400 and 413).


def test_timestamps_have_a_utc_offset(fuzz_target: FuzzTarget) -> None:
    with TestClient(fuzz_target.app) as client:
        keys = client.get("/v1/keys", headers=fuzz_target.auth).json()
        draft = client.get("/v1/drafts/1", headers=fuzz_target.auth).json()
    stamps = [keys[0]["created_at"], draft["created_at"], draft["updated_at"]]
    assert all(datetime.fromisoformat(s).tzinfo is not None for s in stamps), stamps


@pytest.mark.parametrize("path", ["/v1/drafts/{id}", "/v1/drafts/{id}/audit", "/v1/keys/{id}"])
def test_an_id_beyond_int64_is_not_found(fuzz_target: FuzzTarget, path: str) -> None:
    method = "DELETE" if path.startswith("/v1/keys") else "GET"
    with TestClient(fuzz_target.app, raise_server_exceptions=False) as client:
        response = client.request(method, path.format(id=INT64_MAX + 1),
                                  headers=fuzz_target.auth)
    assert response.status_code in (404, 422), response.text


def _documented(app: Any, method: str, path: str) -> set[int]:
    return {int(code) for code in app.openapi()["paths"][path][method.lower()]["responses"]}


def test_a_body_that_is_not_utf8_answers_a_documented_status(fuzz_target: FuzzTarget) -> None:
    with TestClient(fuzz_target.app) as client:
        response = client.post("/v1/search", content=b'{"query": "\xff\xfe"}',
                               headers={**fuzz_target.auth, "Content-Type": "application/json"})
    assert response.status_code in _documented(fuzz_target.app, "POST", "/v1/search")


def test_schema_valid_meeting_notes_answer_a_documented_status(fuzz_target: FuzzTarget) -> None:
    body = json.dumps({"notes": "会议纪要" * 50_000}).encode()  # 200,000 characters, as \uXXXX
    with TestClient(fuzz_target.app) as client:
        response = client.post("/v1/drafts/meeting-summary", content=body,
                               headers={**fuzz_target.auth, "Content-Type": "application/json"})
    path = "/v1/drafts/meeting-summary"
    assert response.status_code in _documented(fuzz_target.app, "POST", path), response.text


# What `evals/api_fuzz.py --checks all` found: a read route catching a kind's path, an Allow
# header naming one route's methods, activity days the schema allowed and the API refused.


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_kinds_route_answers_405_to_another_method(fuzz_target: FuzzTarget,
                                                     method: str) -> None:
    with TestClient(fuzz_target.app) as client:
        response = client.request(method, "/v1/drafts/triage", headers=fuzz_target.auth)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_405_allows_every_method_of_the_path(fuzz_target: FuzzTarget) -> None:
    with TestClient(fuzz_target.app) as client:
        response = client.request("PATCH", "/v1/keys", headers=fuzz_target.auth)
    documented = {m.upper() for m in fuzz_target.app.openapi()["paths"]["/v1/keys"]}
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == documented == {"GET", "POST"}


@pytest.mark.parametrize("day", [FIRST_DAY - timedelta(days=1), FIRST_DAY, date(2026, 10, 1),
                                 LAST_DAY, LAST_DAY + timedelta(days=1), date(4423, 8, 10)])
def test_an_activity_day_is_accepted_exactly_when_the_schema_allows_it(
        fuzz_target: FuzzTarget, day: date) -> None:
    path = "/v1/projects/{project}/activity"
    parameters = fuzz_target.app.openapi()["paths"][path]["get"]["parameters"]
    schema = next(p["schema"] for p in parameters if p["name"] == "since")
    allowed = re.fullmatch(schema.get("pattern", ".*"), day.isoformat()) is not None
    with TestClient(fuzz_target.app) as client:
        response = client.get(path.format(project=fuzz_target.ctx.settings.project),
                              params={"since": day.isoformat(), "until": day.isoformat()},
                              headers=fuzz_target.auth)
    assert (response.status_code == 200) == allowed, (day, allowed, response.text)
