"""Triage drafts on real APISIX issues: today's chain, the reply modes and a naive RAG reply,
side by side, on the protocol of ``../shared/evaldata/triage_real/apisix/README.md``.

    flock /tmp/devrel-model.lock python -m evals.triage_real --systems pieces,naive
        [--only-answered] [--limit N] [--seed /work/evalcache/apisix-docs | --docs DIR]
        [--no-loo] [--fake] [--out DIR]
    python -m evals.triage_real judge-items --run DIR [--run DIR ...] --out FILE
    python -m evals.triage_real score [--judgments FILE] --run DIR [--run DIR ...]

The index of a run is built by the product's own ingest: the APISIX docs (a copy of a seed
data dir, or ``--docs``), labels.json of the set and APISIX's issue forms
(``evals/data/apisix_templates``), then the ``past`` issues with their comments. Incoming issues
are drafted in creation order from title, body, author and form labels only (gold is removed
before the loop sees a record); after each one, ``index_triaged_issue`` adds it to the index
where the code has it. Past issues with a docs link are drafted too, each against only what
was created before it (docs leave-one-out), and the set's duplicate queries against a title +
body pool of everything created before them (duplicates leave-one-out).

Writes report.md, results.json, latency.png, judge_items.jsonl (blind) and judge_key.json
under ``--out`` (default ``results/triage_real/<systems>/``). ``score`` joins a judge's
scores with the keys of one or more runs and writes the side-by-side report, results.json
and rubric.png under ``results/triage_real/``. The rubric: docs/triage_eval.md.
"""
