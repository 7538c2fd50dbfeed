"""Draft kinds: one package per kind (see ``assistant.kinds.base``)."""
