"""The human form of `simulate --from-history --compare`: aligned tables in the config's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from webhook_app.cli.common import print_rows

TEXT: Mapping[str, Mapping[str, str]] = {
    "ru": {
        "title": "Что если: {leads} лидов с {since} по {until}, сменили бы ответственного: {changed}",
        "waiting": "Не были бы распределены: {waiting}",
        "purged": "Личные данные уже удалены у {purged} лидов: правила по имени, телефону, почте не "
        "сработают",
        "changes": "Смена ответственного (первые {shown} из {changed})",
        "rules": "Срабатывания правил",
        "fair": "Распределение по пулам: было → стало",
        "lead": "Лид",
        "time": "Время",
        "actual": "Было",
        "would": "Стало бы",
        "rule": "Правило",
        "reason": "Причина",
        "pool": "Пул",
        "manager": "Менеджер",
        "target": "Цель",
        "nobody": "(ждёт)",
    },
    "en": {
        "title": "What-if: {leads} leads from {since} to {until}, owner would change for {changed}",
        "waiting": "Would not have been assigned: {waiting}",
        "purged": "Personal data already purged for {purged} leads: rules on name, phone or e-mail "
        "cannot match them",
        "changes": "Owner changes (first {shown} of {changed})",
        "rules": "Rule hits",
        "fair": "Split per pool: actual → what-if",
        "lead": "Lead",
        "time": "Time",
        "actual": "Actual",
        "would": "Would be",
        "rule": "Rule",
        "reason": "Reason",
        "pool": "Pool",
        "manager": "Manager",
        "target": "Target",
        "nobody": "(waiting)",
    },
}


def print_comparison(
    data: Mapping[str, Any], out: IO[str], language: str, *, show_leads: bool = True
) -> None:
    """The summary line, the changed leads, rule hits both ways and the split both ways."""
    t = TEXT.get(language, TEXT["en"])
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
                t["actual"]: c["actual_name"],
                t["would"]: c["would_name"] or t["nobody"],
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
    out.write("\n" + t["fair"] + "\n")
    print_rows(
        _split_rows(data, t), [t["pool"], t["manager"], t["actual"], t["would"], t["target"]], "table", out
    )


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
