"""The Create tab: one form per draft kind, built from the kind's input model, so every kind
in the registry has one (a new kind's form needs no code here)."""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Union, get_args, get_origin

import gradio as gr
from pydantic.fields import FieldInfo

from assistant.drafting.registry import KINDS
from assistant.kinds.base import Kind
from ui.desk import ReviewDesk
from ui.readable import readable

AUTO = "auto"
# Short element ids the desk's browser test and shortcuts know; other kinds use their route.
SHORT_IDS = {"triage": "triage", "release_notes": "rn", "announcement": "announce",
             "newcomer_guide": "guide", "meeting_summary": "summary"}
BUTTONS = {"triage": "Draft a triage reply", "meeting_summary": "Summarize"}
LONG_TEXT = 2000  # a str field allowing more characters is a multi-line box


@dataclass
class Input:
    """One field of a kind's form: its component and how its value becomes input data."""

    name: str
    component: Any
    kind: Literal["text", "optional_text", "choice", "optional_choice", "number", "lines",
                  "many"]

    def value(self, raw: Any) -> Any:
        if self.kind == "optional_text":
            return str(raw or "").strip() or None
        if self.kind == "optional_choice":
            return None if raw == AUTO else raw
        if self.kind == "number":
            return None if raw in (None, "") else int(raw)
        if self.kind == "lines":
            return [line.strip() for line in str(raw or "").splitlines() if line.strip()]
        return raw if raw is not None else ""


def _parts(annotation: Any) -> tuple[Any, bool]:
    """The type inside an optional, and whether None is allowed."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0], len(args) < len(get_args(annotation))
    return annotation, False


def _max_length(info: FieldInfo) -> int | None:
    return next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)


def field_input(name: str, info: FieldInfo, elem_id: str) -> Input:
    """A component for one field of an input model."""
    core, optional = _parts(info.annotation)
    label = (info.title or name.replace("_", " ")).capitalize()
    help_text = info.description
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    if get_origin(core) is Literal:
        choices = [*([AUTO] if optional else []), *get_args(core)]
        return Input(name, gr.Radio(choices, value=default or choices[0], label=label,
                                    info=help_text, elem_id=elem_id),
                     "optional_choice" if optional else "choice")
    if get_origin(core) is list:
        (item,) = get_args(core) or (str,)
        if get_origin(item) is Literal:
            return Input(name, gr.CheckboxGroup(list(get_args(item)), value=default or [],
                                                label=label, info=help_text,
                                                elem_id=elem_id), "many")
        return Input(name, gr.Textbox(label=f"{label} (one per line)", lines=6, info=help_text,
                                      elem_id=elem_id), "lines")
    if core is int:
        return Input(name, gr.Number(label=label, precision=0, value=default, info=help_text,
                                     elem_id=elem_id), "number")
    long = (_max_length(info) or 0) > LONG_TEXT
    placeholder = "YYYY-MM-DD" if core is date else None
    box = gr.Textbox(label=label, lines=8 if long else 1, info=help_text, elem_id=elem_id,
                     placeholder=placeholder, value=str(default) if default else None)
    return Input(name, box, "optional_text" if optional else "text")


@dataclass
class KindForm:
    """A kind's form: its fields and its button."""

    kind: Kind
    inputs: list[Input]
    button: gr.Button

    def data(self, values: tuple[Any, ...]) -> dict[str, Any]:
        return {i.name: i.value(v) for i, v in zip(self.inputs, values, strict=True)}


def build_form(kind: Kind) -> KindForm:
    """The form of one kind (inside its ``gr.Tab``)."""
    prefix = SHORT_IDS.get(kind.name.value, kind.route)
    gr.Markdown(kind.summary.removeprefix("Queue ").capitalize())
    inputs = [field_input(name, info, f"{prefix}-{name.replace('_', '-')}")
              for name, info in kind.input_model.model_fields.items()]
    label = BUTTONS.get(kind.name.value, f"Draft: {kind.name.value.replace('_', ' ')}")
    return KindForm(kind, inputs, gr.Button(label, elem_id=f"{prefix}-btn"))


@dataclass
class CreateTab:
    project: gr.Dropdown
    progress: gr.Textbox
    forms: list[KindForm]


def build_create_tab(desk: ReviewDesk) -> CreateTab:
    """A project, a progress line and one sub-tab per kind of the registry."""
    project = gr.Dropdown(desk.projects, value=desk.ctx.settings.project, label="Project",
                          elem_id="create-project")
    progress = gr.Textbox(label="Progress", interactive=False, elem_id="progress")
    forms = []
    for kind in KINDS.values():
        title = kind.name.value.replace("_", " ").capitalize()
        with gr.Tab(title, elem_id=f"create-{kind.route}"):
            forms.append(build_form(kind))
    return CreateTab(project, progress, forms)


def wire_create_tab(tab: CreateTab, desk: ReviewDesk) -> None:
    """Each form's button queues its kind and shows the progress."""
    for form in tab.forms:
        @readable
        def create(request: gr.Request, project: str, *values: Any,
                   form: KindForm = form) -> Iterator[str]:
            yield from desk.create(request, form.kind.name, form.data(values), project)

        form.button.click(create, [tab.project, *(i.component for i in form.inputs)],
                          [tab.progress])
