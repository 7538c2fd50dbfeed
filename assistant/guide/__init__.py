"""Newcomer guides: steps grounded in the ingested docs, and good-first issues that fit."""
