"""Projects: what their index holds, and re-syncing their configured sources."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from assistant.api.deps import AdminDep, BotDep, ServicesDep
from assistant.api.errors import responses
from assistant.api.schemas import SyncAccepted
from assistant.errors import NotFound
from assistant.kinds.community_update.kind import DAY_PATTERN, FIRST_DAY, LAST_DAY
from assistant.services.desk import request_sync

router = APIRouter(prefix="/v1/projects", tags=["projects"])
ProjectPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
ERRORS = responses(401, 403, 404, 422, 429)
Day = Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY, json_schema_extra={"pattern": DAY_PATTERN})]


def _known(services: Any, project: str) -> None:
    settings = services.ctx.settings
    if project != settings.project and project not in settings.projects:
        raise NotFound(f"Project {project!r} is not configured.",
                       fix="add it under `projects:` in the config file")


@router.get("", response_model=list[str], responses=ERRORS)
def list_projects(services: ServicesDep, _: BotDep) -> list[str]:
    """The configured projects."""
    settings = services.ctx.settings
    return sorted({settings.project, *settings.projects})


@router.get("/{project}/index", responses=ERRORS)
def project_index(project: ProjectPath, services: ServicesDep, _: BotDep) -> dict[str, Any]:
    """Sources, passage counts and last sync of a project's index."""
    from assistant.services.index_info import index_summary

    _known(services, project)
    return index_summary(services.ctx, project)


@router.get("/{project}/activity", responses=ERRORS)
def project_activity(project: ProjectPath, services: ServicesDep, _: BotDep,
                     since: Annotated[Day, Query(examples=["2026-10-01"])],
                     until: Annotated[Day, Query(examples=["2026-10-31"])],
                     unanswered_days: Annotated[int, Query(ge=0, le=3650)] = 7) -> Any:
    """Community activity for a period (CHAOSS metrics over the ingested issues and PRs)."""
    from assistant.services.activity import compute_activity

    _known(services, project)
    return compute_activity(services.ctx, project, since, until, unanswered_days)


@router.post("/{project}/sync", status_code=202, response_model=SyncAccepted, responses=ERRORS)
def sync_project(project: ProjectPath, services: ServicesDep, caller: AdminDep) -> SyncAccepted:
    """Queue a re-sync of the project's configured sources (only what changed is embedded)."""
    _known(services, project)
    request_sync(services.ctx, services.queue, project, caller.name)
    return SyncAccepted(project=project)
