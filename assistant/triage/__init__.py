"""Issue triage: labels, duplicates, docs, missing information and the reply, as one typed draft."""
