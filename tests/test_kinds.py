"""The draft-kind interface: every kind is registered, reachable from every face, and its input
is checked once, in one way."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.context import AppContext
from assistant.drafting.engine import parse_input, request_draft
from assistant.drafting.registry import KINDS, get_kind
from assistant.errors import InvalidInput
from assistant.forge.shapes import IssueInput
from assistant.settings import Settings
from assistant.store.keys import KeyStore
from assistant.store.models import DraftKind
from tests.test_cli import _one_line_error, devrel


def test_every_enum_value_has_its_kind() -> None:
    assert set(KINDS) == set(DraftKind)
    for name, kind in KINDS.items():
        assert kind.name == name and kind.summary and kind.input_model.__doc__
    with pytest.raises(InvalidInput, match="Unknown draft kind 'nope'"):
        get_kind("nope")


def test_every_kind_has_an_api_route_with_its_input_plus_project(settings: Settings) -> None:
    spec = create_app(AppContext(settings)).openapi()
    for kind in KINDS.values():
        body = spec["paths"][f"/v1/drafts/{kind.route}"]["post"]["requestBody"]
        ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        properties = spec["components"]["schemas"][ref]["properties"]
        expected = {kind.body_field} if kind.body_field else set(kind.input_model.model_fields)
        assert set(properties) == expected | {"project"}, kind.name


def test_one_converter_names_the_field_for_every_kind() -> None:
    for kind in KINDS.values():
        with pytest.raises(InvalidInput) as caught:
            parse_input(kind, {name: [] for name in kind.input_model.model_fields})
        assert f"Invalid {kind.name} input at " in caught.value.message
        assert caught.value.fix


def test_a_model_instance_is_checked_not_validated_again(settings: Settings) -> None:
    ctx = AppContext(settings)
    issue = IssueInput(title="database is locked", body="after kill -9")
    record = request_draft(ctx, DraftKind.TRIAGE, issue, project=None, requested_by="test")
    assert record.title == "database is locked" and record.input["body"] == "after kill -9"
    with pytest.raises(InvalidInput, match="The issue is empty"):
        request_draft(ctx, DraftKind.TRIAGE, IssueInput(), project=None, requested_by="test")


def test_a_community_update_period_must_be_ordered(settings: Settings) -> None:
    ctx = AppContext(settings)
    key = KeyStore(ctx.drafts().engine).create("bot", "bot")[1]
    with TestClient(create_app(ctx)) as client:
        response = client.post("/v1/drafts/community-update", headers={"X-API-Key": key},
                               json={"since": "2026-10-31", "until": "2026-10-01"})
    assert response.status_code == 422, response.text
    assert "before since" in response.json()["error"]["message"]
    assert ctx.drafts().counts() == {}


@pytest.mark.slow
def test_drafts_create_refuses_an_unknown_kind_and_bad_json(tmp_path: Path) -> None:
    _one_line_error(devrel("drafts", "create", "nope", data_dir=tmp_path), "Unknown draft kind")
    _one_line_error(devrel("drafts", "create", "newcomer_guide", "--data", "{oops",
                           data_dir=tmp_path), "--data is not JSON")
