"""Label suggestions for triage drafts: a small linear model learned from the project's past issues.

Only the project's own labels are ever suggested, each with a probability-like confidence, and
the chain abstains below a threshold. The model (chosen by cross-validation on the NLBSE'24
training split by ``evals/triage_labels.py``) is a logistic regression over

- TF-IDF of word 1-2-grams of the cleaned issue text,
- TF-IDF of character 2-5-grams inside word boundaries (robust to identifiers, typos and CJK),
- TF-IDF of the title's words (the title is the densest signal),
- the issue's embedding (the vector already stored in the index), L2-normalised and weighted.

Each label gets a binary model; when the training data is single-label (every issue has
exactly one learnable label) the scores are normalised to sum to 1. Issues without any learnable
label are left out of training: on GitHub an unlabelled issue is usually untriaged, not a
negative example of every label.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.providers.vector_index import VectorIndex
from assistant.retrieval.retriever import ISSUE_KINDS

DEFAULT_THRESHOLD = 0.75
"""Suggest a label only at this confidence or above: the lowest threshold whose out-of-fold
precision on the NLBSE'24 train split reaches 0.90 (``evals/triage_labels.py``; on the test
split about 0.90 precision with 43 % of issues left without a label)."""

MAX_CHARS = 3000

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_NO_RESPONSE = re.compile(r"(?im)^\s*_?no response_?\s*$")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>", re.I)
_URL = re.compile(r"https?://([^/\s)>\]]+)[^\s)>\]]*")
_FENCE = re.compile(r"(```|~~~)[^\n]*\n(.*?)(?:\1|\Z)", re.S)
_BLANKS = re.compile(r"\n\s*\n(\s*\n)+")
_SPACES = re.compile(r"[ \t]+")
CODE_LINES = 8


def _short_code(match: re.Match[str]) -> str:
    lines = match.group(2).strip("\n").splitlines()
    kept = "\n".join(lines[:CODE_LINES])
    return f"```\n{kept}\n{'…' if len(lines) > CODE_LINES else ''}```"


def issue_text(title: str, body: str, max_chars: int = MAX_CHARS) -> str:
    """The classifier's input for an issue: title, then the body without template noise.

    HTML comments (template instructions), "_No response_" placeholders and images go; URLs
    are reduced to their host; code blocks keep their first lines; the result is truncated.
    """
    text = _HTML_COMMENT.sub(" ", body or "")
    text = _NO_RESPONSE.sub("", text)
    text = _IMAGE.sub(" image ", text)
    text = _URL.sub(lambda m: f"url:{m.group(1)}", text)
    text = _FENCE.sub(_short_code, text)
    text = _SPACES.sub(" ", text)
    text = _BLANKS.sub("\n\n", text).strip()
    return f"{(title or '').strip()}\n\n{text}".strip()[:max_chars]


@dataclass(frozen=True)
class LabelScore:
    """A label the classifier can predict, with its probability-like confidence."""

    name: str
    confidence: float


@dataclass(frozen=True)
class ModelConfig:
    """The feature set and regularisation; the defaults are the CV-chosen configuration."""

    word: bool = True
    char: bool = True
    title: bool = True
    embedding_weight: float = 1.0  # 0 ignores vectors even when given
    C: float = 10.0
    char_max_features: int = 200_000
    char_chars: int = 1500  # character n-grams of the first characters only (training time)


def _tfidf(**kwargs: Any) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, dtype=np.float32, **kwargs)


@dataclass
class _Features:
    """Fitted vectorizers turning (texts, vectors) into one sparse matrix."""

    config: ModelConfig
    dim: int = 0
    vectorizers: list[tuple[str, Any]] = field(default_factory=list)

    def fit_transform(self, texts: Sequence[str], vectors: np.ndarray | None) -> Any:
        if self.config.word:
            self.vectorizers.append(("text", _tfidf(ngram_range=(1, 2), min_df=2)))
        if self.config.char:
            self.vectorizers.append(("char", _tfidf(
                analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                max_features=self.config.char_max_features)))
        if self.config.title:
            self.vectorizers.append(("title", _tfidf(ngram_range=(1, 2))))
        blocks = [v.fit_transform(self._field(name, texts)) for name, v in self.vectorizers]
        if vectors is not None and self.config.embedding_weight > 0:
            self.dim = vectors.shape[1]
        return self._stack(blocks, vectors, len(texts))

    def transform(self, texts: Sequence[str], vectors: np.ndarray | None) -> Any:
        blocks = [v.transform(self._field(name, texts)) for name, v in self.vectorizers]
        return self._stack(blocks, vectors, len(texts))

    def _field(self, name: str, texts: Sequence[str]) -> list[str]:
        if name == "title":
            return [t.split("\n", 1)[0] for t in texts]
        if name == "char":
            return [t[: self.config.char_chars] for t in texts]
        return list(texts)

    def _stack(self, blocks: list[Any], vectors: np.ndarray | None, rows: int) -> Any:
        from scipy import sparse

        if self.dim:
            if vectors is None:
                raise ValueError(
                    "This classifier was trained with embeddings: pass the issue's vector "
                    "(index.embedder.embed_documents([text]))."
                )
            dense = np.asarray(vectors, dtype=np.float32).reshape(rows, -1)
            if dense.shape[1] != self.dim:
                raise ValueError(f"vector has {dense.shape[1]} dimensions, expected {self.dim}")
            norms = np.linalg.norm(dense, axis=1, keepdims=True)
            dense = dense / np.where(norms == 0, 1, norms) * self.config.embedding_weight
            blocks.append(sparse.csr_matrix(dense))
        if not blocks:
            raise ValueError("the model config selects no features")
        return sparse.hstack(blocks, format="csr")


class LabelClassifier:
    """Suggests labels from a project's own label set, learned from its labelled past issues."""

    def __init__(self, labels: list[str], features: _Features, models: list[Any],
                 exclusive: bool) -> None:
        self.labels = labels
        self._features = features
        self._models = models  # one binary model per label
        self.exclusive = exclusive

    @property
    def uses_vectors(self) -> bool:
        return bool(self._features.dim)

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[Sequence[str]],
        label_set: Sequence[str],
        vectors: np.ndarray | None = None,
        *,
        min_examples: int = 3,
        config: ModelConfig | None = None,
    ) -> LabelClassifier:
        """Learn every label of ``label_set`` that has at least ``min_examples`` positives.

        Labels outside ``label_set`` are ignored; issues left without any learnable label are
        not used. Raises ValueError when no label can be learned.
        """
        from sklearn.linear_model import LogisticRegression

        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} label lists")
        if vectors is not None and len(vectors) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
        allowed = set(label_set)
        kept = [sorted(set(ls) & allowed) for ls in labels]
        counts = Counter(name for ls in kept for name in ls)
        learned = sorted(n for n, c in counts.items() if c >= min_examples)
        rows = [i for i, ls in enumerate(kept) if set(ls) & set(learned)]
        if not learned or not rows:
            raise ValueError(f"no label has {min_examples} or more examples")
        targets = [[n for n in kept[i] if n in learned] for i in rows]
        exclusive = len(learned) > 1 and all(len(t) == 1 for t in targets)
        if not exclusive:
            # a binary model needs negatives: a label on every used issue cannot be learned
            learned = [n for n in learned if sum(n in t for t in targets) < len(rows)]
            if not learned:
                raise ValueError("every labelled issue has the same labels: nothing to tell apart")
        features = _Features(config or ModelConfig())
        matrix = features.fit_transform(
            [texts[i] for i in rows], None if vectors is None else np.asarray(vectors)[rows]
        )
        models = []
        for name in learned:  # liblinear: fast on sparse features, no thread oversubscription
            model = LogisticRegression(C=features.config.C, solver="liblinear")
            model.fit(matrix, [int(name in t) for t in targets])
            models.append(model)
        return cls(learned, features, models, exclusive)

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Confidence of every learned label (columns, in ``labels`` order) for each text."""
        matrix = self._features.transform(list(texts), vectors)
        probs = np.column_stack([m.predict_proba(matrix)[:, 1] for m in self._models])
        if self.exclusive:  # exactly one label applies: one-vs-rest scores normalised to sum 1
            probs = probs / probs.sum(axis=1, keepdims=True)
        return probs

    def predict(self, text: str, vector: np.ndarray | None = None) -> list[LabelScore]:
        """Every learned label with its confidence, best first."""
        vectors = None if vector is None else np.asarray(vector).reshape(1, -1)
        probs = self.probabilities([text], vectors)[0]
        order = sorted(range(len(self.labels)), key=lambda j: (-probs[j], self.labels[j]))
        return [LabelScore(self.labels[j], round(float(probs[j]), 4)) for j in order]

    def predict_one(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[str]:
        """The single most likely label of each text."""
        if not texts:
            return []
        probs = self.probabilities(texts, vectors)
        return [self.labels[j] for j in probs.argmax(axis=1)]


def suggested(
    scores: Sequence[LabelScore], threshold: float = DEFAULT_THRESHOLD
) -> list[LabelScore]:
    """The scores at or above the threshold (empty = abstain)."""
    return [s for s in scores if s.confidence >= threshold]


# ------------------------------------------------------------------------------ from the index

ISSUE_WHERE: dict[str, Any] = {
    "$and": [
        {"source_kind": {"$in": sorted(ISSUE_KINDS)}},
        {"part": "body"},
        {"position": 0},
    ]
}


@dataclass
class _Cached:
    fingerprint: str
    classifier: LabelClassifier | None


_CACHE: dict[str, _Cached] = {}
_CACHE_LOCK = threading.Lock()


def _split_labels(value: Any) -> list[str]:
    return [n.strip() for n in str(value or "").split(",") if n.strip()]


def _body_of(document: str) -> str:
    """The body of a stored issue passage ("#N title" header, blank line, body)."""
    return document.split("\n\n", 1)[1] if "\n\n" in document else ""


def issue_vector(index: VectorIndex, title: str, body: str) -> np.ndarray:
    """A new issue's vector, made like the stored ones (embed_documents of the passage text)."""
    text = f"{title.strip()}\n\n{body.strip()}".strip()
    return np.asarray(index.embedder.embed_documents([text])[0], dtype=np.float32)


def classifier_for_index(
    index: VectorIndex, label_set: Sequence[str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> LabelClassifier | None:
    """A classifier trained on the index's issues and PRs, None when nothing can be learned.

    ``aliases`` (old name → current name) relabel the history first, so issues labelled
    ``kind/bug`` before a rename train ``bug``. Uses the stored embeddings (nothing is
    embedded again). Cached per index; retrained when the issues change or are relabelled
    (the fingerprint covers ids, labels and aliases).
    """
    entries = index.entries(ISSUE_WHERE)
    wanted = tuple(sorted(set(label_set))) if label_set is not None else None
    renames = tuple(sorted((aliases or {}).items()))
    digest = hashlib.sha256(repr((wanted, renames)).encode())
    for passage_id in sorted(entries):
        digest.update(f"\n{passage_id}\t{entries[passage_id].get('labels', '')}".encode())
    fingerprint = digest.hexdigest()
    key = f"{index.key}|{index.embedder.identity}"
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached.classifier
    classifier = _train_from_index(index, wanted, dict(renames))
    with _CACHE_LOCK:
        _CACHE[key] = _Cached(fingerprint, classifier)
    return classifier


def _train_from_index(
    index: VectorIndex, label_set: tuple[str, ...] | None, aliases: dict[str, str]
) -> LabelClassifier | None:
    ids, vectors, metadatas = index.vectors(ISSUE_WHERE)
    if not ids:
        return None
    doc_ids, documents, _ = index.documents(ISSUE_WHERE)
    text_of = dict(zip(doc_ids, documents, strict=True))
    labels = [sorted({aliases.get(n, n) for n in _split_labels(m.get("labels"))})
              for m in metadatas]
    texts = [issue_text(str(m.get("title", "")), _body_of(text_of.get(i, "")))
             for i, m in zip(ids, metadatas, strict=True)]
    wanted = label_set if label_set is not None else sorted({n for ls in labels for n in ls})
    try:
        return LabelClassifier.train(texts, labels, wanted, vectors if vectors.size else None)
    except ValueError:
        return None
