"""Release notes: changes in a range → grouped, traceable, bilingual notes (structure in code)."""
