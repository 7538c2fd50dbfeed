"""Seed the evals' embedding cache from an index the product already built, so an eval over the
same passages does not embed them again.

    python -m evals.harness.seed_cache --config CONFIG.yaml --project apisix [--cache results/cache]

Every stored passage's vector is written under the key ``CachedEmbeddings`` uses for that text
(``sha256("p\\0" + text)``) and the index's embedder identity; the seconds the ingest spent are
unknown, so the shard records none and the cache's passages/s comes from other shards only.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.context import AppContext
from assistant.settings import get_settings
from evals.harness.embeddings import _slug


def seed(ctx: AppContext, project: str, cache: Path) -> int:
    """Write the project's stored vectors into ``cache``; the number written."""
    index = ctx.index(project)
    ids, vectors, _ = index.vectors()
    doc_ids, texts, _ = index.documents()
    text_of = dict(zip(doc_ids, texts, strict=True))
    keys = [hashlib.sha256(f"p\0{text_of[i]}".encode()).hexdigest() for i in ids]
    folder = cache / _slug(index.embedder.identity)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"part-seed-{project}.npz"
    with target.open("wb") as handle:
        np.savez(handle, identity=np.array(index.embedder.identity), keys=np.array(keys),
                 vectors=np.asarray(vectors, dtype=np.float32), seconds=np.array(0.0),
                 count=np.array(0))
    return len(keys)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--cache", type=Path, default=Path("results/cache"))
    args = parser.parse_args(argv)
    written = seed(AppContext(get_settings(config_file=args.config)), args.project, args.cache)
    print(f"{written} vectors written to {args.cache}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
