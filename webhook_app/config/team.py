"""The config's policy with the CRM's team folded in, the same in every process.

The team sync job stores the CRM's users (adapters/storage/teams.py); every process looks for a
newer copy at most every few seconds and folds it into the policy in force (`core.team.with_team`),
so a pool following a CRM group gains its newcomers and loses the deactivated in every worker
within seconds of the sync. The folded policy is remembered until the config or the team changes:
the shift calendar's caches live in it.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine

from adapters.storage.engine import reading
from adapters.storage.teams import read_team
from core.policy import Policy
from core.team import Team, with_team


def with_stored_team(engine: Engine, policy: Policy, crm: str) -> Policy:
    """`policy` with the team as last synced (what-if and simulate replay under today's team: the
    history does not keep who was in each group at each moment)."""
    with reading(engine) as connection:
        team, _ = read_team(connection, crm)
    return with_team(policy, team)


class TeamFollower:
    """Folds the newest stored team into a policy; `poll_seconds` bounds how often it reads."""

    def __init__(self, engine: Engine, poll_seconds: float = 2.0) -> None:
        self.engine, self.poll_seconds = engine, poll_seconds
        self.team = Team()
        self._stamp: object = None
        self._checked = -float("inf")
        self._base: Policy | None = None
        self._folded: Policy | None = None

    def expire(self) -> None:
        """Read the stored team at the next `apply` (this process just stored or refused something)."""
        self._checked = -float("inf")

    def apply(self, policy: Policy, crm: str, *, force: bool = False) -> Policy:
        """`policy` with the team as last synced (the same object while nothing changed)."""
        now = time.monotonic()
        if force or now - self._checked >= self.poll_seconds:
            self._checked = now
            with reading(self.engine) as connection:
                team, stamp = read_team(connection, crm)
            if stamp != self._stamp:
                self.team, self._stamp, self._base = team, stamp, None
        if self._base is not policy or self._folded is None:
            self._base, self._folded = policy, with_team(policy, self.team)
        return self._folded
