"""Write docs/configuration.md from the Settings fields: `python docs/gen_configuration.py`."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel

from assistant.settings import ProjectSettings, Settings

HEAD = """# Configuration

Every setting, its default and what it does (generated from `assistant/settings.py` by
`python docs/gen_configuration.py`). Set any of them in a YAML config file (`--config FILE` or
`DEVREL_CONFIG`) or as an environment variable: `DEVREL_` + the path in upper case with `__`
between levels, e.g. `llm.base_url` is `DEVREL_LLM__BASE_URL`. Layers, highest first: overrides,
environment, config file, profile (`demo`, `test` in `assistant/profiles/`), defaults.

| setting | default | description |
|---|---|---|
"""


def _rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            rows += _rows(field.annotation, f"{prefix}{name}.")
            continue
        if name == "data_dir":
            default = "user data dir (`~/.local/share/devrel-assistant` on Linux)"
        elif field.default_factory is not None:
            default = "empty"
        else:
            default = f"`{field.default}`"
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name}` | {default} | {description} |")
    return rows


def render() -> str:
    project = "\n".join(_rows(ProjectSettings, "projects.<name>."))
    return HEAD + "\n".join(_rows(Settings)) + "\n" + project + "\n"


if __name__ == "__main__":
    target = Path(__file__).with_name("configuration.md")
    if "--check" in sys.argv:
        sys.exit(0 if target.read_text() == render() else 1)
    target.write_text(render())
