"""Subcommands of the `leadrouter` console command; each module exposes `register(subparsers, words)`.

`COMMANDS` names every subcommand in `--help` order with its module, so the CLI lists them all while
importing only the module of the command that runs: `simulate` needs neither Flask nor SQLAlchemy,
and importing everything took a second at every start. Their one-line help is in the catalogs' `help`
area (`cmd_<name>`), in the config's language (webhook_app/cli/help.py).
"""

from collections.abc import Mapping

COMMANDS: dict[str, str] = {
    "serve": "serve",
    "sandbox": "sandbox",
    "web": "serve",
    "worker": "serve",
    "check-config": "check_config",
    "simulate": "simulate",
    "audit": "audit",
    "report": "report",
    "deadletters": "deadletters",
    "reload": "live",
    "pause": "live",
    "resume": "live",
    "users": "crm",
    "install": "crm",
    "auth": "auth",
}


def help_for(command: str, words: Mapping[str, str]) -> str:
    """The one-line help of a subcommand, as `leadrouter --help` lists it, in `words` (a `help` catalog)."""
    return words[f"cmd_{command}"]
