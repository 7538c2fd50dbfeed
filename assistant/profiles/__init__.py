"""Built-in settings profiles (YAML)."""
