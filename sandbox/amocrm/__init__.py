"""A stateful amoCRM (API v4 + account webhooks) on loopback: for tests, benchmarks and `leadrouter sandbox`.

What it reproduces is listed in /work/shared/crm/amocrm.md §8; `AmoEmulator` is the entry point.
"""

from sandbox.amocrm.server import ADMIN, AmoEmulator, Logged

__all__ = ["ADMIN", "AmoEmulator", "Logged"]
