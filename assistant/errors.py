"""Errors a person can act on: each says what went wrong and how to fix it, in one line."""

from __future__ import annotations

from pydantic import ValidationError


class DevrelError(Exception):
    """Base of every expected failure; ``str()`` is one line ending with the fix."""

    def __init__(self, message: str, *, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}." if self.fix else self.message


class ConfigError(DevrelError):
    """Settings or a config file are wrong."""


class ModelFileError(DevrelError):
    """The local model file is missing, incomplete or corrupt."""


class ProviderUnavailable(DevrelError):
    """A chat or embedding backend cannot be reached or is not installed."""


class EmptyIndexError(DevrelError):
    """Nothing has been ingested for the project."""


class InvalidInput(DevrelError):
    """The caller's input cannot be used (empty issue, bad file, ...)."""

    @classmethod
    def from_validation(cls, what: str, exc: ValidationError, fix: str) -> InvalidInput:
        """The first error of a pydantic validation, naming the field (the one converter)."""
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "input"
        message = str(err["msg"]).removeprefix("Value error, ")
        return cls(f"Invalid {what} at {where}: {message}.", fix=fix)


class IndexMismatchError(DevrelError):
    """The collection was built with a different embedder than the settings name."""


class NotFound(InvalidInput):
    """A draft, key or other record does not exist."""


class Conflict(DevrelError):
    """The request does not fit the record's current state (e.g. approving a rejected draft)."""


class Forbidden(DevrelError):
    """The caller's role does not allow the action."""


class ForgeError(DevrelError):
    """The forge refused a call (bad token, unknown issue, rejected content)."""
