"""Release-note input: commits from a real throwaway git repo, and changes from JSON."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from assistant.errors import InvalidInput
from assistant.kinds.release_notes import sources
from assistant.kinds.release_notes.change_list import changes_from_json
from assistant.kinds.release_notes.sources import (
    CHANGELOG_FILES,
    CHANGELOG_SUBJECT,
    DUPLICATE,
    MARKED_CHANGELOG,
    RELEASE_SUBJECT,
    changes_from_git,
    is_changelog_file,
    release_work_reason,
)

EVAL_FILE = Path("/work/shared/evaldata/release_notes/apisix_releases.jsonl")
PEOPLE = {"alice": ("Alice", "alice@example.com"), "bob": ("Bob", "bob@example.com"),
          "carol": ("Carol", "carol@example.com")}


class Repo:
    """A git repo in tmp_path with deterministic authors and dates."""

    def __init__(self, path: Path):
        self.path = path
        self.day = 0
        path.mkdir()
        self.git("init", "-q", "-b", "main")

    def env(self) -> dict[str, str]:
        date = f"2024-01-{max(self.day, 1):02d}T12:00:00+00:00"
        return {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}

    def git(self, *args: str, who: str = "alice", stdin: bytes | None = None) -> str:
        name, email = PEOPLE[who]
        done = subprocess.run(
            ["git", "-c", f"user.name={name}", "-c", f"user.email={email}",
             "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
            cwd=self.path, env=self.env(), input=stdin, capture_output=True, check=True)
        return done.stdout.decode().strip()

    def commit(self, message: str | bytes, files: dict[str, str], who: str = "alice",
               *extra: str) -> str:
        self.day += 1
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "-A")
        raw = message if isinstance(message, bytes) else message.encode()
        self.git(*extra, "commit", "-q", "--allow-empty", "-F", "-", who=who, stdin=raw)
        return self.git("rev-parse", "HEAD")

    def raw_commit(self, message: bytes, files: dict[str, str]) -> str:
        """A commit object written byte for byte (git commit would re-encode the message)."""
        self.day += 1
        for rel, text in files.items():
            (self.path / rel).write_text(text)
        self.git("add", "-A")
        stamp = f"{1704110400 + (self.day - 1) * 86400} +0000"
        obj = (f"tree {self.git('write-tree')}\nparent {self.git('rev-parse', 'HEAD')}\n"
               f"author Alice <alice@example.com> {stamp}\n"
               f"committer Alice <alice@example.com> {stamp}\n\n").encode() + message
        sha = self.git("hash-object", "-t", "commit", "-w", "--stdin", stdin=obj)
        self.git("reset", "-q", "--hard", sha)
        return sha


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    r = Repo(tmp_path / "kvlite")
    shas: dict[str, str] = {}
    shas["init"] = r.commit("feat: initial kvlite (#1)", {"src/kv.py": "v1\n"})
    shas["readme"] = r.commit("docs: add readme (#2)", {"README.md": "kvlite\n"}, "bob")
    shas["rel100"] = r.commit("release: v1.0.0", {"VERSION": "1.0.0\n", "CHANGELOG.md": "## 1.0.0\n"})
    r.git("tag", "v1.0.0")
    shas["lru"] = r.commit("feat(cache): add LRU cache (#12)\n\nAdds an LRU.\n\nCloses #5\n",
                           {"src/cache.py": "lru\n"})
    shas["empty_keys"] = r.commit("fix: handle empty keys (#13)", {"src/kv.py": "v2\n"}, "carol")
    r.git("checkout", "-q", "-b", "bob/scan")
    shas["scan"] = r.commit("perf: faster scan", {"src/scan.py": "fast\n"}, "bob")
    r.git("checkout", "-q", "main")
    r.day += 1
    r.git("merge", "-q", "--no-ff", "bob/scan", "-m", "Merge pull request #14 from bob/scan")
    shas["merge"] = r.git("rev-parse", "HEAD")
    # latin-1 bytes: given to git commit (which stores them as UTF-8), written raw with no
    # encoding header (as old imports have them), and declared with i18n.commitEncoding.
    shas["latin1"] = r.commit(b"fix: caf\xe9 keys (#15)\n\nR\xe9sum\xe9 of the fix.\n",
                              {"src/keys.py": "k\n"})
    shas["raw"] = r.raw_commit(b"fix: caf\xe9 values (#19)\n\nR\xe9sum\xe9.\n",
                               {"src/keys.py": "v\n"})
    shas["declared"] = r.commit("docs: na\u00efve usage".encode("latin-1"), {"docs/usage.md": "u\n"},
                                "bob", "-c", "i18n.commitEncoding=ISO-8859-1")
    shas["stats"] = r.commit("feat: add stats (#17)",
                             {"src/stats.py": "s\n", "CHANGELOG.md": "## 1.0.0\n- stats\n"})
    shas["tidy"] = r.commit("Tidy up wording",
                            {"CHANGELOG.md": "## 1.0.0\n- Stats.\n", "docs/zh/CHANGELOG.md": "统计\n"})
    shas["notes"] = r.commit("docs: changelog for v1.1.0 (#16)", {"CHANGELOG.md": "## 1.1.0\n"})
    shas["bump"] = r.commit("chore: bump version to 1.1.0", {"VERSION": "1.1.0\n"})
    r.git("tag", "-a", "v1.1.0", "-m", "kvlite 1.1.0")
    shas["later"] = r.commit("feat: unreleased work (#18)", {"src/later.py": "x\n"})
    return r.path, shas


def test_git_range_keeps_real_changes_and_says_what_it_left_out(repo) -> None:
    path, sha = repo
    cs = changes_from_git(path, "v1.0.0", "v1.1.0")

    assert [c.title for c in cs.changes] == [
        "feat: add stats (#17)",
        "docs: naïve usage",
        "fix: caf\ufffd values (#19)",
        "fix: café keys (#15)",
        "perf: faster scan",
        "fix: handle empty keys (#13)",
        "feat(cache): add LRU cache (#12)",
    ]
    by_id = {c.id: c for c in cs.changes}
    assert set(by_id) == {sha[k] for k in
                          ("stats", "declared", "raw", "latin1", "scan", "empty_keys", "lru")}
    assert by_id[sha["lru"]].prs == [12] and by_id[sha["lru"]].body == "Adds an LRU.\n\nCloses #5"
    assert by_id[sha["empty_keys"]].prs == [13] and by_id[sha["empty_keys"]].author == "Carol"
    assert by_id[sha["scan"]].prs == [14]  # no (#N) of its own: the merge's PR
    assert by_id[sha["latin1"]].prs == [15]
    assert by_id[sha["latin1"]].body == "Résumé of the fix."
    assert by_id[sha["raw"]].prs == [19] and by_id[sha["raw"]].body == "R\ufffdsum\ufffd."
    assert by_id[sha["declared"]].author == "Bob" and by_id[sha["declared"]].prs == []
    assert by_id[sha["stats"]].prs == [17]  # code plus changelog: still a change
    assert sha["merge"] not in by_id and cs.merge_prs == [14]

    assert cs.excluded == [
        (sha["bump"], RELEASE_SUBJECT),
        (sha["notes"], CHANGELOG_SUBJECT),
        (sha["tidy"], f"{CHANGELOG_FILES}: CHANGELOG.md, docs/zh/CHANGELOG.md"),
    ]
    assert cs.authors_before == {"Alice", "Bob"}
    assert cs.first_time_authors() == ["Carol"]
    assert (cs.from_ref, cs.to_ref) == ("v1.0.0", "v1.1.0")
    assert cs.dates[sha["lru"]] == "2024-01-04T12:00:00+00:00"


def test_git_range_from_a_sha_and_to_a_branch(repo) -> None:
    path, sha = repo
    cs = changes_from_git(path, sha["bump"], "main")
    assert [c.id for c in cs.changes] == [sha["later"]] and cs.excluded == []
    assert cs.changes[0].prs == [18]
    assert cs.authors_before == {"Alice", "Bob", "Carol"} and cs.first_time_authors() == []


def test_wrong_refs_and_folders_are_invalid_input_with_a_fix(repo, tmp_path, monkeypatch) -> None:
    path, _ = repo
    with pytest.raises(InvalidInput) as unknown:
        changes_from_git(path, "v0.9.0", "v1.1.0")
    assert "'v0.9.0' is not a commit" in str(unknown.value)
    assert "recent tags: v1.1.0, v1.0.0" in str(unknown.value) and unknown.value.fix

    with pytest.raises(InvalidInput) as swapped:
        changes_from_git(path, "v1.1.0", "v1.0.0")
    assert "swap them: from_ref=v1.0.0, to_ref=v1.1.0" in str(swapped.value)

    with pytest.raises(InvalidInput) as option:
        changes_from_git(path, "--output=/tmp/x", "v1.1.0")
    assert "not a valid git ref" in str(option.value)

    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(InvalidInput) as not_repo:
        changes_from_git(plain, "v1.0.0", "v1.1.0")
    assert "is not a git repository" in str(not_repo.value)
    assert "Fix: pass the folder of a git checkout" in str(not_repo.value)

    with pytest.raises(InvalidInput) as missing:
        changes_from_git(tmp_path / "nowhere", "v1.0.0", "v1.1.0")
    assert "does not exist" in str(missing.value) and missing.value.fix


def test_thousand_commits_take_a_few_git_calls(tmp_path, monkeypatch) -> None:
    path = tmp_path / "big"
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    stream = []
    for i in range(1, 1202):
        stream.append(f"commit refs/heads/main\nmark :{i}\n"
                      f"author Dev{i % 40} <d{i % 40}@example.com> {1700000000 + i} +0000\n"
                      f"committer Dev <d@example.com> {1700000000 + i} +0000\n")
        message = f"fix: change {i} (#{i})\n" if i != 1200 else "docs: update changelog for 2.0.0\n"
        stream.append(f"data {len(message.encode())}\n{message}")
        if i > 1:
            stream.append(f"from :{i - 1}\n")
        name = "CHANGELOG.md" if i == 1201 else f"src/f{i % 50}.py"
        stream.append(f"M 644 inline {name}\ndata 2\n{i % 10}\n\n")
    stream.append("reset refs/tags/v1\nfrom :200\n\n")
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"],
                   input="".join(stream).encode(), check=True)

    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(cmd, *args, **kwargs):
        calls.append(cmd)
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(sources.subprocess, "run", counting_run)
    started = time.monotonic()
    cs = changes_from_git(path, "v1", "main")
    elapsed = time.monotonic() - started

    assert len(cs.changes) == 999 and cs.changes[0].title == "fix: change 1199 (#1199)"
    excluded = dict(cs.excluded)
    assert set(excluded.values()) == {CHANGELOG_SUBJECT, f"{CHANGELOG_FILES}: CHANGELOG.md"}
    assert len(calls) <= 5, calls  # rev-parse x3, one log for the range, one for the authors
    assert elapsed < 20
    assert len(cs.authors_before) == 40


def test_release_rules_on_subjects_and_files() -> None:
    for subject in ["docs: changelog", "docs: update changelog for 6.6.1",
                    "docs: add 6.4.3 changelog (#58036)", "docs(v6-log): refined changelog (#55965)",
                    "Update CHANGELOG.md", "Changelog for v2.0.1", "changelog"]:
        assert release_work_reason(subject) == CHANGELOG_SUBJECT, subject
    for subject in ["chore(release): 1.2.0", "feat: release APISIX 3.8.0 (#10778)",
                    "release: v1.2.3", "Bump version to 1.2.3", "v1.2.3", "Version Packages"]:
        assert release_work_reason(subject) == RELEASE_SUBJECT, subject
    for subject in ["chore(deps): bump lodash from 4.17.20 to 4.17.21",
                    "fix: release lock on 1.2 servers", "fix: changelog parser crash",
                    "feat: add version command", "changelog-generator: fix crash",
                    "Release notes: tests of grouping and credits", "Release notes (issue 7)"]:
        assert release_work_reason(subject) is None, subject
    assert all(map(is_changelog_file, ["CHANGELOG.md", "docs/zh/latest/CHANGELOG.md",
                                       "CHANGELOG.en-US.md", "HISTORY.rst", "NEWS",
                                       "changelog.d/123.feature.md"]))
    assert not any(map(is_changelog_file, ["src/history.py", "news/feed.py", "docs/changes.py"]))


SAMPLE = [
    {"title": "feat(cache): add LRU", "number": 12, "labels": [{"name": "feature"}, "cache"],
     "user": {"login": "alice"}, "body": "Adds an LRU."},
    {"subject": "fix: keys (#13)", "sha": "a" * 40, "author": "carol", "pr_numbers": ["13"]},
    {"title": "docs: changelog for v1.1.0", "number": 16},
    {"subject": "chore: sync notes", "sha": "b" * 40, "is_changelog_commit": True},
    {"title": "feat(cache): add LRU (again)", "number": 12},
]


def test_json_list_of_prs_and_commits(tmp_path: Path) -> None:
    cs = changes_from_json(SAMPLE)
    assert [(c.id, c.title, c.prs, c.labels, c.author) for c in cs.changes] == [
        ("pr-12", "feat(cache): add LRU", [12], ["feature", "cache"], "alice"),
        ("a" * 40, "fix: keys (#13)", [13], [], "carol"),
    ]
    assert cs.excluded == [("pr-16", CHANGELOG_SUBJECT), ("b" * 40, MARKED_CHANGELOG),
                           ("pr-12", f"{DUPLICATE} of change #1")]
    file = tmp_path / "changes.json"
    file.write_text(json.dumps({"changes": SAMPLE, "from_ref": "v1.0.0", "to_ref": "v1.1.0",
                                "authors_before": ["alice"]}))
    from_file = changes_from_json(file)
    assert from_file.changes == cs.changes and from_file.first_time_authors() == ["carol"]
    assert (from_file.from_ref, from_file.to_ref) == ("v1.0.0", "v1.1.0")


@pytest.mark.parametrize(("data", "message"), [
    ('[{"title": "x", "number": 1}', "is not valid JSON (line 1"),
    ({"items": []}, "neither 'changes' nor 'commits'"),
    ([{"title": "x", "number": 1}, {"number": 2}], "change #2: missing 'title' (or 'subject')"),
    ([{"title": "x"}], "change #1 has neither 'number' nor 'sha'"),
    ([{"title": "x", "number": 1, "labels": "bug"}], "change #1: 'labels' must be a list"),
    ([{"title": "x", "number": 1, "labels": [{"id": 3}]}], "change #1: label {'id': 3}"),
    ([{"title": 5, "number": 1}], "change #1: 'title' must be a string"),
    ([{"title": "x", "number": "twelve"}], "change #1: 'number' must hold PR numbers"),
    ([{"title": "x", "number": 1, "author": ["a"]}], "change #1: 'author' must be a string"),
    (["just a string"], "change #1 is a str, not an object"),
])
def test_json_bad_shapes_name_the_item_and_field(data, message) -> None:
    with pytest.raises(InvalidInput) as err:
        changes_from_json(data)
    assert message in str(err.value) and err.value.fix


def test_json_eval_record_drops_changelog_commits(tmp_path: Path) -> None:
    if not EVAL_FILE.exists():
        pytest.skip(f"eval data not present: {EVAL_FILE}")
    record = json.loads(EVAL_FILE.read_text().splitlines()[0])
    flagged = {c["sha"] for c in record["commits"] if c["is_changelog_commit"]}
    assert flagged, "the record should hold the release's own changelog commit"

    cs = changes_from_json(record)
    kept = {c.id for c in cs.changes}
    excluded = dict(cs.excluded)
    assert flagged <= set(excluded) and not flagged & kept
    assert all(excluded[s] == MARKED_CHANGELOG for s in flagged)
    assert len(kept) + len(excluded) == len(record["commits"])
    assert (cs.from_ref, cs.to_ref) == (record["previous_tag"], record["version"])
    first = next(c for c in record["commits"] if c["sha"] in kept)
    change = next(c for c in cs.changes if c.id == first["sha"])
    assert change.title == first["subject"] and change.prs == [int(n) for n in first["pr_numbers"]]
    assert change.author == first["author"]
    # The maintainers' own text never reaches the changes.
    blob = " ".join(c.title + c.body for c in cs.changes)
    assert record["changelog_en"][:200] not in blob

    # The whole JSONL file: one record picked by version.
    picked = changes_from_json(EVAL_FILE, version=record["version"])
    assert [c.id for c in picked.changes] == [c.id for c in cs.changes]
    with pytest.raises(InvalidInput, match="release records"):
        changes_from_json(EVAL_FILE)
