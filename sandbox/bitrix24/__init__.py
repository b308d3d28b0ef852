"""A stateful Bitrix24 portal (REST + outbound events) on loopback: for tests, benchmarks and the sandbox.

What it reproduces is listed in /work/shared/crm/bitrix24.md; `Bitrix24Emulator` is the entry point.
"""

from sandbox.bitrix24.emulator import Bitrix24Emulator

__all__ = ["Bitrix24Emulator"]
