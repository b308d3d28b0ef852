"""The account's users and their groups, for the team sync (amocrm.md §2.4).

`GET /api/v4/users?with=group` (admin rights only; 250 a page) gives every user with
`rights.is_active`, `rights.is_free` and `rights.group_id`, and the groups' names embedded. A user
can own leads when active and not a free (read-only) seat; a deactivated user keeps their group.
"""

from __future__ import annotations

from typing import Any

from adapters.amocrm.schemas import Named, UserOut, embedded
from adapters.amocrm.transport import AmoHttp
from adapters.errors import AdminRightsNeeded, PermanentCrmError
from core.team import CrmPerson


def read_team(http: AmoHttp) -> list[CrmPerson]:
    """Every user, with whether they can own leads and the name of their group."""
    users: list[UserOut] = []
    groups: dict[int, str] = {}
    try:
        for page in http.pages("/api/v4/users", {"limit": 250, "with": "group"}):
            users += embedded(page, "users", UserOut)
            for raw in (page.get("_embedded") or {}).get("users") or []:
                groups |= {g.id: g.name for g in _groups(raw) if g.id is not None}
    except PermanentCrmError as exc:
        raise AdminRightsNeeded(str(exc)) from exc
    people = []
    for user in users:
        group = groups.get(user.rights.group_id) if user.rights.group_id is not None else None
        people.append(
            CrmPerson(
                user_id=user.id,
                name=user.name or f"user {user.id}",
                active=user.rights.is_active and not user.rights.is_free,
                teams=(group,) if group else (),
            )
        )
    return people


def _groups(user: dict[str, Any]) -> list[Named]:
    return [Named.model_validate(g) for g in (user.get("_embedded") or {}).get("groups") or []]
