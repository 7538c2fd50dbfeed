"""What a report leaves out, checked against the project's issue template.

A template section the reporter filled in (the heading is in the body with real content
under it) counts as given. For a free-form report, sections of a known kind (version,
platform, steps, logs, expected/actual behaviour) are looked for by their signs: a version
number, an OS name, a numbered list or code block, a traceback. Sections of other kinds
are asked for only when the template marks them required.
"""

from __future__ import annotations

import re

from assistant.kinds.triage.models import MissingItem
from assistant.project_files import IssueTemplate, TemplateField

_EMPTY = re.compile(r"^(_?no response_?|n/?a|none|-|\.\.\.|todo|无|暂无)$", re.IGNORECASE)

# kind -> (words in a section label, a sign that the information is there)
_KINDS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "version": (
        re.compile(r"version|版本", re.I),
        re.compile(r"\bv?\d+\.\d+(?:\.\d+)?(?:[-.]?\w+)?\b"),
    ),
    "platform": (
        re.compile(r"\bos\b|platform|operating system|environment|系统|平台|环境", re.I),
        re.compile(r"windows|linux|ubuntu|debian|centos|fedora|alpine|mac\s?os|macos|darwin|"
                   r"ios|android|docker|wsl|freebsd|arm64|x86_64|aarch64", re.I),
    ),
    "steps": (
        re.compile(r"steps|reproduc|复现|重现|步骤", re.I),
        re.compile(r"^\s*(?:\d+[.)]|[-*])\s+\S|```|(?:steps|to reproduce|复现)", re.I | re.M),
    ),
    "logs": (
        re.compile(r"\blogs?\b|traceback|stack|error|actual|日志|报错|错误|实际", re.I),
        re.compile(r"```|traceback|exception|error[:\s]|panic|\bat \S+\(|报错|错误", re.I),
    ),
    "expected": (
        re.compile(r"expected|期望|预期", re.I),
        re.compile(r"expect|should|would like|instead|期望|预期|应该", re.I),
    ),
}

_ZH_FIELD = {"version": "版本号", "platform": "操作系统/平台", "steps": "复现步骤",
             "logs": "完整的错误日志", "expected": "期望的行为"}
_BUG_WORDS = re.compile(
    r"error|exception|crash|fail|broken|bug|traceback|panic|segfault|not work|doesn'?t work|"
    r"报错|错误|崩溃|失败|异常|无法|不能", re.I)

# Without a template, a report that looks like a bug is checked for these.
DEFAULT_BUG_FIELDS = [TemplateField(label="Version", required=True),
                      TemplateField(label="Steps to reproduce", required=True),
                      TemplateField(label="Logs", required=True)]


def field_kind(label: str) -> str | None:
    for kind, (words, _sign) in _KINDS.items():
        if words.search(label):
            return kind
    return None


def _sections(body: str) -> dict[str, str]:
    """Filled-in template sections: heading (lowercased) -> content without comments."""
    parts = re.split(r"^#{2,4}\s+(.+?)\s*#*\s*$", body, flags=re.MULTILINE)
    found: dict[str, str] = {}
    for heading, content in zip(parts[1::2], parts[2::2], strict=False):
        found[heading.strip().lower()] = re.sub(r"<!--.*?-->", "", content, flags=re.S).strip()
    return found


def _given(section: str) -> bool:
    text = re.sub(r"```\w*\s*```", "", section).strip()
    return bool(text) and not _EMPTY.match(text)


def choose_template(
    templates: list[IssueTemplate], title: str, labels: list[str]
) -> IssueTemplate | None:
    """The template the report was (or should have been) written from."""
    lowered = title.lower()
    for template in templates:
        prefix = template.title_prefix.strip().lower()
        if prefix and lowered.startswith(prefix):
            return template
    for template in templates:
        if set(template.labels) & set(labels):
            return template
    return None


def looks_like_bug(title: str, body: str) -> bool:
    return bool(_BUG_WORDS.search(f"{title}\n{body[:4000]}"))


def _question(field: TemplateField, kind: str | None, language: str) -> str:
    if language == "zh":
        return f"请补充{_ZH_FIELD[kind]}。" if kind else f"请补充“{field.label}”部分。"
    return f"Could you share the {field.label.lower()}?" if kind else \
        f"Could you fill in the \"{field.label}\" section?"


def missing_information(
    title: str, body: str, template: IssueTemplate | None, language: str, *, is_bug: bool
) -> list[MissingItem]:
    """The template sections the report does not give, as questions in its language."""
    fields = template.fields if template else (DEFAULT_BUG_FIELDS if is_bug else [])
    sections = _sections(body)
    prose = re.sub(r"<!--.*?-->", "", f"{title}\n{body}", flags=re.S)
    missing: list[MissingItem] = []
    asked: set[str] = set()
    for field in fields:
        kind = field_kind(field.label)
        section = sections.get(field.label.strip().lower())
        if section is not None:
            given = _given(section)
        elif kind:
            given = bool(_KINDS[kind][1].search(prose))
        else:
            given = not field.required
        if given or (kind and kind in asked):
            continue
        if kind == "expected" and not field.required:
            continue  # rarely worth a question on its own
        asked.add(kind or field.label)
        missing.append(MissingItem(field=field.label, question=_question(field, kind, language)))
    return missing
