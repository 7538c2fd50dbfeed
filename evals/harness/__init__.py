"""The eval harness: one run object, shared metrics, corpora, cached embedders and indexes."""
