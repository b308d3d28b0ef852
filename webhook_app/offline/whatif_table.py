"""The human form of `simulate --from-history --compare`: aligned tables in the config's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from core.texts import texts
from webhook_app.cli.common import print_rows


def print_comparison(
    data: Mapping[str, Any], out: IO[str], language: str, *, show_leads: bool = True
) -> None:
    """The summary line, the changed leads, rule and handoff hits both ways and the split both ways."""
    t = texts(language, "whatif")
    out.write(t["title"].format(**{**data, "since": data["since"][:16], "until": data["until"][:16]}) + "\n")
    if data["waiting"]:
        out.write(t["waiting"].format(**data) + "\n")
    if data["purged"]:
        out.write(t["purged"].format(**data) + "\n")
    if show_leads and data["changes"]:
        out.write("\n" + t["changes"].format(shown=len(data["changes"]), changed=data["changed"]) + "\n")
        rows = [
            {
                t["lead"]: c["lead_id"],
                t["time"]: c["decided_at"][:16],
                t["actual"]: _path(c.get("actual_owners"), c["actual_name"]),
                t["would"]: _path(c.get("would_owners"), c["would_name"] or t["nobody"]),
                t["rule"]: _pair(c["actual_rule"], c["would_rule"]),
                t["reason"]: c["reason"],
            }
            for c in data["changes"]
        ]
        print_rows(
            rows, [t["lead"], t["time"], t["actual"], t["would"], t["rule"], t["reason"]], "table", out
        )
    out.write("\n" + t["rules"] + "\n")
    rule_rows = [
        {t["rule"]: r["rule"], t["actual"]: r["actual"], t["would"]: r["would"]} for r in data["rules"]
    ]
    print_rows(rule_rows, [t["rule"], t["actual"], t["would"]], "table", out)
    handoffs = data.get("handoffs") or []
    if handoffs:
        words = texts(language, "simulate")
        actual, would = (sum(h[side] for h in handoffs) for side in ("actual", "would"))
        out.write("\n" + words["handoffs"].format(handovers=_pair(str(actual), str(would))) + "\n")
        name = words["handoff_name"]
        rows = [{name: h["handoff"], t["actual"]: h["actual"], t["would"]: h["would"]} for h in handoffs]
        print_rows(rows, [name, t["actual"], t["would"]], "table", out)
    out.write("\n" + t["fair"] + "\n")
    print_rows(
        _split_rows(data, t), [t["pool"], t["manager"], t["actual"], t["would"], t["target"]], "table", out
    )


def _path(owners: list[str] | None, name: str) -> str:
    """The last owner's name, after the keys of those who had the lead before (handoffs)."""
    before = (owners or [])[:-1]
    return " → ".join([*before, name])


def _pair(before: str, after: str) -> str:
    return before if before == after else f"{before} → {after}"


def _split_rows(data: Mapping[str, Any], t: Mapping[str, str]) -> list[dict[str, Any]]:
    """One row per pool member in either table: received really and in the replay, the new target."""
    actual = {(p["pool"], m["manager"]): m for p in data["actual_fairness"] for m in p["members"]}
    rows = []
    seen: set[tuple[str, str]] = set()
    for pool in data["would_fairness"]:
        for m in pool["members"]:
            key = (pool["pool"], m["manager"])
            seen.add(key)
            before = actual.get(key)
            rows.append(
                {
                    t["pool"]: pool["pool"],
                    t["manager"]: m["name"],
                    t["actual"]: before["received"] if before else 0,
                    t["would"]: m["received"],
                    t["target"]: "" if m["target"] is None else f"{m['target']:.1f}",
                }
            )
    for (pool_name, _), m in actual.items():
        if (pool_name, m["manager"]) not in seen and m["received"]:
            rows.append(
                {t["pool"]: pool_name, t["manager"]: m["name"], t["actual"]: m["received"], t["would"]: 0}
            )
    return rows
