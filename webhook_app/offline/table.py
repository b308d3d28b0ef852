"""The human form of `simulate` output: aligned columns in the config's (or the chosen) language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO

from core.decision import Outcome
from core.fairness import MemberFairness, PoolFairness
from core.reasons import Renderer
from core.texts import texts
from webhook_app.offline.simulate import Simulated
from webhook_app.offline.tally import OUTCOMES, Handed, HandoffTally
from webhook_app.textwidth import ljust, rjust, width

# The columns' headings, in order: keys of the `simulate` area of the catalogs (core/texts/).
HEAD = ("head_time", "head_lead", "head_assignee", "head_rule", "head_pool", "head_reason")
FAIR = ("fair_manager", "fair_weight", "fair_received", "fair_target", "fair_deviation", "fair_max_deviation")
HANDOFF_HEAD = (
    "handoff_name",
    "handoff_kind",
    "handoff_handed",
    "handoff_to_head",
    "handoff_exception",
    "handoff_blocked",
    "handoff_cancelled",
    "handoff_in_time",
    "handoff_after_file",
)
PAIRS = ("pairs_from_to", "pairs_count")


class TableWriter:
    """Aligned columns for people; widths come from the config, so lines stream out at once."""

    def __init__(self, out: IO[str], render: Renderer, language: str, *, with_decisions: bool = True) -> None:
        self.out, self.render = out, render
        self.words = texts(language, "simulate")
        # The handoffs leadrouter names itself (a return after an absence, a person's change), in words.
        self._builtin = {name: self.words[f"kind_{name}"] for name in ("return", "owner")}
        policy = render.policy
        # Each column as wide as its longest possible cell or its heading, whichever is wider, so a
        # company of short names (or a short language) still lines up under "Ответственный".
        names = [m.label for m in policy.managers.values()] + [self._waiting()]
        rules = (
            [r.name for r in policy.rules]
            + [h.name for h in policy.handoffs]
            + ["—", *self._builtin.values()]
        )
        cells = (["00.00.0000 00:00"], ["0" * 10], names, rules, [*policy.pools, "—"])
        self.widths = tuple(
            max(width(heading), *(width(cell) for cell in column))
            for heading, column in zip(self._headings(HEAD), cells, strict=False)
        )
        if with_decisions:
            self._row(self._headings(HEAD))

    def _headings(self, keys: tuple[str, ...]) -> list[str]:
        return [self.words[key] for key in keys]

    def _waiting(self) -> str:
        return f"— ({self.words['waiting']})"

    def _row(self, cells: list[str]) -> None:
        padded = [ljust(cell, columns) for cell, columns in zip(cells, self.widths, strict=False)]
        self.out.write("  ".join([*padded, *cells[len(self.widths) :]]).rstrip() + "\n")

    def decision(self, item: Simulated) -> None:
        """One aligned line: time, lead, assignee, rule, pool, reason."""
        d = item.decision
        who = self.render.name(d.assignee) if d.outcome is Outcome.ASSIGN else self._waiting()
        cells = [self.render.moment(d.decided_at), item.lead.id, who, d.rule or "—", d.pool or "—"]
        arrived = ""
        if d.decided_at != item.lead.created_at:  # it waited for a shift: say since when
            arrived = self.words["arrived"].format(time=self.render.moment(item.lead.created_at))
        self._row([*cells, arrived + self.render.reason(d)])

    def handoff(self, item: Handed) -> None:
        """One aligned line: time, lead, who has the deal now, handoff, pool, what happened and why."""
        d = item.decision
        reason = self.render.reason(d) if d else self.render.step(item.step) if item.step else ""
        pool = d.pool if d and d.pool else "—"
        handoff = self._builtin.get(item.handoff, item.handoff)
        cells = [self.render.moment(item.at), item.lead.id, self.render.name(item.owner), handoff, pool]
        self._row([*cells, reason])

    def fairness(self, pools: list[PoolFairness]) -> None:
        """One block per pool: a title with its figures, then a line per member."""
        for pool in pools:
            strategy = self.render.strategy(pool.strategy)
            title = self.words["pool"].format(pool=pool.pool, strategy=strategy, leads=pool.leads)
            if pool.max_deviation is not None and pool.leads:
                title += self.words["stats"].format(
                    max=self._num(pool.max_deviation), jain=self._num(pool.jain, 3)
                )
            self.out.write(f"\n{title}\n")
            self._block([self._headings(FAIR), *(self._member(m) for m in pool.members)], left=1)

    def handoffs(self, tally: HandoffTally) -> None:
        """Outcomes per handoff, then who handed deals to whom, most often first."""
        self.out.write("\n" + self.words["handoffs"].format(handovers=tally.handovers) + "\n")
        rows = [self._headings(HANDOFF_HEAD)]
        kinds = {r.kind: self.words.get(f"kind_{r.kind}", r.kind) for r in tally.report()}
        rows += [
            [self._builtin.get(r.handoff, r.handoff), kinds[r.kind], *(str(r.counts[o]) for o in OUTCOMES)]
            for r in tally.report()
        ]
        self._block(rows, left=2)
        pairs = tally.top_pairs()
        if pairs:
            name = self.render.name
            rows = [self._headings(PAIRS)]
            rows += [[f"{name(previous)} → {name(owner)}", str(count)] for previous, owner, count in pairs]
            self.out.write("\n")
            self._block(rows, left=1)

    def _block(self, rows: list[list[str]], left: int) -> None:
        """Rows indented, the first `left` columns aligned left and the rest (numbers) right."""
        widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = [
                ljust(c, w) if i < left else rjust(c, w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            self.out.write("  " + "  ".join(cells).rstrip() + "\n")

    def summary(self, routes: Mapping[str, int], waited: int) -> None:
        """The closing line: how the leads were routed."""
        counts = {key: routes.get(key, 0) for key in ("pool", "continuity", "substitute", "fallback", "wait")}
        self.out.write(
            "\n" + self.words["summary"].format(total=sum(routes.values()), waited=waited, **counts) + "\n"
        )

    def _member(self, m: MemberFairness) -> list[str]:
        return [
            self.render.name(m.manager),
            str(m.weight),
            str(m.received),
            self._num(m.target, 1),
            self._signed(m.deviation),
            self._num(m.max_deviation, 2),
        ]

    def _signed(self, value: float | None) -> str:
        if value is None:
            return "—"
        return self._dec(f"{value:+.1f}") if round(value, 1) else "0"  # no sign on a zero

    def _num(self, value: float | None, digits: int = 2) -> str:
        return "—" if value is None else self._dec(f"{value:.{digits}f}")

    def _dec(self, text: str) -> str:
        return text.replace(".", self.words["decimal_point"])
