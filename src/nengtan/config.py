"""All configuration in one place.

Every setting can be given as an environment variable ``NENGTAN_<NAME>`` (for example
``NENGTAN_DATABASE_URL``) or in a ``.env`` file in the working directory.  The default is an
embedded SQLite database under ``$NENGTAN_HOME`` (``./var`` when unset), so a first run needs
no server.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NENGTAN_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("var"), description="Directory for the embedded database and files.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: sqlite:///<home>/nengtan.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/dbname",
    )
    timezone: str = Field(default="Asia/Shanghai", description="Default timezone of new sites.")
    host: str = "127.0.0.1"
    port: int = 8000
    ingest_chunk_rows: int = Field(
        default=500_000, description="Rows per transaction when ingesting large files."
    )
    echo_sql: bool = False
    evidence_dir: Path | None = Field(
        default=None, description="Directory of evidence files (default <home>/evidence).")
    evidence_max_bytes: int = Field(
        default=50 * 1024 * 1024, description="Largest evidence file accepted, in bytes.")
    # Identity and sessions (GB/T 22239-2019 8.1.4.1: 登录失败处理, 连接超时自动退出)
    session_idle_minutes: int = Field(
        default=30, description="A browser session ends after this many idle minutes.")
    session_max_hours: int = Field(
        default=12, description="A session or bearer token from a login lasts at most this long.")
    lockout_threshold: int = Field(
        default=5, description="Consecutive failed logins that lock an account.")
    lockout_minutes: int = Field(default=15, description="How long a locked account stays locked.")
    password_max_age_days: int = Field(
        default=90, description="Passwords older than this must be changed at the next login.")
    password_min_length: int = Field(default=10, description="Shortest password accepted.")
    dashboard_max_age_s: float = Field(
        default=30, description="Seconds an overview/wall-display answer may be kept and shown "
        "again (0: read on every request); a write through the API forgets them at once.")
    cookie_secure: bool = Field(
        default=False, description="Mark the console's cookies Secure (set it when served over "
        "HTTPS, e.g. behind a TLS reverse proxy).")

    def resolved_evidence_dir(self) -> Path:
        return (self.evidence_dir or self.home / "evidence").resolve()

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'nengtan.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
