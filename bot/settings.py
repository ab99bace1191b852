"""Settings from the environment, in one object built once at start-up and passed down."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DEFAULT_URL


class Settings(BaseSettings):
    """Every setting Clearance reads; see the README for each variable."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_URL, alias="CLEARANCE_DATABASE_URL")
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="CLEARANCE_SLACK_API_URL")
    admins: str = Field("", alias="CLEARANCE_ADMINS")
    review_channel: str | None = Field(None, alias="CLEARANCE_REVIEW_CHANNEL")
    audit_channel: str | None = Field(None, alias="CLEARANCE_AUDIT_CHANNEL")
