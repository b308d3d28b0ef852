"""Subcommands of the `leadrouter` console command; each exposes `register(subparsers)`."""
