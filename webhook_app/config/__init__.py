"""The configuration layer: one YAML file in, a checked core Policy out, or every problem named."""

from webhook_app.config.loader import LoadedConfig, load_config
from webhook_app.config.problems import ConfigError, ConfigProblem

__all__ = ["ConfigError", "ConfigProblem", "LoadedConfig", "load_config"]
