"""The chart: PR recall and precision, chrF EN and character chrF ZH per project and series."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.harness.run import pyplot


def chart(groups: list[tuple[str, str, dict[str, Any]]], path: Path, title: str) -> None:
    plt = pyplot()
    metrics = [("pr_recall", "PR recall", 1), ("pr_precision", "PR precision", 1),
               ("chrf_en", "chrF EN", 100), ("chrf_zh", "char chrF ZH", 100)]
    projects = list(dict.fromkeys(p for p, _, _ in groups))
    series = list(dict.fromkeys(s for _, s, _ in groups))
    values = {(p, s): agg for p, s, agg in groups}
    colours = ["#b0b0b0", "#4c72b0", "#dd8452", "#55a868", "#8172b3"]
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.4))
    width = 0.8 / max(1, len(series))
    for ax, (key, label, top) in zip(axes, metrics, strict=True):
        for k, name in enumerate(series):
            xs = [j + (k - (len(series) - 1) / 2) * width for j in range(len(projects))]
            ys = [values[(p, name)][key] if (p, name) in values else 0.0 for p in projects]
            bars = ax.bar(xs, ys, width, label=name, color=colours[k % len(colours)])
            for bar, (p, y) in zip(bars, zip(projects, ys, strict=True), strict=True):
                if (p, name) in values:
                    ax.annotate(f"{y:.2f}" if top == 1 else f"{y:.0f}",
                                (bar.get_x() + bar.get_width() / 2, y), ha="center",
                                va="bottom", fontsize=7)
        ax.set_xticks(range(len(projects)), projects)
        ax.set_ylim(0, top * 1.1)
        ax.set_title(label)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(series), fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
