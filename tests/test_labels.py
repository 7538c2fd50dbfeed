"""The triage label classifier: learns only the project's labels, abstains, trains from the index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.context import AppContext
from assistant.kinds.triage.labels import (
    LabelClassifier,
    classifier_for_index,
    issue_text,
    issue_vector,
    suggested,
)
from ingest.service import ingest_issue_files

BUG = [
    "App crashes with a segfault when opening a file",
    "Crash on startup: traceback shows NullPointerException",
    "Error thrown when saving, stack trace attached, regression since 2.1",
    "Segfault crash after upgrading, error in the log",
    "Exception and crash when the window is resized",
    "Regression: crash with an error when clicking save",
]
FEATURE = [
    "Feature request: please add support for dark mode",
    "It would be nice to add an option to export as CSV",
    "Add support for plugins, a proposal",
    "Proposal: support exporting to PDF, please add an option",
    "Please add a setting to customize the toolbar",
    "Request: support for keyboard shortcuts would be nice to add",
]
QUESTION = [
    "How do I configure the proxy? Is there documentation?",
    "How can I use this with Docker, what is the recommended way?",
    "Question: how do I change the default port?",
    "What is the best way to deploy this, how do I start?",
    "How do I install it on Windows? Any documentation?",
    "Is it possible to run this offline, how do I do that?",
]
TEXTS = BUG + FEATURE + QUESTION
LABELS = [["bug"]] * 6 + [["feature"]] * 6 + [["question"]] * 6
LABEL_SET = ["bug", "feature", "question"]


def test_learns_the_labels_from_labelled_examples() -> None:
    clf = LabelClassifier.train(TEXTS, LABELS, LABEL_SET)
    assert clf.labels == LABEL_SET
    assert clf.predict_one([
        "The editor crashes with a segfault error",
        "Please add support for a light theme option",
        "How do I configure logging, is there documentation?",
    ]) == ["bug", "feature", "question"]
    scores = clf.predict("Crash with a stack trace when saving")
    assert next(s.name for s in scores) == "bug"
    assert sorted(s.name for s in scores) == LABEL_SET
    assert [s.confidence for s in scores] == sorted((s.confidence for s in scores), reverse=True)
    assert all(0.0 <= s.confidence <= 1.0 for s in scores)
    # single-label training data: the confidences are a distribution over the labels
    assert sum(s.confidence for s in scores) == pytest.approx(1.0, abs=1e-3)


def test_never_predicts_a_label_outside_the_label_set_and_ignores_unknown_ones() -> None:
    labels = [[*ls, "wontfix", "triage: needed"] for ls in LABELS]  # not in the project's set
    clf = LabelClassifier.train(TEXTS, labels, ["bug", "feature", "documentation"])
    assert clf.labels == ["bug", "feature"]  # no examples of documentation, question not in set
    for text in [*QUESTION, "wontfix triage: needed"]:
        assert {s.name for s in clf.predict(text)} == {"bug", "feature"}
    # the question issues have no learnable label left: they are not used as negatives
    assert clf.exclusive


def test_skips_labels_with_too_few_examples() -> None:
    labels = [list(ls) for ls in LABELS]
    labels[0].append("platform: windows")
    labels[6].append("platform: windows")
    clf = LabelClassifier.train(TEXTS, labels, [*LABEL_SET, "platform: windows"], min_examples=3)
    assert "platform: windows" not in clf.labels
    labels[12].append("platform: windows")  # now 3 examples: learned, multi-label model
    clf = LabelClassifier.train(TEXTS, labels, [*LABEL_SET, "platform: windows"], min_examples=3)
    assert "platform: windows" in clf.labels
    assert not clf.exclusive


def test_nothing_to_learn_is_an_error() -> None:
    with pytest.raises(ValueError, match="examples"):
        LabelClassifier.train(TEXTS, LABELS, ["enhancement"])


def test_uses_vectors_when_given_and_then_requires_them() -> None:
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 16))
    vectors = np.vstack([centers[i // 6] + 0.1 * rng.normal(size=16) for i in range(18)])
    texts = [f"issue {i}" for i in range(18)]  # no textual signal at all
    clf = LabelClassifier.train(texts, LABELS, LABEL_SET, vectors)
    assert clf.uses_vectors
    assert clf.predict_one(["issue x", "issue y"], centers[[2, 0]]) == ["question", "bug"]
    with pytest.raises(ValueError, match="vector"):
        clf.predict("issue z")


def test_suggested_abstains_below_the_threshold() -> None:
    clf = LabelClassifier.train(TEXTS, LABELS, LABEL_SET)
    scores = clf.predict("Crash with a segfault error and a stack trace")
    assert [s.name for s in suggested(scores, 0.5)] == ["bug"]
    assert suggested(scores, 1.01) == []


def test_issue_text_drops_template_noise_and_truncates() -> None:
    body = (
        "<!-- Please fill in the template below -->\n### Version\n\n_No response_\n\n"
        "### Steps\n\nSee https://example.com/some/long/path?x=1\n\n"
        "```\n" + "\n".join(f"line {i}" for i in range(30)) + "\n```\n<!-- unterminated"
    )
    text = issue_text("Crash on save", body)
    assert text.startswith("Crash on save\n\n### Version")
    assert "Please fill" not in text and "No response" not in text and "unterminated" not in text
    assert "url:example.com" in text and "/some/long/path" not in text
    assert "line 7" in text and "line 8" not in text
    assert len(issue_text("t", "x" * 10_000, max_chars=500)) == 500


@pytest.fixture
def issue_index(settings, example_dir):
    ctx = AppContext(settings)
    index = ctx.index()
    ingest_issue_files(settings, index, [example_dir / "issues.json", example_dir / "comments.json"])
    return index


def test_classifier_for_index_trains_on_the_ingested_issues(issue_index, example_dir) -> None:
    ids, vectors, metadatas = issue_index.vectors({"part": "body"})
    assert len(ids) == len(metadatas) == vectors.shape[0] > 0
    assert vectors.shape[1] == len(issue_index.embedder.embed_documents(["x"])[0])

    clf = classifier_for_index(issue_index)
    assert clf is not None and clf.uses_vectors
    # labels with at least 3 issues/PRs in examples/kvlite/issues.json
    assert clf.labels == ["area: bindings", "bug", "platform: windows", "question"]

    incoming = json.loads((example_dir / "incoming" / "161-lock-error.json").read_text())
    text = issue_text(incoming["title"], incoming["body"])
    scores = clf.predict(text, issue_vector(issue_index, incoming["title"], incoming["body"]))
    assert {s.name for s in scores} == set(clf.labels)
    assert all(0.0 <= s.confidence <= 1.0 for s in scores)

    project_labels = [label["name"] for label in json.loads((example_dir / "labels.json").read_text())]
    only = classifier_for_index(issue_index, ["bug", "question", "not-a-label"])
    assert only is not None and only.labels == ["bug", "question"]
    assert set(only.labels) <= set(project_labels)


def test_classifier_for_index_is_cached_until_the_issues_change(issue_index) -> None:
    first = classifier_for_index(issue_index)
    assert classifier_for_index(issue_index) is first

    # relabel: "needs-info" gets 3 issues; metadata changes in place, ids stay the same
    entries = issue_index.entries({"$and": [{"source_kind": "issue"}, {"part": "body"}]})
    relabelled = {}
    first_of_each = {}
    for passage_id, meta in sorted(entries.items()):  # one body passage of 3 distinct issues
        first_of_each.setdefault(meta["path"], (passage_id, meta))
    for passage_id, meta in sorted(first_of_each.values())[:3]:
        labels = [n for n in str(meta["labels"]).split(",") if n] + ["needs-info"]
        relabelled[passage_id] = dict(meta, labels=",".join(sorted(set(labels))))
    issue_index.update_metadata(list(relabelled), list(relabelled.values()))
    second = classifier_for_index(issue_index)
    assert second is not first and "needs-info" in second.labels
    assert classifier_for_index(issue_index) is second


def test_classifier_for_index_without_issues_is_none(settings) -> None:
    assert classifier_for_index(AppContext(settings).index()) is None
