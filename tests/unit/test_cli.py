"""The console command lists every subcommand but imports only the one that runs."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from core.texts import texts
from webhook_app.cli import COMMANDS
from webhook_app.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_help_lists_every_command_with_its_help(language, capsys, tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text(f"language: {language}\n", encoding="utf-8")
    monkeypatch.setenv("LEADROUTER_CONFIG", str(config))
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = " ".join(capsys.readouterr().out.split())
    words = texts(language, "help")
    for name in COMMANDS:
        assert f"{name} {' '.join(words[f'cmd_{name}'].split())}" in listing


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_module_registers_the_commands_listed_for_it(name):
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"webhook_app.cli.{COMMANDS[name]}").register(sub, texts("en", "help"))
    assert name in sub.choices


def test_simulate_starts_without_the_web_and_database_stack():
    code = (
        "import sys\n"
        "from webhook_app.cli.main import main\n"
        "try:\n    main(['simulate', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'httpx') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


# Every command with the words a command line needs to parse (but not to run).
ARGUMENTS = {
    "serve": [],
    "sandbox": [],
    "web": [],
    "worker": [],
    "check-config": [],
    "simulate": ["--leads", "x.csv"],
    "audit": [],
    "report": [],
    "deadletters": ["list"],
    "reload": [],
    "pause": ["ivanova"],
    "resume": ["ivanova"],
    "users": [],
    "install": ["--public-url", "https://x.example"],
    "auth": ["--code", "c"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_config_is_taken_before_the_command_and_after_its_last_word(name):
    # Issue 18: `deadletters list --config FILE` was a usage error; every command takes it anywhere.
    from webhook_app.cli.main import build_parser, command_of

    assert set(ARGUMENTS) == set(COMMANDS)
    for argv in (
        [name, *ARGUMENTS[name], "--config", "c.yaml"],
        ["--config", "c.yaml", name, *ARGUMENTS[name]],
    ):
        assert command_of(argv) == name
        args = build_parser(name).parse_args(argv)
        config = getattr(args, "config", None) or args.global_config
        assert str(config) == "c.yaml", argv


def test_deadletters_replay_takes_config_after_its_ids(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'lr.db'}")
    assert main(["deadletters", "replay", "--config", str(ROOT / "config.example.yaml")]) == 2
    assert "укажите номера записей или --all" in capsys.readouterr().err
