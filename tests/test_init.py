"""`devrel init`: detection from a checkout, the config it writes, and reruns that never
overwrite a person's edits without asking."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from assistant.cli import app
from assistant.errors import InvalidInput
from assistant.services.project_setup import detect, forge_of_remote, plan_write, render_config
from assistant.settings import get_settings


@pytest.mark.parametrize(("url", "key"), [
    ("git@github.com:apache/apisix.git", "apache/apisix"),
    ("https://github.com/apache/apisix", "apache/apisix"),
    ("https://gitee.com/openeuler/docs.git", "gitee:openeuler/docs"),
    ("ssh://git@gitlab.com:22/group/sub/proj.git", "gitlab:group/sub/proj"),
    ("https://gitlab.example.org/team/tool.git", "gitlab:team/tool"),
])
def test_remote_urls_name_the_forge_and_repo(url: str, key: str) -> None:
    ref = forge_of_remote(url)
    assert ref is not None and ref.key == key


@pytest.mark.parametrize("url", ["https://example.org/a/b.git", "/srv/git/repo", "nonsense"])
def test_unknown_remotes_name_no_repo(url: str) -> None:
    assert forge_of_remote(url) is None


def _checkout(root: Path, remote: str = "git@github.com:acme/widget.git") -> Path:
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/trunk\n")
    (root / ".git" / "config").write_text(
        '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://gitee.com/x/y\n'
        f'[remote "origin"]\n\turl = {remote}\n')
    (root / "docs").mkdir()
    (root / "docs" / "intro.md").write_text("# Intro\n\nHello.\n")
    (root / "labels.json").write_text('[{"name": "bug"}, {"name": "question"}]')
    (root / ".gitee" / "ISSUE_TEMPLATE").mkdir(parents=True)
    (root / ".gitee" / "ISSUE_TEMPLATE" / "bug.md").write_text(
        "---\nname: Bug\n---\n### Version\n\n### Steps\n")
    return root


def test_detects_origin_branch_docs_labels_and_gitee_templates(tmp_path: Path) -> None:
    found = detect(_checkout(tmp_path / "widget"))
    assert found.repo is not None and found.repo.key == "acme/widget"  # origin wins
    assert found.branch == "trunk" and found.project == "widget"
    assert [d.path for d in found.docs] == ["docs"]
    assert any("labels.json: 2 labels" in line for line in found.project_files)
    assert any(".gitee/ISSUE_TEMPLATE/bug.md" in line for line in found.project_files)


def test_written_config_loads_and_points_at_the_checkout(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "widget", "https://gitlab.com/acme/tools/widget.git")
    target = tmp_path / "devrel.yaml"
    target.write_text(render_config(detect(checkout)))
    settings = get_settings(config_file=target, profile="test", data_dir=tmp_path / "data")
    project = settings.project_settings("widget")
    assert settings.project == "widget"
    assert (project.forge, project.repo, project.ref) == ("gitlab", "acme/tools/widget", "trunk")
    assert project.sources.root == checkout.resolve()
    assert project.sources.live is True
    assert "#" in target.read_text()  # commented, for the person who edits it next


def test_rerun_refreshes_an_untouched_file_and_never_silently_replaces_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    checkout = _checkout(tmp_path / "widget")
    target = tmp_path / "devrel.yaml"
    text = render_config(detect(checkout))
    assert plan_write(target, text).action == "create"
    target.write_text(text)
    assert plan_write(target, text).action == "same"
    (checkout / "docs" / "glossary.yaml").write_text("keep: [Widget]\n")
    newer = render_config(detect(checkout))
    assert plan_write(target, newer).action == "refresh"  # generated, untouched: safe

    edited = text.replace('ref: "trunk"', 'ref: "release-2.x"')
    assert edited != text
    target.write_text(edited)
    plan = plan_write(target, newer)
    assert plan.action == "edited" and "release-2.x" in plan.diff

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["init", str(checkout), "--output", str(target)])
    assert isinstance(result.exception, InvalidInput)  # no stdin to ask: refused, file kept
    assert "was edited" in str(result.exception) and target.read_text() == edited
    result = runner.invoke(app, ["init", str(checkout), "--output", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert "release-2.x" not in target.read_text()


def test_init_prints_the_commands_that_index_the_project(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "widget")
    target = tmp_path / "cfg" / "devrel.yaml"
    result = CliRunner().invoke(app, ["init", str(checkout), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    commands = [line.strip() for line in result.output.splitlines()
                if line.strip().startswith("devrel ")]
    assert commands[0] == f"devrel --config {target} ingest project {checkout.resolve()}"
    assert f"devrel --config {target} ingest docs {checkout.resolve()}" in commands
    assert commands[-1] == f"devrel --config {target} serve"
    data = yaml.safe_load(target.read_text())
    assert data["projects"]["widget"]["repo"] == "acme/widget"


def test_not_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "missing")])
    assert isinstance(result.exception, InvalidInput)
    assert "is not a folder" in str(result.exception)


def test_init_on_a_real_docs_site_writes_its_roots_and_site(tmp_path: Path) -> None:
    import shutil

    checkout = tmp_path / "typer"
    shutil.copytree(Path(__file__).parent / "fixtures" / "sites" / "mkdocs-typer", checkout)
    target = tmp_path / "devrel.yaml"
    result = CliRunner().invoke(app, ["init", str(checkout), "--repo", "fastapi/typer",
                                      "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "docs (en, mkdocs)" in result.output
    settings = get_settings(config_file=target, profile="test", data_dir=tmp_path / "data")
    site = settings.project_settings("typer").docs_site
    assert (site.generator, site.site_url) == ("mkdocs", "https://typer.tiangolo.com")
    assert [(r.path, r.language) for r in site.roots] == [("docs", "en")]

    from assistant.context import AppContext
    from ingest.service import ingest_docs

    ctx = AppContext(settings)  # the docs step of `devrel sync`: every citation is the live page
    sources = settings.project_settings("typer").sources
    ingest_docs(settings, ctx.index("typer"), sources.docs, repo_path=sources.docs_repo_path)
    urls = {m["url"].split("#")[0] for m in ctx.index("typer").entries(
        {"source_kind": "doc"}).values()}
    assert "https://typer.tiangolo.com/tutorial/install/" in urls
    assert all(u.startswith("https://typer.tiangolo.com/") for u in urls)


def test_init_asks_for_the_site_url_when_the_docs_config_has_a_placeholder(tmp_path: Path) -> None:
    import shutil

    checkout = tmp_path / "site"
    shutil.copytree(Path(__file__).parent / "fixtures" / "sites" / "docusaurus-versioned", checkout)
    target = tmp_path / "devrel.yaml"
    result = CliRunner().invoke(app, ["init", str(checkout), "--repo", "facebook/docusaurus",
                                      "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "docs_site.site_url" in result.output
    text = target.read_text()
    assert "# site_url: https://docs.example.org  # SET THIS" in text
    settings = get_settings(config_file=target, profile="test", data_dir=tmp_path / "data")
    roots = settings.project_settings("docusaurus").docs_site.roots
    assert ("i18n/fr/docusaurus-plugin-content-docs/version-1.0.0", "fr") in [
        (r.path, r.language) for r in roots]
