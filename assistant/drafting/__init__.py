"""The drafting engine and the registry of kinds."""
