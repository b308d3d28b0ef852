"""`load_config`: file → YAML → schema → core Policy, with every problem collected on the way."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from core.policy import Policy
from webhook_app.config.convert import build_policy
from webhook_app.config.errors import decimal_commas, report_validation_error
from webhook_app.config.problems import ConfigError, ConfigProblem, Reporter, language_of
from webhook_app.config.schema import ConfigModel, CrmModel
from webhook_app.config.validate import check_document
from webhook_app.config.yamlsource import read_source


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config: the core Policy, the document it came from, its version and warnings."""

    path: Path
    policy: Policy
    document: ConfigModel
    version: str
    warnings: list[ConfigProblem]
    crm: CrmModel
    raw: bytes = b""  # the text it was loaded from, stored with each version in force


def load_config(path: str | os.PathLike[str], raw: bytes | None = None) -> LoadedConfig:
    """Load and check a config file (or `raw`: an edited or stored text, named `path` in errors);
    every user mistake is raised as one ConfigError."""
    source = read_source(path, raw)
    report = Reporter(source.file, source.index, language_of(source.data))
    report.add(source.problems)
    # Top-level `x-...` keys are free for YAML anchors (`x-office-hours: &office {...}`), as in Compose.
    data = {k: v for k, v in source.data.items() if not str(k).startswith("x-")}
    commas = decimal_commas(data, report)
    try:
        document = ConfigModel.model_validate(data)
    except ValidationError as exc:
        # Semantic checks need a well-formed document, so they wait until the shape is right.
        report_validation_error(exc, data, ConfigModel, report, skip=commas)
        raise ConfigError(_in_file_order(report.errors)) from None
    if commas:
        raise ConfigError(_in_file_order(report.errors))
    version = hashlib.sha256(source.raw).hexdigest()[:12]
    policy = build_policy(document, version, report)
    check_document(document, policy, report)
    if report.errors:
        raise ConfigError(_in_file_order(report.errors))
    warnings = _in_file_order(report.warnings)
    return LoadedConfig(Path(path), policy, document, version, warnings, document.crm, source.raw)


def _in_file_order(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return sorted(problems, key=lambda p: p.line or 0)
