"""What routes depend on: the shared services, and the caller's key, role and rate limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from assistant.api.errors import ApiError
from assistant.services.container import Services
from assistant.services.desk import check_role
from assistant.store.keys import KeyRecord
from assistant.store.models import Role


class RateLimiter:
    """Requests per API key in a moving window (memory, or Redis shared by API processes)."""

    def __init__(self, rate: str, storage_uri: str) -> None:
        from limits import parse
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self.item = parse(rate)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def hit(self, key: str) -> bool:
        return self._limiter.hit(self.item, "devrel-api", key)


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A record's id.")]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer …`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's name goes into the audit log."""

    key: KeyRecord

    @property
    def name(self) -> str:
        return f"{self.key.name} (key {self.key.id})"


def _authenticate(
    services: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    header: Annotated[str | None, Security(_header)] = None,
) -> Caller:
    secret = header or (bearer.credentials if bearer else None)
    if not secret:
        raise ApiError(401, "unauthorized", "An API key is required.",
                       "send `Authorization: Bearer <key>` (create one with `devrel keys create`)",
                       {"WWW-Authenticate": "Bearer"})
    key = services.keys.verify(secret)
    if key is None:
        raise ApiError(401, "unauthorized", "The API key is not valid or was revoked.",
                       "check the key, or create a new one with `devrel keys create`",
                       {"WWW-Authenticate": "Bearer"})
    if not services.limiter.hit(str(key.id)):
        raise ApiError(429, "rate_limited",
                       f"Too many requests for this key (limit {services.limiter.item}).",
                       "slow down and retry in a few seconds", {"Retry-After": "5"})
    return Caller(key)


def require(role: Role) -> Any:
    """A dependency: the caller, if their key's role is ``role`` or higher."""

    def check(caller: Annotated[Caller, Depends(_authenticate)]) -> Caller:
        check_role(caller.key.role, role)
        return caller

    return check


BotDep = Annotated[Caller, Depends(require(Role.BOT))]
ReviewerDep = Annotated[Caller, Depends(require(Role.REVIEWER))]
AdminDep = Annotated[Caller, Depends(require(Role.ADMIN))]
