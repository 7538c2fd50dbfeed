"""Versioned prompt files: ``prompts/<name>/v<N>.toml`` (loaded by ``assistant.prompting``)."""
