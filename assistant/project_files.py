"""A project's own files that shape drafts: its label set, issue templates and glossary.

They are read from the project (``labels.json`` as GitHub serves it, Markdown templates and
issue forms in ``.github/ISSUE_TEMPLATE``, ``.gitee/ISSUE_TEMPLATE`` or ``.gitlab/issue_templates``,
``glossary.yaml``) and kept with the project's index as
small JSON values, so every API process and worker sees the same ones, and an index reset
clears them with everything else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from assistant.errors import InvalidInput
from assistant.providers.vector_index import VectorIndex
from assistant.safe_yaml import front_matter
from assistant.safe_yaml import load as load_yaml
from assistant.textrules import mentions

MAX_FILE_BYTES = 1024 * 1024
_STATE_KEY = "project_files"


class Label(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = ""


class TemplateField(BaseModel):
    """One section of an issue template (a ``###`` heading or an issue-form field)."""

    label: str
    required: bool = False
    options: list[str] = Field(default_factory=list, description="dropdown/checkbox options")


class IssueTemplate(BaseModel):
    name: str
    title_prefix: str = ""
    labels: list[str] = Field(default_factory=list)
    fields: list[TemplateField] = Field(default_factory=list)
    boilerplate: list[str] = Field(
        default_factory=list, description="other lines the template writes or suggests: its "
        "text, field descriptions, placeholders and default values")


class GlossaryTerm(BaseModel):
    en: str
    zh: str


class Glossary(BaseModel):
    """Terms kept as they are in every language, and preferred EN→ZH translations."""

    keep: list[str] = Field(default_factory=list)
    translations: list[GlossaryTerm] = Field(default_factory=list)

    def relevant(self, text: str, limit: int = 12) -> Glossary:
        """Only the entries that occur in ``text`` (a prompt has no room for the whole list)."""
        keep = [t for t in self.keep if mentions(text, t)][:limit]
        pairs = [t for t in self.translations
                 if mentions(text, t.en) or mentions(text, t.zh)][:limit]
        return Glossary(keep=keep, translations=pairs)


class ProjectFiles(BaseModel):
    """What the drafts of one project are checked against."""

    labels: list[Label] = Field(default_factory=list)
    templates: list[IssueTemplate] = Field(default_factory=list)
    glossary: Glossary = Field(default_factory=Glossary)

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]


def load_project_files(index: VectorIndex) -> ProjectFiles:
    """The files stored with a project's index (empty when none were ingested)."""
    raw = index.get_state(_STATE_KEY)
    if not raw:
        return ProjectFiles()
    try:
        return ProjectFiles.model_validate_json(raw)
    except ValidationError:
        return ProjectFiles()


def store_project_files(index: VectorIndex, files: ProjectFiles) -> None:
    index.set_state(_STATE_KEY, files.model_dump_json())


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path} is larger than 1 MB.", fix="pass the project's own file")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text.", fix="save it as UTF-8") from None


def read_labels(path: Path) -> list[Label]:
    """A label set: GitHub's ``/labels`` JSON, or a YAML/JSON list of names or
    {name, description}."""
    text = _read_text(path)
    try:
        data = json.loads(text) if path.suffix == ".json" \
            else load_yaml(text, max_bytes=MAX_FILE_BYTES)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0]
        raise InvalidInput(f"{path} is not valid JSON/YAML: {first}", fix="fix the file") from None
    if isinstance(data, dict) and "labels" in data:
        data = data["labels"]
    if not isinstance(data, list):
        raise InvalidInput(f"{path} must hold a list of labels.", fix="export /labels as JSON")
    labels: dict[str, Label] = {}
    for item in data:
        raw = {"name": item} if isinstance(item, str) else item
        try:
            label = Label.model_validate({k: raw.get(k) or "" for k in ("name", "description")})
        except (ValidationError, AttributeError):
            raise InvalidInput(
                f"{path}: {str(item)[:60]!r} is not a label.", fix="give each label a name"
            ) from None
        labels.setdefault(label.name, label)
    return list(labels.values())


_HEADING = re.compile(r"^#{2,4}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value or []]


def _options(value: Any) -> list[str]:
    """Dropdown options (strings) or checkbox options ({label: ...})."""
    if not isinstance(value, list):
        return []
    found = [str(o.get("label", "")) if isinstance(o, dict) else str(o) for o in value]
    return [o.strip() for o in found if o and o.strip()][:100]


def _form_lines(body: list[Any]) -> list[str]:
    """The lines an issue form writes or suggests besides its labels and options."""
    lines: list[str] = []
    for item in body:
        attributes = item.get("attributes") if isinstance(item, dict) else None
        if not isinstance(attributes, dict):
            continue
        for key in ("value", "description", "placeholder"):
            if isinstance(attributes.get(key), str):
                lines += [line.strip() for line in attributes[key].splitlines() if line.strip()]
    return lines[:200]


def read_template(path: Path) -> IssueTemplate | None:
    """A Markdown issue template (front matter + ``###`` sections) or a YAML issue form."""
    text = _read_text(path)
    if path.suffix in (".yml", ".yaml"):
        try:
            form = load_yaml(text, max_bytes=MAX_FILE_BYTES) or {}
        except yaml.YAMLError:
            return None
        if not isinstance(form, dict) or not isinstance(form.get("body"), list):
            return None  # config.yml and the like
        fields = [
            TemplateField(
                label=str(item["attributes"]["label"]),
                required=bool((item.get("validations") or {}).get("required")),
                options=_options(item["attributes"].get("options")),
            )
            for item in form["body"]
            if isinstance(item, dict) and item.get("type") != "markdown"
            and isinstance(item.get("attributes"), dict) and item["attributes"].get("label")
        ]
        return IssueTemplate(name=str(form.get("name") or path.stem),
                             title_prefix=str(form.get("title") or "").strip(),
                             labels=_as_list(form.get("labels")), fields=fields,
                             boilerplate=_form_lines(form["body"]))
    meta, end = front_matter(text)  # scalars only, no aliases, at most 16 KB
    text = text[end:]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    fields = [TemplateField(label=h.strip()) for h in _HEADING.findall(text)]
    lines = [line.strip() for line in _HEADING.sub("", text).splitlines() if line.strip()]
    return IssueTemplate(name=str(meta.get("name") or path.stem),
                         title_prefix=str(meta.get("title") or "").strip(),
                         labels=_as_list(meta.get("labels")), fields=fields,
                         boilerplate=lines[:200])


def read_glossary(path: Path) -> Glossary:
    """``keep`` (terms never translated) and ``translations`` (en/zh pairs) from YAML."""
    try:
        data = load_yaml(_read_text(path), max_bytes=MAX_FILE_BYTES) or {}
        return Glossary.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise InvalidInput(f"{path} is not a glossary: {first}",
                           fix="see examples/kvlite/glossary.yaml") from None


def _in_project(root: Path, name: str, found: list[str]) -> bool:
    """Whether ``root / name`` is a file inside ``root`` (a resolved folder); a link out of
    the checkout is not followed, and says so in ``found``."""
    path = root / name
    if not path.is_file():
        return False
    try:
        inside = path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        found.append(f"{name}: skipped, a link to outside the project folder")
    return inside


# Where each forge looks for issue templates (GitHub and Gitee: Markdown and issue forms).
TEMPLATE_FOLDERS = (".github/ISSUE_TEMPLATE", ".gitee/ISSUE_TEMPLATE", ".gitlab/issue_templates")


def template_paths(root: Path) -> list[str]:
    """The issue templates under a checkout, as paths relative to it."""
    paths: list[str] = []
    for folder in TEMPLATE_FOLDERS:
        where = root / folder
        if where.is_dir():
            paths += [f"{folder}/{p.name}" for p in sorted(where.iterdir())
                      if p.suffix in (".md", ".yml", ".yaml")]
    return paths


def read_project_files(root: Path) -> tuple[ProjectFiles, list[str]]:
    """Everything found in a project folder, and a line per file read (or skipped)."""
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a folder.", fix="pass the project's root folder")
    root = root.resolve()
    found: list[str] = []
    files = ProjectFiles()
    for name in ("labels.json", ".github/labels.json", "labels.yaml", ".github/labels.yml"):
        if _in_project(root, name, found):
            files.labels = read_labels(root / name)
            found.append(f"{name}: {len(files.labels)} labels")
            break
    for name in template_paths(root):
        if _in_project(root, name, found):
            template = read_template(root / name)
            if template and template.fields:
                files.templates.append(template)
                found.append(f"{name}: {len(template.fields)} sections")
    for name in ("glossary.yaml", "glossary.yml", "docs/glossary.yaml"):
        if _in_project(root, name, found):
            files.glossary = read_glossary(root / name)
            found.append(f"{name}: {len(files.glossary.keep)} kept terms, "
                         f"{len(files.glossary.translations)} translations")
            break
    return files, found
