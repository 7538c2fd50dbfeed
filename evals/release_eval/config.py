"""Paths, projects and modes shared by the release-notes eval modules."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "evaldata" / "release_notes"
PROJECTS = {"antd": "ant-design/ant-design", "apisix": "apache/apisix"}
MODES = ("structure", "model", "naive")
CHART_COPY = ROOT / "docs" / "img" / "release_notes_eval.png"
console = Console()
