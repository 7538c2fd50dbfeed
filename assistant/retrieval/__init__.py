"""Retrieval: dense search in the vector index, BM25, and their rank fusion."""
