"""Providers: chat models, embedders, the vector index; chosen by name from settings."""
