"""Managers' loads as a what-if replay would have them: the stored figures, moved by the difference
between the replay's assignments and the real ones so far (leads closed meanwhile are in the stored
figures, not guessed)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from core.model import ManagerKey
from core.policy import Policy
from core.state import ManagerLoad


class Loads:
    """Each manager's load in the replay: the last stored figure, what really happened since it, and
    the replay's difference from what really happened over the whole run."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.loads: dict[ManagerKey, ManagerLoad] = {}
        self._base: dict[ManagerKey, ManagerLoad] = {}
        self._delta: Counter[ManagerKey] = Counter()  # replay − real, whole run
        self._day_delta: Counter[tuple[ManagerKey, date]] = Counter()
        self._since_base: Counter[ManagerKey] = Counter()  # real moves since the stored figure
        self._day_since_base: dict[ManagerKey, Counter[date]] = {}

    def day(self, key: ManagerKey, moment: datetime) -> date:
        """The manager's local date at `moment`."""
        manager = self.policy.managers.get(key)
        return moment.astimezone(manager.tz if manager else self.policy.tz).date()

    def stored(self, key: ManagerKey, load: ManagerLoad, now: datetime) -> None:
        """A decision's snapshot gave the real load of `key` just before it."""
        base = self._base.get(key)
        if base is not None and load.day is not None:
            days = self._day_since_base.get(key) or Counter()
            today = base.count_on(load.day) + days[load.day]
            if load.open == base.open + self._since_base[key] and load.today == today:
                return  # what we already had: most snapshots repeat it (nothing closed meanwhile)
        self._base[key] = load
        self._since_base[key] = 0
        self._day_since_base[key] = Counter()
        self._refresh(key, now)

    def real(self, key: ManagerKey, now: datetime, step: int = 1, *, today: bool = True) -> None:
        """What really happened moved `key`'s load by `step` at `now` (and the day's count, if `today`)."""
        day = self.day(key, now)
        self._delta[key] -= step
        self._since_base[key] += step
        if today:
            self._day_delta[key, day] -= step
            self._day_since_base.setdefault(key, Counter())[day] += step
        self._refresh(key, now)

    def replayed(self, key: ManagerKey, now: datetime, step: int = 1, *, today: bool = True) -> None:
        """The replay moved `key`'s load by `step` at `now`."""
        self._delta[key] += step
        if today:
            self._day_delta[key, self.day(key, now)] += step
        self._refresh(key, now)

    def _refresh(self, key: ManagerKey, now: datetime) -> None:
        day = self.day(key, now)
        base = self._base.get(key) or ManagerLoad()
        since = self._day_since_base.get(key)
        today = base.count_on(day) + (since[day] if since else 0) + self._day_delta[key, day]
        opened = base.open + self._since_base[key] + self._delta[key]
        self.loads[key] = ManagerLoad(day=day, today=max(today, 0), open=max(opened, 0))

    def share_moved(
        self,
        previous: ManagerKey | None,
        new: ManagerKey | None,
        decided_at: datetime,
        now: datetime,
        *,
        real: bool,
    ) -> None:
        """A person moved a pool's lead (decided at `decided_at`) from `previous` to `new`, counted in
        the share (`overrides.count_toward_share`): the open load and, if it came in that day, the
        day's count move, as `core.overrides.apply_override` moves them — really, or in the replay."""
        if previous == new:
            return
        move = self.real if real else self.replayed
        for key, step in ((previous, -1), (new, 1)):
            if key is not None and key in self.policy.managers:
                move(key, now, step, today=self.day(key, decided_at) == self.day(key, now))
