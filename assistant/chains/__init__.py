"""Retrieval-augmented chains: code decides the structure, the chat model phrases."""
