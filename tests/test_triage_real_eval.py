"""The real-issues triage eval (evals/triage_real): its measures on hand-made cases, the blind
judgments' join, and a --fake run on a handful of records where incoming gold never reaches
the drafting loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from evals.triage_real import __main__ as cli
from evals.triage_real import build, loop
from evals.triage_real.data import public, split, triage_input
from evals.triage_real.judge import item_id, join, judge_items, read_judgments, rubric_table
from evals.triage_real.measures import (
    all_links,
    auc,
    doc_hit,
    dup_targets,
    flag_precision,
    label_scores,
    recall_at,
    reply_flags,
)

SENTINEL = "ZZGOLDSENTINEL"


# ------------------------------------------------------------------------------ measures


def test_label_scores_micro_and_process_labels_apart():
    pairs = [({"bug", "stale"}, {"bug", "question", "stale"}),  # bug right, question missed
             ({"doc"}, set()),                            # a wrong label on an unlabelled issue
             (set(), {"stale", "enhancement"})]           # abstained
    content = label_scores(pairs)
    assert (content["tp"], content["predicted"], content["gold"]) == (1, 2, 3)
    assert content["P"] == 0.5 and content["R"] == 0.333 and content["F1"] == 0.4
    process = label_scores(pairs, process=True)
    assert (process["tp"], process["predicted"], process["gold"]) == (1, 1, 2)
    assert label_scores([(set(), set())])["P"] is None


def _record(number: int, targets: list[tuple[str, bool]], **gold: Any) -> dict[str, Any]:
    return {"repository": "apache/apisix", "number": number, "gold": {
        "in_set_targets": [{"target": t, "via": "duplicate_of", "target_created_earlier": e}
                           for t, e in targets],
        "duplicate_of": [], "same_report_as": [], "related": [], **gold}}


def test_dup_recall_counts_only_targets_created_earlier():
    later = _record(2918, [("apache/apisix#2919", False)])
    earlier = _record(2919, [("apache/apisix#2918", True)])
    assert dup_targets(later) == [] and dup_targets(earlier) == ["apache/apisix#2918"]
    queries = [(["apache/apisix#1", "apache/apisix#2", "apache/apisix#2918"],
                dup_targets(earlier)),
               (["apache/apisix#5", "apache/apisix#6", "apache/apisix#7", "apache/apisix#8"],
                ["apache/apisix#8"])]  # found at rank 4: not shown
    found = recall_at(queries)
    assert (found["found"], found["targets"], found["recall@3"]) == (1, 2, 0.5)
    assert recall_at([])["recall@3"] is None


def test_flag_precision_accepts_any_maintainer_link_and_cross_repo_keys():
    record = _record(336, [], duplicate_of=["apache/apisix-docker#304"], related=[7],
                     same_report_as=["apache/apisix#7524"])
    record["repository"] = "apache/apisix-docker"
    links = all_links(record)
    assert links == {"apache/apisix-docker#304", "apache/apisix-docker#7", "apache/apisix#7524"}
    result = flag_precision([(["apache/apisix-docker#304", "apache/apisix#304"], links),
                             ([], set())])
    assert (result["flags"], result["right"], result["precision"]) == (2, 1, 0.5)
    assert result["drafts_flagging"] == 1


def test_doc_hit_page_level_either_language():
    docs = [{"path": "docs/zh/latest/plugins/cors.md", "cited": False},
            {"path": "docs/en/latest/FAQ.md", "cited": True}]
    assert doc_hit(docs, ["docs/en/latest/plugins/cors.md"]) == {"cited": False, "shown": True}
    assert doc_hit(docs, ["docs/en/latest/FAQ.md#anchor"]) == {"cited": True, "shown": True}
    assert doc_hit(docs, ["docs/en/latest/admin-api.md"]) == {"cited": False, "shown": False}


def test_reply_flags_and_auc():
    assert reply_flags("Thank you for the documentation passages. Try `x`.")["thanks_docs"]
    assert reply_flags("感谢您提供的文档。")["thanks_docs"]
    assert not reply_flags("Thanks for the report. Which version do you run?")["thanks_docs"]
    assert reply_flags("We will fix this in the next release.")["promise"]
    assert reply_flags("I have closed this issue.")["action_claim"]
    assert auc([0.9, 0.8], [0.1, 0.8]) == 0.875
    assert auc([0.5], []) is None


# ------------------------------------------------------------------------------ blind rubric


def _gold(number: int, answer: str) -> dict[str, Any]:
    return {"repository": "apache/apisix", "number": number, "title": f"title {number}",
            "body": "x" * 3000, "gold": {"maintainer_answer": answer, "answer_type": "needs_info"}}


def test_judge_items_are_blind_and_the_join_reads_the_key(tmp_path: Path):
    gold = {"apache/apisix#1": _gold(1, "which version?"), "apache/apisix#2": _gold(2, "")}
    rows = [{"system": s, "key": k, "reply": f"{s} reply", "confidence": c}
            for s, c in (("chain", 0.9), ("naive", None)) for k in gold]
    items, keys = judge_items(rows, gold, "abc123")
    assert len(items) == 2  # the unanswered issue is not judged
    for item in items:
        assert set(item) == {"id", "title", "body", "maintainer_answer", "answer_type", "reply"}
        assert len(item["body"]) == 1500
        assert item["reply"] in ("chain reply", "naive reply")
        assert len(item["id"]) == 11 and not any(w in item["id"] for w in ("chain", "naive",
                                                                           "apisix", "#"))
    assert {v["system"] for v in keys.values()} == {"chain", "naive"}
    assert item_id("chain", "apache/apisix#1", "abc123") in keys

    chain_id = item_id("chain", "apache/apisix#1", "abc123")
    naive_id = item_id("naive", "apache/apisix#1", "abc123")
    path = tmp_path / "judgments.jsonl"
    path.write_text("\n".join(json.dumps(j) for j in [
        {"id": chain_id, "score": 2, "reason": "asks for the version", "promise": False,
         "action_claim": False, "unsupported_claim": False, "thanks_docs": False},
        {"id": naive_id, "score": 0, "reason": "promises a fix", "promise": True,
         "action_claim": False, "unsupported_claim": True, "thanks_docs": False}]))
    joined, unjudged = join(read_judgments(path), keys)
    assert unjudged == []
    table = rubric_table(joined)
    assert table["chain"]["%2"] == 100.0 and table["chain"]["harmful"] == 0
    assert table["naive"]["%0"] == 100.0 and table["naive"]["harmful"] == 1
    assert table["naive"]["promise"] == 1 and table["naive"]["unsupported_claim"] == 1
    assert table["naive"]["confidence_auc_2_over_0"] is None  # the naive reply has none

    path.write_text(json.dumps({"id": chain_id, "score": 3, "reason": "x"}))
    with pytest.raises(ValueError, match="score"):
        read_judgments(path)
    path.write_text(json.dumps({"id": "jnothere", "score": 1, "reason": "x"}))
    with pytest.raises(ValueError, match="not in the key"):
        join(read_judgments(path), keys)


def test_rubric_auc_ranks_drafts_scored_2_above_0():
    rows = [{"system": "pieces", "commit": "c", "score": s, "confidence": c, "promise": False,
             "action_claim": False, "unsupported_claim": False, "thanks_docs": False}
            for s, c in ((2, 0.9), (2, 0.4), (0, 0.5), (0, 0.1), (1, 0.7))]
    assert rubric_table(rows)["pieces"]["confidence_auc_2_over_0"] == 0.75


# ------------------------------------------------------------------------------ a --fake run


def _issue(number: int, split_: str, day: str, title: str, body: str, *, answer: str = "",
           labels: list[str] | None = None, comments: list[dict] | None = None,
           **gold: Any) -> dict[str, Any]:
    return {
        "repository": "apache/apisix", "number": number, "title": title, "body": body,
        "state": "closed" if split_ == "past" else "open", "state_reason": None,
        "labels": [{"name": n} for n in (labels or [])], "user": {"login": f"user{number}"},
        "author_association": None, "created_at": f"{day}T00:00:00Z",
        "html_url": f"https://github.com/apache/apisix/issues/{number}",
        "comments": comments or [],
        "gold": {"split": split_, "real_labels": labels or [], "form_labels": [],
                 "duplicate_of": [], "related": [], "same_report_as": [], "in_set_targets": [],
                 "doc_links": [], "maintainer_answer": answer, "answer_type": "none",
                 "lang": "en", "lang_mixed": False, **gold},
    }


def _comment(login: str, body: str, maintainer: str = "yes") -> dict[str, Any]:
    return {"user": {"login": login}, "author_association": None, "maintainer": maintainer,
            "body": body, "created_at": "2021-01-01T00:00:00Z"}


def _dataset(folder: Path) -> Path:
    cors = "The cors plugin rejects my preflight request with 403 when allow_origins is set."
    hidden = {"state": "closed", "comments": [_comment("membphis", f"{SENTINEL} hidden")]}
    records = [
        _issue(100, "past", "2021-01-01", "bug: cors preflight returns 403", cors,
               labels=["bug"], answer="see the cors docs",
               comments=[_comment("membphis", "Set allow_origins to the full origin.")]),
        _issue(101, "past", "2021-02-01", "request help: jwt-auth key not found",
               "jwt-auth says missing key when I send the token in a cookie.",
               labels=["question"], comments=[_comment("spacewander", "Use the header.")]),
        _issue(102, "past", "2021-03-01", "how to enable cors for all routes",
               "I want cors on every route, is there a global rule?", labels=["question"],
               comments=[_comment("tokers", "Use a global rule with the cors plugin, see "
                                            "https://apisix.apache.org/docs/apisix/plugins/cors/")],
               doc_links=[{"url": "x", "path": "docs/en/latest/plugins/cors.md"}]),
        _issue(103, "past", "2021-03-02", "how to enable cors for all routes",
               "I want cors on every route, is there a global rule?",
               in_set_targets=[{"target": "apache/apisix#102", "via": "same_report_as",
                                "target_created_earlier": True}],
               same_report_as=[102]),
        _issue(200, "incoming", "2024-01-01", "bug: cors 403 on preflight", cors,
               answer=f"{SENTINEL} maintainer answer", hidden_at_triage=hidden,
               note=SENTINEL),
        _issue(201, "incoming", "2024-01-02", "jwt-auth cookie token",
               "jwt-auth cannot read the token from a cookie, missing key error.",
               real_labels=["question", "stale"]),
        _issue(202, "incoming", "2024-01-03", "bug: cors 403 on preflight again", cors,
               answer="duplicate", duplicate_of=[200],
               in_set_targets=[{"target": "apache/apisix#200", "via": "duplicate_of",
                                "target_created_earlier": True}]),
    ]
    folder.mkdir()
    with (folder / "issues.jsonl").open("w") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    (folder / "labels.json").write_text(json.dumps(
        [{"name": n, "color": None, "description": None} for n in ("bug", "question", "stale")]))
    return folder


def _docs(folder: Path) -> Path:
    tree = folder / "docs" / "en" / "latest" / "plugins"
    tree.mkdir(parents=True)
    (tree / "cors.md").write_text("# cors\n\nThe cors plugin sets allow_origins; a preflight "
                                  "request gets 403 when the origin is not allowed.\n")
    (tree / "jwt-auth.md").write_text("# jwt-auth\n\nThe jwt-auth plugin reads the token from "
                                      "the header, the query or a cookie.\n")
    return folder


class Recording(FakeListChatModel):
    """The fake chat model, keeping every prompt it was given."""

    seen: list[str] = []  # noqa: RUF012 (shared on purpose: one list for the test)

    def _call(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[override]
        Recording.seen.extend(str(m.content) for m in messages)
        return super()._call(messages, stop=stop, run_manager=run_manager, **kwargs)


def test_fake_run_end_to_end_without_incoming_gold(tmp_path: Path, monkeypatch):
    data, docs = _dataset(tmp_path / "set"), _docs(tmp_path / "docs")
    Recording.seen = []
    recording = Recording(responses=["Set allow_origins to the origin of your page [1]."])
    monkeypatch.setattr("assistant.context.build_chat_model", lambda *a, **k: recording)
    monkeypatch.setattr(loop, "build_chat_model", lambda *a, **k: recording)
    ingested: list[str] = []
    real_ingest = build.ingest_issue_files
    monkeypatch.setattr(build, "ingest_issue_files", lambda s, i, paths, **k: (
        ingested.extend(p.read_text() for p in paths), real_ingest(s, i, paths, **k))[1])

    out = tmp_path / "out"
    cli.main(["--data", str(data), "--docs", str(docs), "--fake", "--systems", "chain,naive",
              "--out", str(out)])

    results = json.loads((out / "results.json").read_text())
    drafts = results["drafts"]
    assert sorted((d["system"], d["key"]) for d in drafts) == sorted(
        (s, f"apache/apisix#{n}") for s in ("chain", "naive") for n in (200, 201, 202))
    assert [d["key"] for d in results["docs_loo"]] == ["apache/apisix#102"] * 2
    assert {d["key"] for d in results["dup_loo"]} == {"apache/apisix#103", "apache/apisix#202"}
    chain = results["summaries"]["chain"]
    assert chain["drafts"] == 3 and chain["labels"]["with_form_labels"]["issues"] == 3
    assert chain["duplicates"]["shown"]["targets"] == 1  # 202 -> 200, the only scorable one
    assert results["summaries"]["naive"]["labels"] is None
    items = [json.loads(x) for x in (out / "judge_items.jsonl").read_text().splitlines()]
    key = json.loads((out / "judge_key.json").read_text())
    assert len(items) == 4 and set(key) == {i["id"] for i in items}  # 200 and 202, 2 systems
    assert (out / "latency.png").is_file() and (out / "report.md").is_file()

    # incoming gold never reached a prompt nor the index; past comments did reach the index
    assert Recording.seen and not any(SENTINEL in p for p in Recording.seen)
    assert ingested and not any(SENTINEL in text for text in ingested)
    assert any("Set allow_origins to the full origin." in text for text in ingested)
    assert not any('"gold"' in text for text in ingested)

    scored = tmp_path / "scored"
    cli.main(["score", "--run", str(out), "--out", str(scored), "--data", str(data)])
    assert "chain" in (scored / "report.md").read_text()


def test_the_drafting_loop_refuses_gold_and_the_input_has_none(tmp_path: Path):
    records = [json.loads(x) for x in
               (_dataset(tmp_path / "set") / "issues.jsonl").read_text().splitlines()]
    _, incoming = split(records)
    with pytest.raises(ValueError, match="gold"):
        loop.draft_incoming(None, ["chain"], incoming, set(), None)  # type: ignore[arg-type]
    issue = triage_input(public(incoming[0]))
    assert SENTINEL not in issue.model_dump_json()
    assert "gold" not in public(incoming[0]) and "gold" in incoming[0]
