"""A stateful amoCRM (API v4 + account webhooks) for tests and benchmarks, run on loopback.

What it reproduces is listed in /work/shared/crm/amocrm.md §8; `AmoEmulator` is the entry point.
"""

from tests.fakes.amocrm_emulator.server import ADMIN, AmoEmulator, Logged

__all__ = ["ADMIN", "AmoEmulator", "Logged"]
