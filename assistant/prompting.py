"""Prompt files: load a versioned TOML prompt, render it strictly into chat messages.

A prompt file declares its ``variables``; rendering refuses a missing or an
unexpected variable, and Jinja runs with ``StrictUndefined``. Untrusted text is
passed through :func:`fence`, so it cannot close the delimiters around it.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.errors import ConfigError
from assistant.textnorm import strip_invisible

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_VERSION_FILE = re.compile(r"^v(\d+)\.toml$")


@dataclass(frozen=True)
class Prompt:
    """One version of a prompt."""

    name: str
    version: int
    description: str
    variables: frozenset[str]
    system: str
    user: str
    max_tokens: int | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    def render(self, **values: Any) -> list[BaseMessage]:
        """System and user messages with every declared variable filled in."""
        given = set(values)
        if given != self.variables:
            missing = sorted(self.variables - given)
            extra = sorted(given - self.variables)
            raise ConfigError(
                f"Prompt {self.ref} got the wrong variables "
                f"(missing {missing}, unexpected {extra}).",
                fix="pass exactly the variables the prompt file declares",
            )
        return [
            SystemMessage(content=_ENV.from_string(self.system).render(**values).strip()),
            HumanMessage(content=_ENV.from_string(self.user).render(**values).strip()),
        ]


def fence(text: str, tag: str) -> str:
    """Untrusted text inside <tag>…</tag>, with any look-alike tags in it defused.

    Invisible characters (zero-width, bidi overrides, Unicode tags) are dropped first, so
    ``</is\u200bsue>`` cannot pass; then any opening or closing tag of that name, with
    spaces, attributes, fullwidth brackets or as HTML entities, becomes ``[tag]``.
    """
    cleaned = strip_invisible(text)
    name = re.escape(tag)
    look_alike = (rf"(?:<|＜|&lt;|&#0*60;)\s*/?\s*{name}\b\s*[^>＞\n]{{0,200}}?"
                  r"(?:>|＞|&gt;|&#0*62;)")
    cleaned = re.sub(look_alike, f"[{tag}]", cleaned, flags=re.IGNORECASE)
    return f"<{tag}>\n{cleaned}\n</{tag}>"


def available_versions(name: str) -> list[int]:
    folder = resources.files("prompts").joinpath(name)
    if not folder.is_dir():
        return []
    return sorted(
        int(m.group(1)) for entry in folder.iterdir() if (m := _VERSION_FILE.match(entry.name))
    )


@functools.cache
def load_prompt(name: str, version: int | None = None) -> Prompt:
    """The given version of a prompt, or its newest (read once per process)."""
    versions = available_versions(name)
    if not versions:
        raise ConfigError(f"There is no prompt named {name!r}.", fix="check prompts/")
    chosen = version if version is not None else versions[-1]
    if chosen not in versions:
        raise ConfigError(
            f"Prompt {name!r} has no version {chosen} (has {versions}).",
            fix="unpin it in prompt_versions or add the file",
        )
    raw = resources.files("prompts").joinpath(name, f"v{chosen}.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    if data.get("name") != name or data.get("version") != chosen:
        raise ConfigError(
            f"prompts/{name}/v{chosen}.toml declares name/version "
            f"{data.get('name')}/{data.get('version')}.",
            fix="make the file's name and version match its path",
        )
    return Prompt(
        name=name,
        version=chosen,
        description=data.get("description", ""),
        variables=frozenset(data["variables"]),
        system=data["system"],
        user=data["user"],
        max_tokens=data.get("max_tokens"),
    )
