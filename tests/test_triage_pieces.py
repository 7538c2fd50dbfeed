"""The default triage reply, built from verified pieces: the model's closed choice of a docs
sentence, maintainers' past answers quoted with their link, code's opening and next step."""

from __future__ import annotations

import re

import pytest

from assistant.context import AppContext
from assistant.drafting.engine import draft_now
from assistant.forge.shapes import IssueInput, issue_from_json_file
from assistant.kinds.triage.answers import clean_answer, quote_of
from assistant.kinds.triage.models import TriageDraft
from assistant.kinds.triage.pieces import _THANKS_DOCS, doc_candidates, supported_only
from assistant.language import reporter_language
from assistant.store.models import DraftKind
from assistant.textrules import ACTION_CLAIM, PROMISE
from tests.conftest import EXAMPLE
from tests.helpers import RecordingChatModel, fenced

LINK = re.compile(r"\]\((\S+?)\)|https?://\S+")


@pytest.fixture
def ctx(triage_ctx: AppContext) -> AppContext:
    return triage_ctx


def _draft(record) -> TriageDraft:
    return TriageDraft.model_validate(dict(record.output, docs=record.sources))


def _quoted(markdown: str) -> list[str]:
    return [line[2:] for line in markdown.splitlines() if line.startswith("> ")]


def test_the_models_choice_is_quoted_verbatim_with_its_link(ctx: AppContext) -> None:
    ctx.chat = RecordingChatModel(responses=["1"])
    issue = issue_from_json_file(EXAMPLE / "incoming" / "161-lock-error.json")
    draft = _draft(draft_now(ctx, DraftKind.TRIAGE, issue))
    assert draft.reply_mode == "pieces" and draft.usage.calls == 1
    (call,) = ctx.chat.history
    offered = re.findall(r"^(\d)\. (.+)$", call[1].content, re.MULTILINE)
    assert len(offered) >= 2 and offered[-1][0] == "0"  # numbered sentences, 0 = none
    first = dict(offered)["1"]
    quote = next(p for p in draft.pieces if p.kind == "doc_quote")
    assert quote.by_model and first in " ".join(_quoted(draft.reply_markdown))
    cited = [d for d in draft.docs if d.cited]
    assert len(cited) == 1 and quote.source == cited[0].url
    _ids, texts, _metas = ctx.index().documents({"path": cited[0].path})
    assert any(first in " ".join(t.split()) for t in texts)  # verbatim from the cited page
    ingested = {str(m["url"]) for m in ctx.index().entries().values()}
    links = {m.group(1) or m.group(0) for m in LINK.finditer(draft.reply_markdown)}
    assert links and links <= ingested
    assert fenced(call[1].content, "issue")  # the issue only inside its fence
    # the code's own words: no promise, no claimed action, no thanks for the docs
    own = "\n".join(p.text for p in draft.pieces if p.kind in ("opening", "next_step"))
    assert own and not PROMISE.search(own) and not ACTION_CLAIM.search(own)
    assert not _THANKS_DOCS.search(draft.reply_markdown)
    assert draft.confidence_evidence.get("doc_quote") and draft.confidence > 0.3


@pytest.mark.parametrize("answer", ["0", "none of them", "99", "7. Ignore the rules"])
def test_no_choice_or_an_out_of_range_one_quotes_nothing(ctx: AppContext, answer: str) -> None:
    ctx.chat = RecordingChatModel(responses=[answer])
    issue = IssueInput(title="kvlite crashes when I open my database",
                       body="It crashes every time I open the database. Please help!",
                       author="newbie", number=301)
    draft = _draft(draft_now(ctx, DraftKind.TRIAGE, issue))
    assert not any(p.kind == "doc_quote" for p in draft.pieces)
    assert not any(d.cited for d in draft.docs)
    assert draft.missing and all(m.question in draft.reply_markdown for m in draft.missing)
    assert answer not in draft.reply_markdown or answer == "0"


def test_a_maintainers_past_answer_is_quoted_with_its_link(ctx: AppContext) -> None:
    answers = ctx.index().entries({"part": "answer"})
    assert answers and all(m.get("answer_author") for m in answers.values())
    assert {m["answer_author"] for m in answers.values()} <= {"mira-chen", "tobias-k"}
    ctx.settings.triage.answer_min_score = 0.0
    ctx.chat = RecordingChatModel(responses=["0"])
    issue = IssueInput(
        title="LockError after close() on Windows",
        body="On Windows 11, after `db.close()` a second `kvlite.open()` of the same path in "
             "the same process raises LockError: database is locked. kvlite 0.9.0.",
        author="someone", number=305)
    draft = _draft(draft_now(ctx, DraftKind.TRIAGE, issue))
    assert draft.past_answers
    past = draft.past_answers[0]
    assert past.number in {d.number for d in draft.duplicates + draft.related}
    assert past.author in {"mira-chen", "tobias-k"} and past.url.startswith("https://github.com/")
    assert f"#{past.number}" in draft.reply_markdown
    assert past.quote[:60] in " ".join(_quoted(draft.reply_markdown))
    assert "@" not in "\n".join(_quoted(draft.reply_markdown))  # a quote never pings anyone
    assert draft.confidence_evidence.get("past_answer")


def test_chinese_pieces_reply_with_an_english_version_built_by_code(ctx: AppContext) -> None:
    ctx.chat = RecordingChatModel(responses=["1", "The reporter cannot build on Windows."])
    issue = issue_from_json_file(EXAMPLE / "incoming" / "162-windows-build.json")
    draft = _draft(draft_now(ctx, DraftKind.TRIAGE, issue))
    assert draft.language == "zh" and draft.summary_en
    assert draft.reply_markdown.startswith("感谢提交这个 issue。")
    assert draft.reply_en and draft.reply_en.startswith("Thanks for opening this issue.")
    assert draft.usage.calls == 2  # the choice and the summary: no translation call
    cited = [d for d in draft.docs if d.cited]
    assert cited and cited[0].language == "zh"  # the reporter's language first


def test_doc_candidates_are_prose_sentences_sharing_terms() -> None:
    passage = ("Locks\nStale locks\n\n## Stale locks\n\nA crashed process can leave a stale LOCK "
               "file behind, and kvlite then refuses to open the database.\n\n```bash\nkvlite "
               "unlock PATH\n```\n\n| option | default |\n|---|---|\n| x | y |\n\nRun "
               "`kvlite unlock` to remove a stale LOCK file once no process uses it.")
    found = doc_candidates("database is locked after a crash: stale LOCK file", [passage])
    texts = [c.text for c in found]
    assert texts and all("```" not in t and "|" not in t and not t.startswith("#")
                         for t in texts)
    assert any("stale LOCK file behind" in t for t in texts)
    assert doc_candidates("unrelated words entirely", [passage]) == []


def test_generative_sentences_stand_only_on_their_sources() -> None:
    sources = ["Run `kvlite unlock` to remove a stale LOCK file once no process uses it."]
    text = ("Thanks for the documentation passages! Run `kvlite unlock` to remove the stale "
            "LOCK file. Upgrading to version 2.0 fixes the corruption in the B-tree index.")
    kept, dropped, lowest = supported_only(text, sources, 0.6)
    assert "kvlite unlock" in kept and "B-tree" not in kept and "documentation" not in kept
    assert "sentence:thanks for the docs" in dropped and any("unsupported" in d for d in dropped)
    assert 0.6 <= lowest <= 1.0


def test_a_quoted_answer_has_no_links_mentions_or_code_blocks() -> None:
    answer = ("#12 title (answer)\n\nHi @someone, thanks! Set `listen_port` to 9443, see "
              "[the docs](https://evil.example.com/x) and https://x.example.org.\n\n```yaml\n"
              "a: b\n```\n> you wrote this\n<img src=x>")
    cleaned = clean_answer(answer)
    assert "@" not in cleaned and "http" not in cleaned and "```" not in cleaned
    assert "you wrote this" not in cleaned and "<img" not in cleaned
    assert "`listen_port`" in cleaned and "the docs" in cleaned
    assert quote_of(answer, "listen_port").startswith("Set `listen_port` to 9443")


@pytest.mark.parametrize(("title", "body", "expected"), [
    # an English title (rewritten by a translator bot) over a Chinese report with English logs
    ("bug: apisix keeps restarting in docker",
     "### Current Behavior\n\n执行 docker-compose up 之后发现 apisix 一直在重启。\n\n"
     "### Error Logs\n\nall etcd nodes are unavailable\nWarning! Request etcd endpoint "
     "'http://127.0.0.1:2379/version' error, connection refused, retry time=1\n", "zh"),
    # a Chinese reporter's environment lines and commands do not make it English
    ("请求帮助：限流不生效", "我配置了上游和限流路由，但是最后没有限流。\n\n* apisix version: 2.6\n"
     "* OS (cmd: `uname -a`): Linux localhost 3.10.0 x86_64 GNU/Linux\n", "zh"),
    # an English report with a Chinese file name stays English
    ("upload fails", "When I upload the file 报告.pdf the gateway returns 413, and the "
     "limit is already raised in the config.", "en"),
    ("", "```\n错误 错误 错误 错误\n```\nThe build fails with the error above on my laptop.", "en"),
])
def test_language_is_decided_on_the_reporters_prose(title: str, body: str,
                                                    expected: str) -> None:
    assert reporter_language(title, body) == expected


def test_a_triaged_issue_is_indexed_at_once_and_found_by_the_next(ctx: AppContext) -> None:
    ctx.chat = RecordingChatModel(responses=["0"])
    first = IssueInput(title="Segfault in zstd decompression when the value is 0 bytes",
                       body="kvlite 0.9.2 segfaults: `zstd_decompress_frame: src_size=0` "
                            "then SIGSEGV in libkvlite.so when reading an empty value.",
                       author="a", number=401, repo="example-org/kvlite",
                       url="https://github.com/example-org/kvlite/issues/401")
    draft_now(ctx, DraftKind.TRIAGE, first)
    stored = ctx.index().entries({"path": "issues/example-org/kvlite/401"})
    assert stored and {m["state"] for m in stored.values()} == {"open"}
    second = IssueInput(title="SIGSEGV reading an empty value (zstd_decompress_frame)",
                        body="Reading a key whose value is empty crashes with SIGSEGV in "
                             "`zstd_decompress_frame: src_size=0`, kvlite 0.9.2 on Linux.",
                        author="b", number=402)
    draft = _draft(draft_now(ctx, DraftKind.TRIAGE, second))
    assert 401 in [d.number for d in draft.duplicates + draft.related][:3]


def test_a_synced_issue_is_never_replaced_by_the_bare_report(ctx: AppContext) -> None:
    before = ctx.index().entries({"path": "issues/example-org/kvlite/127"})
    assert any(m.get("part") == "answer" for m in before.values())
    ctx.chat = RecordingChatModel(responses=["0"])
    again = IssueInput(title="a new title", body="a new body", author="x", number=127)
    draft_now(ctx, DraftKind.TRIAGE, again)
    assert ctx.index().entries({"path": "issues/example-org/kvlite/127"}) == before
