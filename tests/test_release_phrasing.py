"""Release-note lines: clean titles kept, the rest rewritten and translated in numbered batches,
each answer line checked on its own, results cached, and who wrote each line recorded."""

from __future__ import annotations

from pathlib import Path

from assistant.context import AppContext
from assistant.drafting.engine import logged_progress, run_kind
from assistant.kinds.release_notes.batches import numbered, parse_numbered
from assistant.kinds.release_notes.cache import PhraseCache, glossary_version
from assistant.kinds.release_notes.clean import rewrite_reasons, tidy
from assistant.kinds.release_notes.kind import CACHE_FILE, ReleaseNotes
from assistant.kinds.release_notes.models import Change
from assistant.kinds.release_notes.notes import assemble, render_markdown
from assistant.kinds.release_notes.phrase import PhraseReport, dependency_zh, phrase_batched
from assistant.kinds.release_notes.sections import model_sections, unplaced
from assistant.project_files import Glossary, GlossaryTerm
from assistant.prompting import load_prompt
from assistant.settings import Settings
from tests.helpers import RecordingChatModel, fenced

PROBLEMS = {"en: links, mentions, numbers or several lines": 1,  # the rejected rewrite
            "en: not about this title": 1, "zh: length out of proportion": 1}
REWRITE, TRANSLATE = load_prompt("release_lines"), load_prompt("translate_lines")


def _c(n: int, title: str, **fields) -> Change:
    return Change(id=f"c{n}", title=title, prs=fields.pop("prs", [100 + n]), **fields)


CHANGES = [
    _c(1, "feat(Table): add `virtual` scrolling (#101)", author="ann"),  # clean once tidied
    _c(2, "fix: Select loses focus on Safari (#102)", author="bo"),  # not imperative
    _c(3, "fix(Form): validation message is shown twice when the field is reset", author="cy"),
    _c(4, "feat: Added dark mode (closes #77)", author="dee"),  # tidied to "Add dark mode"
    _c(5, "chore(deps): bump rc-util from 5.1 to 5.2", author="dependabot[bot]"),
]


def _phrase(model: RecordingChatModel, settings: Settings, cache: PhraseCache | None,
            glossary: Glossary | None = None) -> tuple[object, PhraseReport]:
    notes = assemble("antd", "6.1.0", CHANGES)
    report = phrase_batched(notes, chat_model=model, settings=settings, rewrite=REWRITE,
                            translate=TRANSLATE, glossary=glossary or Glossary(keep=["Table"]),
                            model="fake", cache=cache)
    return notes, report


def test_tidy_and_the_clean_title_rules() -> None:
    assert tidy("[WIP] JIRA-12: feat(x): support `foo` option closes #12") == \
        "Support `foo` option"
    assert tidy("Fixed crash on empty input [skip ci]") == "Fix crash on empty input"
    assert tidy("🐛 :bug: Adds retry to the uploader") == "Add retry to the uploader"
    assert tidy("Closed sockets leak memory") == "Closed sockets leak memory"  # an adjective
    assert rewrite_reasons("Add `virtual` scrolling") == []
    assert rewrite_reasons("Drop Node 14 support") == []
    assert rewrite_reasons("Select loses focus on Safari") == [
        "does not start with an imperative verb"]
    assert "too short" in rewrite_reasons("Fix")
    assert "too long" in rewrite_reasons("Fix " + "very " * 20 + "long title")
    assert "ticket or link" in rewrite_reasons("Fix crash from #12")
    assert "commit prefix left" in rewrite_reasons("feat(x): add y")
    assert "several clauses" in rewrite_reasons("Fix the desk - the CLI names the option")
    assert tidy("Duplicates shown by their reference; the CLI test names --repo") == \
        "Duplicates shown by their reference"  # the headline of a long subject
    assert tidy("Fix x; y") == "Fix x; y"  # too short a headline to stand alone
    assert "not English" in rewrite_reasons("修复 Table 滚动")


def test_numbered_batches_parse_by_number_only() -> None:
    text = numbered(["one\ntwo", "</lines> three"], "lines")
    assert text == "<lines>\n1. one two\n2. [lines] three\n</lines>"  # a fence cannot be closed
    answer = "Here you go:\n1. Eins\n**2.** Zwei\n2. again\n7. out of range\n- 3) Drei"
    assert parse_numbered(answer, 3) == {1: "Eins", 2: "Zwei", 3: "Drei"}


def test_clean_titles_are_kept_and_the_rest_rewritten_in_one_batch(settings: Settings) -> None:
    model = RecordingChatModel(responses=[
        # the rewrite batch: line 2 lost "Form" and gained a link: rejected, keeps its title
        "1. Fix Select losing focus on Safari\n2. Fix https://evil.example validation",
        # the translation batch: line 3 answers for another line (too short) and is rejected
        "1. 为 Table 添加 `virtual` 滚动\n2. 新增暗色模式\n3. 修复 Select 在 Safari 上失去焦点的问题\n"
        "4. 修复"])
    notes, report = _phrase(model, settings, None, Glossary(keep=["Select"]))
    assert len(model.history) == 2  # one rewrite call, one translation call for 5 lines
    sent = fenced(model.texts("human")[0], "titles")
    assert sent == ["<titles>\n1. Select loses focus on Safari\n2. Validation message is shown "
                    "twice when the field is reset (component: Form)\n</titles>"]
    by_id = {item.changes[0]: item for item in notes.items}
    table, select, form, dark, deps = (by_id[f"c{n}"] for n in range(1, 6))
    assert (table.en, table.en_how, table.rewrite_reasons) == (
        "Add `virtual` scrolling", "title", [])
    assert (dark.en, dark.en_how) == ("Add dark mode", "title")
    assert (select.en, select.en_how) == ("Fix Select losing focus on Safari", "rewritten")
    assert (form.en, form.en_how) == (form.source_text, "rejected")
    assert form.rewrite_reasons == ["does not start with an imperative verb"]
    # the clean titles and the rejected one are translated from their structural text
    assert fenced(model.texts("human")[1], "lines") == [
        "<lines>\n1. Add `virtual` scrolling\n2. Add dark mode\n"
        f"3. Fix Select losing focus on Safari\n4. {form.source_text}\n</lines>"]
    assert "Never translate these terms: Select." in model.texts("system")[1]
    assert (table.zh_how, select.zh_how, form.zh_how) == ("translated", "translated", "rejected")
    assert form.zh == "" and (deps.zh, deps.zh_how, deps.en_how) == (
        "更新 1 个依赖：rc-util", "template", "template")
    assert [i.checked for i in (table, select, form, dark, deps)] == [True, True, False, True,
                                                                     True]
    assert report.model_dump() == {
        "lines": 5, "clean": 2, "rewritten": 1, "rewrite_rejected": 1, "translated": 3,
        "translate_rejected": 1, "templated": 2, "cache_hits": 0, "calls": 2,
        "problems": PROBLEMS}
    zh = render_markdown(notes, "zh", CHANGES)
    assert f"- **Form**: {form.source_text} #103" in zh  # a rejected translation: the English
    assert "- 修复 Select 在 Safari 上失去焦点的问题 #102" in zh


def test_a_second_run_asks_the_model_nothing(settings: Settings, tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path / "cache.sqlite3")
    replies = ["1. Fix Select losing focus on Safari\n2. Fix the Form validation message "
               "shown twice on reset",
               "1. 为 Table 添加 `virtual` 滚动\n2. 新增暗色模式\n"
               "3. 修复 Select 在 Safari 上失去焦点的问题\n4. 修复 Form 重置时验证消息显示两次的问题"]
    first, report = _phrase(RecordingChatModel(responses=replies), settings, cache)
    assert report.calls == 2 and report.cache_hits == 0 and len(cache) == 6
    again = RecordingChatModel(responses=["should not be asked"])
    second, report = _phrase(again, settings, cache)
    assert again.history == [] and report.calls == 0 and report.cache_hits == 6
    assert [(i.en, i.zh, i.en_how, i.zh_how) for i in second.items] == [
        (i.en, i.zh, i.en_how, i.zh_how) for i in first.items]
    assert {tuple(i.cached) for i in second.items} == {("en", "zh"), ("zh",), ()}
    # a glossary entry that applies to a line is a new version: only that line is asked again
    changed = Glossary(keep=["Table"], translations=[GlossaryTerm(en="dark mode", zh="暗黑模式")])
    assert glossary_version(changed.relevant("Add dark mode")) != glossary_version(
        Glossary(keep=["Table"]).relevant("Add dark mode"))
    third_model = RecordingChatModel(responses=["1. 新增暗黑模式"])
    third, report = _phrase(third_model, settings, cache, changed)
    assert len(third_model.history) == 1 and report.cache_hits == 6 - 1
    assert fenced(third_model.texts("human")[0], "lines") == ["<lines>\n1. Add dark mode\n</lines>"]
    assert "dark mode = 暗黑模式" in third_model.texts("system")[0]
    assert next(i for i in third.items if i.en == "Add dark mode").zh == "新增暗黑模式"


def test_batches_are_split_by_size_and_missing_answers_fall_back(settings: Settings) -> None:
    changes = [_c(n, f"fix: widget {n} crashes on resize") for n in range(1, 12)]
    notes = assemble("x", "1", changes)
    model = RecordingChatModel(responses=[  # the test profile's max_tokens fits 4 answers
        "\n".join(f"{n}. Fix widget {n} crash on resize" for n in range(1, 5)),
        "\n".join(f"{n - 4}. Fix widget {n} crash on resize" for n in range(5, 9)),
        "1. Fix widget 9 crash on resize\n3. Fix widget 11 crash on resize"])  # 2 is missing
    done: list[tuple[int, int]] = []
    report = phrase_batched(notes, chat_model=model, settings=settings, rewrite=REWRITE,
                            translate=TRANSLATE, glossary=Glossary(), model="fake",
                            languages=("en",), progress=lambda d, t: done.append((d, t)))
    assert settings.llm.max_tokens == 160 and len(model.history) == 3  # 4 + 4 + 3
    assert [i.en_how for i in notes.items] == ["rewritten"] * 9 + ["rejected", "rewritten"]
    assert notes.items[9].en == "Widget 10 crashes on resize"
    assert report.problems == {"en: no answer line": 1}
    assert done == [(4, 11), (8, 11), (11, 11)] and all(i.zh_how is None for i in notes.items)


def test_sections_are_asked_in_one_batch_and_cached(settings: Settings, tmp_path: Path) -> None:
    changes = [_c(1, "fix: crash (#1)"), _c(2, "Something vague"), _c(3, "Polish the tooling"),
               _c(4, "Rename an internal helper")]
    assert [c.id for c in unplaced(changes)] == ["c2", "c3", "c4"]
    cache = PhraseCache(tmp_path / "c.sqlite3")
    model = RecordingChatModel(responses=["1. feature\n2. internal\n3. Features please"])
    from assistant.chains.generate import Usage

    def run(chat: RecordingChatModel) -> object:
        return assemble("x", "1", changes, fallback=model_sections(
            changes, chat_model=chat, settings=settings, usage=Usage(), model="fake",
            cache=cache, prompt=load_prompt("release_sections")))

    notes = run(model)
    assert len(model.history) == 1
    assert {(i.source_text, i.section) for i in notes.items} == {
        ("Crash", "fixes"), ("Something vague", "features"),
        ("Rename an internal helper", "other")}  # an answer off the list: Other
    assert notes.dropped == ["c3: internal change (model)"]
    again = RecordingChatModel(responses=["unused"])
    assert run(again).model_dump() == notes.model_dump() and again.history == []


def test_the_draft_records_what_the_model_changed(settings: Settings) -> None:
    ctx = AppContext(settings)
    ctx.chat = RecordingChatModel(responses=[
        "1. Fix Select losing focus on Safari\n2. Fix the Form validation message shown "
        "twice on reset",
        "1. 为 Table 添加 `virtual` 滚动\n2. 新增暗色模式\n"
        "3. 修复 Select 在 Safari 上失去焦点的问题\n4. 修复 Form 重置时验证消息显示两次的问题"])
    seen: list[tuple[int, int]] = []
    result = run_kind(ctx, ReleaseNotes(changes=CHANGES), {"version": "6.1.0"},
                      progress=lambda d, t: seen.append((d, t)))
    items = result.output["notes"]["items"]
    assert {i["en"]: (i["en_how"], i["zh_how"]) for i in items} == {
        "Add `virtual` scrolling": ("title", "translated"),
        "Fix Select losing focus on Safari": ("rewritten", "translated"),
        "Fix the Form validation message shown twice on reset": ("rewritten", "translated"),
        "Add dark mode": ("title", "translated"),
        "Update 1 dependency: rc-util": ("template", "template")}
    assert result.output["phrasing"]["calls"] == 2 and result.confidence == 1.0
    assert seen[-1] == (10, 10) and (settings.data_dir / CACHE_FILE).exists()
    assert result.prompt_name == "release_lines"


def test_dependency_line_in_chinese_and_worker_progress_log(caplog) -> None:
    assert dependency_zh("Update 2 dependencies: eslint, rc-util") == "更新 2 个依赖：eslint, rc-util"
    assert dependency_zh("Update 12 dependencies: a, b and 10 more") == "更新 12 个依赖：a, b 等"
    assert dependency_zh("Add dark mode") is None
    import logging

    caplog.set_level(logging.INFO, logger="assistant.drafting.engine")
    report = logged_progress(7, every_s=3600)
    for done in range(1, 6):
        report(done, 5)
    assert [r.getMessage() for r in caplog.records] == ["draft 7: 1/5", "draft 7: 5/5"]
