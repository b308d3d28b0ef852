"""Subcommands of the `leadrouter` console command; each module exposes `register(subparsers)`.

`COMMANDS` names every subcommand in `--help` order with its module and one-line help, so the CLI
lists them all while importing only the module of the command that runs: `simulate` needs neither
Flask nor SQLAlchemy, and importing everything took a second at every start.
"""

COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "webhook server and a worker in one process (the default setup)"),
    "sandbox": (
        "sandbox",
        "try it without a CRM: serve a config against a bundled emulator of its CRM with live leads",
    ),
    "web": ("serve", "webhook server only (gunicorn); run workers separately"),
    "worker": ("serve", "job worker only; several may run"),
    "check-config": ("check_config", "validate a config file and summarise it"),
    "simulate": ("simulate", "try the config on past leads: who would get each one, and the fairness table"),
    "audit": ("audit", "show the audit log (events, decisions with reasons, CRM writes)"),
    "report": ("report", "per manager: received vs target, handoffs, won/lost, conversion"),
    "deadletters": ("deadletters", "list or replay CRM writes that failed for good"),
    "reload": ("live", "validate the config file and put it in force in every running process"),
    "pause": ("live", "pause a manager (no new leads) for every worker, optionally until a time"),
    "resume": ("live", "end a manager's pause"),
    "users": ("crm", "list the CRM's active users as a ready `managers:` YAML block"),
    "install": ("crm", "register our webhook in the CRM (or remove it)"),
    "auth": ("auth", "amoCRM OAuth: trade an authorization code for the token pair (once, at setup)"),
}


def help_for(command: str) -> str:
    """The one-line help of a subcommand, as `leadrouter --help` lists it."""
    return COMMANDS[command][1]
