"""PNG charts of an activity report (matplotlib, Agg canvas: no display, no global state)."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import ProviderUnavailable
from assistant.kinds.community_update.models import ActivityMetrics

CHARTS = {
    "flow": "activity_flow.png",
    "response": "activity_response.png",
    "contributors": "activity_contributors.png",
}
COLORS = {"opened": "#4C78A8", "closed": "#72B7B2", "merged": "#54A24B", "new": "#F58518",
          "returning": "#9D755D", "anyone": "#4C78A8", "maintainer": "#E45756"}


def _figure(width: float = 8.0, height: float = 3.6):  # type: ignore[no-untyped-def]
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ProviderUnavailable("Charts need matplotlib, which is not installed.",
                                  fix="pip install 'devrel-assistant[evals]' (or matplotlib)") \
            from None
    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _labels(metrics: ActivityMetrics) -> list[str]:
    fmt = "%b %d" if metrics.bucket == "week" else "%Y-%m"
    return [b.start.strftime(fmt) for b in metrics.buckets]


def _title(metrics: ActivityMetrics, what: str) -> str:
    return f"{metrics.project}: {what}, {metrics.since} – {metrics.until}"


def flow_chart(metrics: ActivityMetrics, path: Path) -> Path:
    """Issues opened and closed, PRs merged, per week or month (CHAOSS Issues New, Issues
    Closed, Change Requests Accepted)."""
    figure = _figure()
    axes = figure.add_subplot()
    labels = _labels(metrics)
    x = range(len(labels))
    width = 0.27
    series = [("Issues opened", [b.issues_opened for b in metrics.buckets], COLORS["opened"]),
              ("Issues closed", [b.issues_closed for b in metrics.buckets], COLORS["closed"]),
              ("PRs merged", [b.prs_merged for b in metrics.buckets], COLORS["merged"])]
    for n, (name, values, color) in enumerate(series):
        axes.bar([i + (n - 1) * width for i in x], values, width, label=name, color=color)
    axes.set_xticks(list(x), labels, rotation=45 if len(labels) > 8 else 0, ha="right"
                    if len(labels) > 8 else "center", fontsize=8)
    axes.set_ylabel(f"per {metrics.bucket}")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(frameon=False, fontsize=8, ncols=3)
    axes.set_title(_title(metrics, "issues and pull requests"), fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path, format="png")
    return path


def response_chart(metrics: ActivityMetrics, path: Path) -> Path:
    """Share of the issues/PRs opened in the period answered within x hours (CHAOSS Time to
    First Response), by anyone and by a maintainer, with their medians and p90s."""
    figure = _figure()
    axes = figure.add_subplot()
    plotted = False
    for stats in (metrics.response_anyone, metrics.response_maintainer):
        if not stats.hours or not stats.opened:
            continue
        color = COLORS[stats.who]
        xs = [max(h, 0.01) for h in stats.hours]
        ys = [(n + 1) / stats.opened * 100 for n in range(len(xs))]
        axes.step([xs[0], *xs], [0, *ys], where="post", color=color,
                  label=f"by {stats.who}: median {stats.median_hours:g} h, "
                        f"p90 {stats.p90_hours:g} h ({stats.responded}/{stats.opened} answered)")
        for value, style in ((stats.median_hours, "--"), (stats.p90_hours, ":")):
            if value is not None:
                axes.axvline(max(value, 0.01), color=color, linestyle=style, linewidth=1)
        plotted = True
    if plotted:
        axes.set_xscale("log")
        axes.legend(frameon=False, fontsize=8, loc="lower right")
    else:
        axes.text(0.5, 0.5, "no issue or PR opened in the period has a response",
                  ha="center", va="center", transform=axes.transAxes)
    axes.set_ylim(0, 100)
    axes.set_xlabel("hours to first response (log scale; dashed: median, dotted: p90)")
    axes.set_ylabel("% of opened, answered within")
    axes.set_title(_title(metrics, "time to first response"), fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path, format="png")
    return path


def contributors_chart(metrics: ActivityMetrics, path: Path) -> Path:
    """Active contributors per week or month: new (first contribution ever) and returning."""
    figure = _figure()
    axes = figure.add_subplot()
    labels = _labels(metrics)
    new = [b.new_contributors for b in metrics.buckets]
    returning = [b.returning_contributors for b in metrics.buckets]
    axes.bar(labels, returning, color=COLORS["returning"], label="returning")
    axes.bar(labels, new, bottom=returning, color=COLORS["new"], label="new (CHAOSS New "
             "Contributors)")
    axes.tick_params(axis="x", labelrotation=45 if len(labels) > 8 else 0, labelsize=8)
    axes.set_ylabel(f"contributors per {metrics.bucket}")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(frameon=False, fontsize=8)
    axes.set_title(_title(metrics, "contributors"), fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path, format="png")
    return path


def write_charts(metrics: ActivityMetrics, out_dir: Path) -> dict[str, Path]:
    """All three charts as PNG files in ``out_dir``; name → path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "flow": flow_chart(metrics, out_dir / CHARTS["flow"]),
        "response": response_chart(metrics, out_dir / CHARTS["response"]),
        "contributors": contributors_chart(metrics, out_dir / CHARTS["contributors"]),
    }
