"""`claim`: the lead waits on a shared pool user; every available member is told to grab it.

This is the conflict-prone option the seeds warn about (fights over hot leads): it exists because
some teams insist on it, and the audit log shows who was notified and when.
"""

from __future__ import annotations

from typing import ClassVar

from core.strategies.base import Choice, PoolView, register


@register
class Claim:
    """Assigns to the pool's claim user and notifies all available members."""

    name: ClassVar[str] = "claim"
    needs_members: ClassVar[bool] = True

    def choose(self, view: PoolView) -> Choice:
        """Park the lead on the claim user; the first member to take it in the CRM owns it."""
        assert view.pool.claim_user is not None, "config validation requires claim_user"
        return Choice(view.pool.claim_user, view.state, notify=view.keys)
