"""The release-notes eval (``evals/release_notes.py``) in small modules: data, text and
glossary helpers, the three modes, scoring, the selection breakdown, the chart and the report."""
