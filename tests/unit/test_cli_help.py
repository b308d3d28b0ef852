"""`leadrouter --help`, every command's help and the usage errors speak the config's language.

Help is printed before any config is loaded: the language is the `language:` line of the config the
command line names (`--config` anywhere), else of LEADROUTER_CONFIG's; none: Russian, the default.
A Russian reader meets no English (argparse's own words included); English is what it always was.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.texts import texts
from tests.english import foreign_words
from webhook_app.cli import COMMANDS
from webhook_app.cli.help import config_in_argv, help_language, usage_error
from webhook_app.cli.main import main

ROOT = Path(__file__).resolve().parents[2]

# Every help there is: the top level's, each command's, and `deadletters`' two actions.
HELPS = (
    [["--help"]]
    + [[name, "--help"] for name in COMMANDS]
    + [["deadletters", action, "--help"] for action in ("list", "replay")]
)

# Latin words a Russian help may hold besides the commands: what a person types (actions, choices,
# the forms of a period, file extensions, `-h`) and names of formats, standards and tools.
TYPED = {"list", "replay", "table", "json", "csv", "ru", "en", "h", "d", "w", "jsonl", "ndjson"}
NAMES = {"ISO", "UTC", "CSV", "JSON", "SIGUSR2", "metrics", "oldbin"}
ALLOWED = TYPED | NAMES


def english_in(text: str) -> list[str]:
    """The English words a Russian reader would meet: not the commands, nor the YAML key `managers:`
    that `users` prints or a file name (`./config.example.yaml`), which are the same in any language."""
    commands = "|".join(re.escape(name) for name in COMMANDS)
    return foreign_words(
        re.sub(rf"(?<![\w-])({commands})(?![\w-])|`managers:`|\S*\.yaml", " ", text), ALLOWED
    )


@pytest.fixture(autouse=True)
def no_configured_file(monkeypatch, tmp_path):
    """No LEADROUTER_CONFIG and no `.env` unless a test sets one: the default speaks; and a terminal
    100 columns wide, where argparse wraps the lines this file quotes."""
    monkeypatch.delenv("LEADROUTER_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(tmp_path)


def config(tmp_path: Path, language: str) -> str:
    """A config naming `language` (the rest need not even be valid: only that line is read)."""
    path = tmp_path / f"{language}.yaml"
    path.write_text(f"# team config\nlanguage: {language}\nmanagers: [broken\n", encoding="utf-8")
    return str(path)


def printed(argv: list[str], capsys) -> tuple[int | str | None, str, str]:
    """What `leadrouter ARGV` prints before it exits: its exit code, stdout and stderr."""
    with pytest.raises(SystemExit) as ended:
        main(argv)
    out, err = capsys.readouterr()
    return ended.value.code, out, err


def where_russian(how: str, tmp_path: Path, monkeypatch) -> list[str]:
    """The extra words of a command line whose help must be Russian, by how the config is found; a
    config on the command line wins over an English LEADROUTER_CONFIG."""
    if how.startswith("--config"):
        monkeypatch.setenv("LEADROUTER_CONFIG", config(tmp_path, "en"))
    if how == "--config before":
        return ["--config", config(tmp_path, "ru")]
    if how == "--config after":
        return ["--config=" + config(tmp_path, "ru")]
    if how == "LEADROUTER_CONFIG":
        monkeypatch.setenv("LEADROUTER_CONFIG", config(tmp_path, "ru"))
    return []  # "no config": nothing names one


@pytest.mark.parametrize("how", ["--config before", "--config after", "LEADROUTER_CONFIG", "no config"])
@pytest.mark.parametrize("argv", HELPS, ids=" ".join)
def test_every_help_is_russian_with_a_russian_config_and_without_one(
    argv, how, tmp_path, monkeypatch, capsys
):
    extra = where_russian(how, tmp_path, monkeypatch)
    line = extra + argv if how == "--config before" else argv[:-1] + extra + argv[-1:]
    code, out, err = printed(line, capsys)
    assert code == 0 and err == ""
    assert english_in(out) == [], out
    assert out.startswith("Как запустить: leadrouter") and "показать эту справку и выйти" in out


@pytest.mark.parametrize("argv", HELPS, ids=" ".join)
def test_every_help_is_english_with_an_english_config(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LEADROUTER_CONFIG", config(tmp_path, "en"))
    code, out, _ = printed(argv, capsys)
    assert code == 0
    assert (
        out.startswith("usage: leadrouter")
        and "  -h, --help" in out
        and "show this help message and exit" in out
    )
    assert not [word for word in out.split() if any("а" <= letter.lower() <= "я" for letter in word)]


def test_english_help_is_worded_as_it_always_was(tmp_path, capsys):
    english = ["--config", config(tmp_path, "en")]
    _, top, _ = printed([*english, "--help"], capsys)
    assert top.startswith("usage: leadrouter [-h] [--config FILE] COMMAND ...\n\n")
    assert (
        "Lead distribution and handoff for amoCRM and Bitrix24.\n\npositional arguments:\n  COMMAND\n" in top
    )
    assert "    deadletters  list or replay CRM writes that failed for good\n" in top
    assert (
        "\noptions:\n  -h, --help     show this help message and exit\n  --config FILE  the YAML config\n"
        in top
    )
    _, install, _ = printed(["install", *english, "--help"], capsys)
    assert "usage: leadrouter install [-h] [--config CONFIG] --public-url PUBLIC_URL [--uninstall]" in install
    assert (
        "  --public-url PUBLIC_URL\n                        where the CRM reaches this service, https://…\n"
        in install
    )
    _, replay, _ = printed(["deadletters", "replay", *english, "--help"], capsys)
    assert "usage: leadrouter deadletters replay [-h] [--all] [--config CONFIG] [ids ...]" in replay
    assert "  ids              dead-letter ids\n" in replay
    _, serve, _ = printed(["web", *english, "--help"], capsys)
    assert "  --workers WORKERS    gunicorn processes (default 2)\n" in serve


# Command lines with a usage error, and what it says in each language (argument names kept).
USAGE_ERRORS = [
    (
        ["install"],
        "не хватает обязательных параметров: --public-url",
        "the following arguments are required: --public-url",
    ),
    ([], "не хватает обязательных параметров: КОМАНДА", "the following arguments are required: COMMAND"),
    (
        ["nosuch"],
        "параметр КОМАНДА: нет такого варианта: 'nosuch' (можно: 'serve', ",
        "argument COMMAND: invalid choice: 'nosuch' (choose from 'serve', ",
    ),
    (["check-config", "--bogus"], "непонятные параметры: --bogus", "unrecognized arguments: --bogus"),
    (
        ["audit", "--since"],
        "параметр --since: после него нужно указать значение",
        "argument --since: expected one argument",
    ),
    (
        ["audit", "--limit", "x"],
        "параметр --limit: 'x' — не целое число",
        "argument --limit: invalid int value: 'x'",
    ),
    (
        ["sandbox", "--every", "x"],
        "параметр --every: 'x' — не число",
        "argument --every: invalid float value: 'x'",
    ),
    (
        ["simulate"],
        "нужен один из параметров: --leads --from-history",
        "one of the arguments --leads --from-history is required",
    ),
    (
        ["simulate", "--leads", "a", "--from-history", "3d"],
        "параметр --from-history: нельзя указывать вместе с --leads",
        "argument --from-history: not allowed with argument --leads",
    ),
    (
        ["deadletters", "replay", "x"],
        "параметр НОМЕР: 'x' — не целое число",
        "argument ids: invalid int value: 'x'",
    ),
]


@pytest.mark.parametrize(
    ("argv", "russian", "english"), USAGE_ERRORS, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_usage_errors_are_in_the_config_language_with_exit_status_2(argv, russian, english, tmp_path, capsys):
    code, out, err = printed(argv, capsys)  # no config: Russian
    assert code == 2 and out == ""
    assert err.startswith("Как запустить: leadrouter") and ": ошибка: " + russian in err
    assert english_in(err.replace("nosuch", "").replace("bogus", "").replace("'x'", "")) == [], err
    code, _, err = printed(["--config", config(tmp_path, "en"), *argv], capsys)
    assert code == 2 and err.startswith("usage: leadrouter") and ": error: " + english in err


def test_the_language_comes_from_the_command_line_before_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADROUTER_CONFIG", config(tmp_path, "en"))
    assert help_language(["audit"]) == "en"
    assert help_language(["audit", "--config", config(tmp_path, "ru")]) == "ru"
    assert help_language(["--config", config(tmp_path, "ru"), "audit", "--help"]) == "ru"
    # A file that cannot be read, or names no language: the default (None: Russian).
    assert help_language(["--config", str(tmp_path / "missing.yaml")]) is None
    (tmp_path / "plain.yaml").write_text("timezone: Europe/Moscow\n", encoding="utf-8")
    assert help_language(["--config", str(tmp_path / "plain.yaml")]) is None


def test_a_dotenv_config_is_found_as_the_commands_find_it(tmp_path):
    (tmp_path / ".env").write_text(f"LEADROUTER_CONFIG={config(tmp_path, 'en')}\n", encoding="utf-8")
    assert help_language(["--help"]) == "en"


def test_the_command_line_config_is_the_last_one_given():
    assert config_in_argv(["--config", "a.yaml", "pause", "x", "--config=b.yaml"]) == "b.yaml"
    assert config_in_argv(["--config=a.yaml", "report", "--config", "b.yaml"]) == "b.yaml"
    assert config_in_argv(["report", "--config"]) is None
    assert config_in_argv(["report"]) is None


def test_an_unknown_usage_error_passes_through_as_argparse_said_it():
    russian = texts("ru", "help")
    assert usage_error("something argparse adds one day", russian) == "something argparse adds one day"
    assert usage_error("argument --x: a new complaint", russian) == "параметр --x: a new complaint"


def test_an_environment_variable_spelled_in_lower_case_counts_as_settings_read_it(tmp_path, monkeypatch):
    monkeypatch.setenv("leadrouter_config", config(tmp_path, "en"))
    assert help_language(["--help"]) == "en"


def test_help_without_a_config_loads_neither_pydantic_nor_the_config_package(tmp_path):
    # The language costs a line scan: no settings model, no YAML parser, no config validation.
    code = (
        "import sys\n"
        "from webhook_app.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('pydantic', 'yaml', 'webhook_app.config') if m in sys.modules))"
    )
    environment = {key: value for key, value in os.environ.items() if key.upper() != "LEADROUTER_CONFIG"}
    environment["PYTHONPATH"] = str(ROOT)
    run = [sys.executable, "-c", code]
    result = subprocess.run(run, cwd=tmp_path, env=environment, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
