"""Paths, projects and modes shared by the release-notes eval modules."""

from __future__ import annotations

from pathlib import Path

from evals.harness.run import console

PROJECTS = {"antd": "ant-design/ant-design", "apisix": "apache/apisix"}
MODES = ("structure", "model", "naive")
CHART_COPY = Path("docs/img/release_notes_eval.png")
__all__ = ["CHART_COPY", "MODES", "PROJECTS", "console"]
