"""The team as the CRM has it, folded into the policy: pools that follow a CRM group or department,
and people the CRM deactivated or fired, who are never chosen again.

The shell reads the CRM's users every few minutes (`webhook_app/pipeline/team_sync.py`) and hands
them in as data; `with_team` is pure. A person found in a pool's CRM team needs no `managers:`
entry: they get the config's defaults (`Policy.newcomer`) under the key `crm-<user id>`. A person
the CRM says cannot own leads any more is marked inactive wherever they appear, named or not, so
every pool and every fallback skips them (`SkipReason.INACTIVE`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from core.availability import ShiftCalendar
from core.model import ManagerKey, Pool, UserId
from core.policy import Policy


@dataclass(frozen=True, slots=True)
class CrmPerson:
    """A CRM user as a team sync reads them: whether they can own leads, and the teams they are in.

    `teams` are amoCRM group names, or Bitrix24 department names with every department above them
    (a department's team includes its sub-departments)."""

    user_id: UserId
    name: str
    active: bool = True
    teams: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Team:
    """Everyone the last sync read, plus users a CRM refused as owners since (never chosen again)."""

    people: tuple[CrmPerson, ...] = ()
    refused: frozenset[UserId] = frozenset()

    def inactive_users(self) -> frozenset[UserId]:
        """Users who cannot own leads: deactivated or fired in the CRM, or refused by it as owners."""
        return self.refused | {p.user_id for p in self.people if not p.active}


def crm_key(user_id: UserId) -> ManagerKey:
    """The key of a person known only from a CRM team (shown by name everywhere people read)."""
    return f"crm-{user_id}"


def team_members(
    pool: Pool, people: Iterable[CrmPerson], by_user_id: Mapping[UserId, ManagerKey]
) -> tuple[ManagerKey, ...]:
    """A pool's members: the named ones, then the active people of its CRM team (by user id)."""
    if pool.crm_team is None:
        return pool.members
    found = [
        by_user_id.get(p.user_id) or crm_key(p.user_id)
        for p in sorted(people, key=lambda p: p.user_id)
        if p.active and pool.crm_team in p.teams
    ]
    return tuple(dict.fromkeys([*pool.members, *found]))


def with_team(policy: Policy, team: Team) -> Policy:
    """The policy with CRM teams resolved into pool members and inactive users marked so.

    The policy comes back unchanged (the same object) when the team changes nothing in it."""
    inactive = team.inactive_users()
    managers = dict(policy.managers)
    by_user = dict(policy.by_user_id)
    changed = False
    listed = {p.user_id for p in team.people}
    for key, manager in policy.managers.items():
        # A user the CRM no longer lists at all (deleted) cannot own leads either.
        if manager.active and (
            manager.crm_user_id in inactive or (listed and manager.crm_user_id not in listed)
        ):
            managers[key] = replace(manager, active=False)
            changed = True
    pools = dict(policy.pools)
    template = policy.newcomer
    teams = {pool.crm_team for pool in policy.pools.values() if pool.crm_team is not None}
    if template is not None and teams:
        for person in team.people:
            if person.user_id in by_user or not teams.intersection(person.teams):
                continue
            key = crm_key(person.user_id)
            active = person.user_id not in inactive
            managers[key] = replace(
                template, key=key, crm_user_id=person.user_id, name=person.name, active=active
            )
            by_user[person.user_id] = key
    for name, pool in policy.pools.items():
        if pool.crm_team is None:
            continue
        members = team_members(pool, team.people, by_user)
        if members != pool.members:
            pools[name] = replace(pool, members=members)
            changed = True
    if not changed and len(managers) == len(policy.managers):
        return policy
    return replace(policy, managers=managers, pools=pools, by_user_id=by_user, calendar=ShiftCalendar())


@dataclass(frozen=True, slots=True)
class TeamChange:
    """What a sync changed in one pool (who joined, who left), or in the whole team (pool None)."""

    pool: str | None
    joined: tuple[ManagerKey, ...] = ()
    left: tuple[ManagerKey, ...] = ()


def team_changes(before: Policy, after: Policy) -> list[TeamChange]:
    """Per pool, who joined and who left between two resolved policies; then who became inactive."""
    changes = []
    for name, pool in after.pools.items():
        old = before.pools.get(name)
        was = set(old.members) if old is not None else set()
        joined = tuple(k for k in pool.members if k not in was)
        left = tuple(k for k in (old.members if old is not None else ()) if k not in set(pool.members))
        if joined or left:
            changes.append(TeamChange(name, joined, left))
    gone = tuple(
        key
        for key, m in after.managers.items()
        if not m.active and (key not in before.managers or before.managers[key].active)
    )
    back = tuple(
        key
        for key, m in after.managers.items()
        if m.active and key in before.managers and not before.managers[key].active
    )
    if gone or back:
        changes.append(TeamChange(None, joined=back, left=gone))
    return changes
