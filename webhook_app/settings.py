"""Deployment settings and secrets, from the environment or a `.env` file (prefix `LEADROUTER_`).

Secrets are `SecretStr`, so printing the settings (or an error about them) shows `**********`.
Business rules live in the YAML config, never here; secrets live here, never in the YAML.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

NO_CONFIG = "no config: pass --config FILE or set LEADROUTER_CONFIG"


class Settings(BaseSettings):
    """Everything that differs between deployments: where the config is, the database, the secrets."""

    # Empty variables count as unset, so `LEADROUTER_CONFIG=` does not mean "the current directory".
    model_config = SettingsConfigDict(
        env_prefix="LEADROUTER_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    config: Path | None = None
    database_url: str = Field(default="sqlite:///leadrouter.db", repr=False)  # may hold a password
    webhook_secret: SecretStr | None = None
    admin_token: SecretStr | None = None
    amocrm_token: SecretStr | None = None
    amocrm_client_id: SecretStr | None = None
    amocrm_client_secret: SecretStr | None = None
    amocrm_refresh_token: SecretStr | None = None
    amocrm_redirect_uri: SecretStr | None = None
    bitrix24_webhook_url: SecretStr | None = None
    bitrix24_client_id: SecretStr | None = None
    bitrix24_client_secret: SecretStr | None = None
    bitrix24_refresh_token: SecretStr | None = None
    bitrix24_app_token: SecretStr | None = None
    # Reverse proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDRs.
    trusted_proxies: str = ""


def resolve_config_path(cli_value: str | None, settings: Settings | None = None) -> Path:
    """The config file to use: the command line, else LEADROUTER_CONFIG; exits with code 2 if neither."""
    if cli_value:
        return Path(cli_value)
    configured = (settings or Settings()).config
    if configured is not None:
        return configured
    # The same convention as argparse's usage errors: a message on stderr and exit status 2.
    print(f"leadrouter: {NO_CONFIG}", file=sys.stderr)
    raise SystemExit(2)
