"""The benchmark's config as YAML: 50 managers, 30 rules, 9 pools of every counting strategy.

It goes through `load_config` like any user's file. Rules mix every operator (equals, in, prefix
on phone, range on price, regex, contains, custom fields by name and id, any / all / not); most do
not match most leads, so a typical lead walks well down the list before its rule fires.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import yaml

ZONES = ("Europe/Moscow", "Europe/Moscow", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk")
# pool → (strategy, size); members are taken in blocks from m01 on, the duty pool works around the clock
POOLS = {
    "moscow": ("weighted", 10), "spb": ("round_robin", 5), "regions": ("sticky", 8),
    "siberia": ("least_loaded", 5), "vip": ("weighted", 4), "state": ("round_robin", 4),
    "tenders": ("least_loaded", 4), "avito": ("round_robin", 6), "duty": ("round_robin", 4),
}  # fmt: skip
MOSCOW = {"any": [{"region": ["Москва", "Московская область"]}, {"phone": {"prefix": ["+7495", "+7499"]}}]}
RULES: list[tuple[str, dict[str, Any], str]] = [
    ("vip-tag", {"tags": "VIP"}, "vip"),
    ("big-budget", {"price": {"gte": 1_500_000}}, "vip"),
    ("state", {"field": {"Форма собственности": "Госсектор"}}, "state"),
    ("tender", {"source": "tender"}, "tenders"),
    ("tender-words", {"name": {"regex": "тендер|аукцион|котировк"}}, "tenders"),
    ("tender-platforms", {"utm_source": ["zakupki.gov.ru", "roseltorg", "rts-tender"]}, "tenders"),
    ("inn-moscow-small", {"inn": {"regex": r"^77\d{8}$"}, "price": {"lt": 20_000}}, "moscow"),
    ("avito", {"source": "avito", "price": {"lt": 500_000}}, "avito"),
    ("avito-classified", {"utm_medium": {"contains": "classified"}}, "avito"),
    ("spb-phone", {"phone": {"prefix": ["+7812", "8812"]}}, "spb"),
    ("spb-region", {"region": ["Санкт-Петербург", "Ленинградская область"]}, "spb"),
    ("moscow-vip", {"all": [MOSCOW, {"tags": "опт"}], "price": {"gte": 800_000}}, "vip"),
    (
        "msk-campaign",
        {"utm_campaign": {"regex": "^msk_"}, "not": {"pipeline": "Гарантия и сервис"}},
        "moscow",
    ),
    ("moscow", MOSCOW, "moscow"),
    ("siberia-phone", {"phone": {"prefix": ["+7383", "+7391", "+7345"]}}, "siberia"),
    ("siberia", {"region": ["Новосибирская область", "Красноярский край", "Тюменская область"]}, "siberia"),
    ("far-east", {"city": ["Владивосток", "Хабаровск", "Якутск"]}, "siberia"),
    ("private-big", {"field": {"Форма собственности": "Частное лицо"}, "price": {"gte": 1_000_000}}, "vip"),
    ("no-contacts", {"phone": {"exists": False}, "email": {"exists": False}}, "duty"),
    ("partners", {"email": {"regex": "@(partner|dealer)\\."}}, "vip"),
    ("key-client", {"field_id": {"982451": "1"}}, "vip"),
    ("service-calls", {"pipeline": "Гарантия и сервис", "source": "call"}, "duty"),
    ("yandex-regions", {"utm_source": "yandex", "utm_campaign": {"prefix": "regions"}}, "regions"),
    ("google", {"utm_source": "google"}, "regions"),
    (
        "kazan-ufa",
        {"any": [{"city": ["Казань", "Уфа"]}, {"phone": {"prefix": ["+7843", "+7347"]}}]},
        "regions",
    ),
    (
        "south",
        {"any": [{"region": "Краснодарский край"}, {"phone": {"prefix": ["+7861", "+7863"]}}]},
        "regions",
    ),
    ("volga", {"region": {"in": ["Самарская область", "Нижегородская область"]}}, "regions"),
    ("mid-budget", {"price": {"gte": 300_000, "lt": 1_500_000}}, "regions"),
    ("chains", {"tags": {"equals": "Федеральная сеть"}}, "avito"),
    ("default", {}, "regions"),
]


def manager(n: int, start: date) -> dict[str, Any]:
    """Manager n: office hours (some work Saturdays), four duty managers around the clock."""
    spec: dict[str, Any] = {"crm_user_id": 500_000 + n, "name": f"Менеджер {n:02d}", "timezone": ZONES[n % 5]}
    if n >= 47:
        spec["schedule"] = "always"
    else:
        hours = f"{9 + n % 2:02d}:00-{18 + n % 2}:00"
        spec["schedule"] = {"mon-sat" if n % 7 == 0 else "mon-fri": hours}
    if n % 5 == 0:
        spec["max_per_day"] = 60
    if n % 9 == 0:
        spec["max_open"] = 5000
    if n in (3, 12, 25):
        away = start + timedelta(days=n)
        spec["absences"] = [{"from": away, "to": away + timedelta(days=6), "substitute": f"m{n + 1:02d}"}]
    return spec


def document(start: date = date(2026, 6, 29), balance: str = "count") -> dict[str, Any]:
    """The whole config as a mapping, ready for yaml.safe_dump; `balance` for every weighted and
    round_robin pool (count, value by the budget, or tiers of budget)."""
    pools: dict[str, Any] = {}
    n = 1
    for name, (strategy, size) in POOLS.items():
        members = [f"m{i:02d}" for i in range(n, n + size)]
        n += size
        pools[name] = {"strategy": strategy, "members": members}
        if strategy == "weighted":
            pools[name]["weights"] = {m: 2 for m in members[::2]}
        if strategy == "sticky":
            pools[name]["sticky"] = {"key": "region"}
        if strategy in ("weighted", "round_robin") and balance != "count":
            pools[name]["balance"] = balance
            if balance == "value":
                pools[name]["value"] = "price"
            else:
                big, mid = {"price": {"gte": 500_000}}, {"price": {"gte": 100_000}}
                pools[name]["tiers"] = [
                    {"name": "big", "when": big},
                    {"name": "mid", "when": mid},
                    {"name": "small"},
                ]
    managers = {f"m{i:02d}": manager(i, start) for i in range(1, 51)}
    managers["head"] = {"crm_user_id": 500_000, "name": "Руководитель отдела", "schedule": "always"}
    return {
        "language": "ru", "timezone": "Europe/Moscow", "head_of_sales": "head",
        "crm": {"type": "amocrm", "base_url": "https://bench.example.amocrm.ru"},
        "managers": managers, "pools": pools,
        "rules": [{"name": name, "when": when, "pool": pool} if when else {"name": name, "pool": pool}
                  for name, when, pool in RULES],
        "continuity": {"enabled": True, "within_days": 180},
        "nobody_available": {"wait_for_shift": True, "max_wait_hours": 16, "then": "duty"},
    }  # fmt: skip


def yaml_text(balance: str = "count") -> str:
    """The config file's text."""
    return yaml.safe_dump(document(balance=balance), allow_unicode=True, sort_keys=False)
