"""One settings object, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str, *more: str):
    return AliasChoices(name, *more)


class Settings(BaseSettings):
    """Every knob of spacebot. Secrets are `SecretStr`, so they never print."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    # --- storage -----------------------------------------------------------
    data_dir: Path = Field(Path("data"), validation_alias=_env("SPACEBOT_DATA_DIR"))
    collection: str = Field("spacebot", validation_alias=_env("SPACEBOT_COLLECTION"))
    chroma_host: str | None = Field(None, validation_alias=_env("CHROMA_HOST"))
    chroma_port: int = Field(8000, validation_alias=_env("CHROMA_PORT"))
    chroma_ssl: bool = Field(False, validation_alias=_env("CHROMA_SSL"))
    # PostgreSQL for conversations, feedback and Slack event ids (shared by replicas);
    # unset: the SQLite file `state_db`. A secret: the URL may carry a password.
    database_url: SecretStr | None = Field(None, validation_alias=_env("SPACEBOT_DATABASE_URL"))

    # --- ingestion ---------------------------------------------------------
    chunk_size: int = Field(128, ge=32, le=250, validation_alias=_env("SPACEBOT_CHUNK_SIZE"))
    chunk_overlap: int = Field(24, ge=0, le=128, validation_alias=_env("SPACEBOT_CHUNK_OVERLAP"))
    # which embedding model builds and reads the index (ingest/models.py); changing it means re-ingesting
    embed_model: Literal["minilm", "bge-small"] = Field("minilm", validation_alias=_env("SPACEBOT_EMBED_MODEL"))
    model_path: Path | None = Field(None, validation_alias=_env("SPACEBOT_MODEL_PATH"))  # minilm only
    embed_batch_size: int = Field(32, ge=1, validation_alias=_env("SPACEBOT_EMBED_BATCH_SIZE"))
    max_file_mb: float = Field(20.0, gt=0, validation_alias=_env("SPACEBOT_MAX_FILE_MB"))
    fetch_timeout: float = Field(15.0, gt=0, validation_alias=_env("SPACEBOT_FETCH_TIMEOUT"))
    # The fetch guard (ingest/fetch_guard.py): `api` guards the fetches a remote caller triggers
    # (POST /v1/ingest); `all` guards the CLI's too. ALLOW: hosts or CIDRs let through anyway.
    fetch_guard: Literal["api", "all"] = Field("api", validation_alias=_env("SPACEBOT_FETCH_GUARD"))
    fetch_allow: str | None = Field(None, validation_alias=_env("SPACEBOT_FETCH_ALLOW"))

    # --- retrieval and answers ---------------------------------------------
    reranker: str = Field("bundled", validation_alias=_env("SPACEBOT_RERANKER"))  # bundled | folder | none
    rerank_depth: int = Field(15, ge=1, le=100, validation_alias=_env("SPACEBOT_RERANK_DEPTH"))
    top_k: int = Field(5, ge=1, le=50, validation_alias=_env("SPACEBOT_TOP_K"))
    # BM25 over whole articles as a third candidate list: off, it lowered dev (docs/BENCHMARKS.md "Long articles")
    article_signal: bool = Field(False, validation_alias=_env("SPACEBOT_ARTICLE_SIGNAL"))
    # near-duplicate articles shown once, the others cited as "also in" (ingest/near_duplicates.py)
    group_copies: bool = Field(True, validation_alias=_env("SPACEBOT_GROUP_COPIES"))
    # list / timeline / outlets answers by the question's shape (bot/core/shapes.py); off: every answer a fact
    answer_shapes: bool = Field(True, validation_alias=_env("SPACEBOT_ANSWER_SHAPES"))
    conversation_ttl_days: float = Field(30.0, gt=0, validation_alias=_env("SPACEBOT_CONVERSATION_TTL_DAYS"))
    # the answer's confidence gate (bot/core/answer_knobs.py; values: docs/BENCHMARKS.md "Confidence")
    sure_level: float = Field(0.5, ge=0, le=1, validation_alias=_env("SPACEBOT_SURE_LEVEL"))
    answer_floor: float = Field(0.1, ge=0, le=1, validation_alias=_env("SPACEBOT_ANSWER_FLOOR"))
    support_margin: float = Field(2.0, ge=0, validation_alias=_env("SPACEBOT_SUPPORT_MARGIN"))
    closest_min: float = Field(-8.0, validation_alias=_env("SPACEBOT_CLOSEST_MIN"))
    figure_rule: bool = Field(True, validation_alias=_env("SPACEBOT_FIGURE_RULE"))
    # which model reads sentences for the answer: the cross-encoder (measured better on dev, docs/BENCHMARKS.md)
    # or the trained reader (bot/models/reader.onnx)
    reader: Literal["trained", "cross-encoder"] = Field("cross-encoder", validation_alias=_env("SPACEBOT_READER"))

    # --- LLM (optional; any OpenAI-compatible server) -----------------------
    llm_base_url: str | None = Field(None, validation_alias=_env("SPACEBOT_LLM_BASE_URL"))
    llm_model: str | None = Field(None, validation_alias=_env("SPACEBOT_LLM_MODEL"))
    llm_api_key: SecretStr | None = Field(None, validation_alias=_env("SPACEBOT_LLM_API_KEY"))
    llm_timeout: float = Field(30.0, gt=0, validation_alias=_env("SPACEBOT_LLM_TIMEOUT"))
    # The model's context window in tokens (prompt + answer). 4096: a common load size for
    # local servers, and what `make bench-llm` starts llama.cpp with; set it to the server's.
    llm_context: int = Field(4096, ge=512, validation_alias=_env("SPACEBOT_LLM_CONTEXT"))

    # --- HTTP API (`spacebot serve`) ---------------------------------------
    api_token: SecretStr | None = Field(None, validation_alias=_env("SPACEBOT_API_TOKEN"))
    # several tokens, each `name:token` (or bare), so one can be revoked alone (bot/faces/api/guards.py)
    api_tokens: SecretStr | None = Field(None, validation_alias=_env("SPACEBOT_API_TOKENS"))
    # requests per token name (or client address) and per Slack user: `60/minute`; unset: no limit
    api_rate: str | None = Field(None, validation_alias=_env("SPACEBOT_API_RATE"))
    slack_rate: str | None = Field(None, validation_alias=_env("SPACEBOT_SLACK_RATE"))
    # an ingest job not heard from for this long is marked failed (its replica stopped); see bot/state/jobs.py
    job_stale_seconds: float = Field(60.0, gt=0, validation_alias=_env("SPACEBOT_JOB_STALE_SECONDS"))
    api_max_body_kb: int = Field(64, ge=1, validation_alias=_env("SPACEBOT_API_MAX_BODY_KB"))
    cors_origins: str | None = Field(None, validation_alias=_env("SPACEBOT_CORS_ORIGINS"))
    index_poll_seconds: float = Field(10.0, ge=0, validation_alias=_env("SPACEBOT_INDEX_POLL_SECONDS"))

    # --- Slack -------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_api_url: str | None = Field(None, validation_alias=_env("SLACK_API_URL"))
    # follows (`/spacebot follow`): the cross-encoder logit a story needs (bot/alerts/matching.py THRESHOLD),
    # single alerts per channel per hour (the rest gathered into one message), how often `spacebot slack`
    # looks for newly indexed stories (the 60 s alert target leaves room for an ingest's own time)
    topic_threshold: float = Field(3.0, validation_alias=_env("SPACEBOT_TOPIC_THRESHOLD"))
    alerts_per_hour: int = Field(6, ge=1, validation_alias=_env("SPACEBOT_ALERTS_PER_HOUR"))
    alert_poll_seconds: float = Field(15.0, gt=0, validation_alias=_env("SPACEBOT_ALERT_POLL_SECONDS"))

    @property
    def chroma_dir(self) -> Path:
        """Where the embedded Chroma store lives."""
        return self.data_dir / "chroma"

    @property
    def keyword_dir(self) -> Path:
        """Where the BM25 keyword index lives."""
        return self.data_dir / "bm25"

    @property
    def onnx_dir(self) -> Path:
        """Where the ONNX copy of the embedding model is written at ingest time."""
        return self.data_dir / "model"

    @property
    def state_db(self) -> Path:
        """SQLite file for conversations, feedback and Slack event de-duplication."""
        return self.data_dir / "state.sqlite3"

    @property
    def state_url(self) -> str:
        """Where conversations, feedback and event ids live: `SPACEBOT_DATABASE_URL` when set,
        else the path of `state_db`. May hold a password: hand it to `bot.state`, never print it."""
        url = self.database_url.get_secret_value().strip() if self.database_url else ""
        return url or str(self.state_db)

    @property
    def index_location(self) -> str:
        """Human-readable location of the vector store."""
        if self.chroma_host:
            scheme = "https" if self.chroma_ssl else "http"
            return f"chroma server {scheme}://{self.chroma_host}:{self.chroma_port}"
        return f"embedded chroma at {self.chroma_dir.resolve()}"

    @property
    def embedding(self):
        """The chosen `ingest.models.EmbeddingModel`."""
        from ingest.models import embedding_model

        return embedding_model(self.embed_model)

    @property
    def cors_origin_list(self) -> list[str]:
        """`SPACEBOT_CORS_ORIGINS` split on commas (empty: CORS stays off)."""
        return [o.strip() for o in (self.cors_origins or "").split(",") if o.strip()]

    @property
    def llm_enabled(self) -> bool:
        """True when an OpenAI-compatible LLM server is configured."""
        return bool(self.llm_base_url)
