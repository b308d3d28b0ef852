"""Open deals and overdue tasks per user, for `load: crm` (amocrm.md §2.2, §2.5).

`GET /api/v4/leads?filter[responsible_user_id][]=…` (250 a page) lists each user's leads; the open
ones are those outside won (142) and lost (143). `GET /api/v4/tasks?filter[responsible_user_id][]=…
&filter[is_completed]=0` lists their open tasks; overdue are those whose `complete_till` is past.
Users go `USERS_PER_CALL` at a time, so a 50-person team costs a few pages, not 50 requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.amocrm.transport import AmoHttp

CLOSED = {142, 143}
USERS_PER_CALL = 25


def open_load(http: AmoHttp, user_ids: Sequence[int], now: datetime) -> dict[int, tuple[int, int]]:
    """(open deals, overdue open tasks) of each user."""
    deals = dict.fromkeys(user_ids, 0)
    overdue = dict.fromkeys(user_ids, 0)
    wanted = sorted(set(user_ids))
    for start in range(0, len(wanted), USERS_PER_CALL):
        users: list[tuple[str, str | int]] = [
            ("filter[responsible_user_id][]", u) for u in wanted[start : start + USERS_PER_CALL]
        ]
        for page in http.pages("/api/v4/leads", [*users, ("limit", 250)]):
            for lead in (page.get("_embedded") or {}).get("leads") or []:
                owner = lead.get("responsible_user_id")
                if owner in deals and lead.get("status_id") not in CLOSED and not lead.get("closed_at"):
                    deals[owner] += 1
        open_tasks = [*users, ("filter[is_completed]", 0), ("limit", 250)]
        for page in http.pages("/api/v4/tasks", open_tasks):
            for task in (page.get("_embedded") or {}).get("tasks") or []:
                owner, due = task.get("responsible_user_id"), task.get("complete_till")
                if (
                    owner in overdue
                    and not task.get("is_completed")
                    and isinstance(due, int)
                    and due < now.timestamp()
                ):
                    overdue[owner] += 1
    return {u: (deals[u], overdue[u]) for u in user_ids}
