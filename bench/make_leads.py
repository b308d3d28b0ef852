"""Seeded generator of realistic past leads of the seed company, written as a `simulate` CSV.

`examples/leads.csv` is made by running this with no arguments; the benchmark uses it for big files:

    .venv/bin/python bench/make_leads.py                          # examples/leads.csv, 300 leads
    .venv/bin/python bench/make_leads.py --count 1000000 --days 365 --out /tmp/leads.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

COLUMNS = (
    "id", "created_at", "name", "price", "pipeline", "source", "utm_source", "utm_medium",
    "utm_campaign", "tags", "city", "region", "phone", "email", "company", "inn",
    "field:Форма собственности", "field_id:982451",
)  # fmt: skip
# (city, region, landline code)
CITIES = (
    ("Москва", "Москва", "495"), ("Москва", "Москва", "499"), ("Санкт-Петербург", "Санкт-Петербург", "812"),
    ("Новосибирск", "Новосибирская область", "383"), ("Екатеринбург", "Свердловская область", "343"),
    ("Казань", "Республика Татарстан", "843"), ("Нижний Новгород", "Нижегородская область", "831"),
    ("Краснодар", "Краснодарский край", "861"), ("Ростов-на-Дону", "Ростовская область", "863"),
    ("Самара", "Самарская область", "846"), ("Воронеж", "Воронежская область", "473"),
    ("Пермь", "Пермский край", "342"), ("Уфа", "Республика Башкортостан", "347"),
    ("Красноярск", "Красноярский край", "391"), ("Тюмень", "Тюменская область", "345"),
    ("Владивосток", "Приморский край", "423"), ("Подольск", "Московская область", "496"),
)  # fmt: skip
CITY_WEIGHTS = (22, 8, 12, 5, 6, 5, 4, 5, 4, 3, 3, 3, 3, 2, 2, 2, 6)
WORDS = (
    "Ромашка", "Вектор", "СтройМонтаж", "ТехноСервис", "Альфа", "Меридиан", "Северный ветер",
    "Гранит", "Промснаб", "ЭнергоРесурс", "Горизонт", "Сибирь-Логистик", "Волга-Транс", "Уралмет",
    "Медтехника", "АгроПром", "Кедр", "Лидер", "Спектр", "Феникс", "Атлант", "Прогресс", "Берёзка",
)  # fmt: skip
STATE = (
    "ГБУ «Жилищник»", "МУП «Водоканал»", "ФГУП «Почта России» филиал", "Администрация городского округа",
    "ГБОУ Школа № 15", "ГБУЗ «Городская поликлиника № 3»", "ФГБУ «Центр стандартизации»",
)  # fmt: skip
PEOPLE = (
    "Иванов Сергей", "Петрова Анна", "Сидоров Алексей", "Кузнецова Мария", "Смирнов Дмитрий",
    "Попова Елена", "Васильев Игорь", "Соколова Ольга", "Михайлов Андрей", "Новикова Татьяна",
    "Фёдоров Павел", "Морозова Ирина", "Волков Николай", "Алексеева Светлана", "Лебедев Артём",
)  # fmt: skip
# (source, utm_source, utm_medium, lead title, weight)
CHANNELS = (
    ("site", "yandex", "cpc", "Заявка с сайта", 34), ("site", "google", "cpc", "Заявка с сайта", 10),
    ("site", "", "organic", "Форма обратной связи", 8), ("avito", "avito", "classified", "Авито: ", 18),
    ("tender", "zakupki.gov.ru", "", "Тендер № ", 5), ("tender", "roseltorg", "", "Аукцион № ", 3),
    ("call", "", "", "Входящий звонок", 22),
)  # fmt: skip
CHAINS = ("ООО «Ситилинк»", "ООО «ДНС Ритейл»", "ООО «М.Видео Менеджмент»", "АО «Тандер»", "ООО «Лента»")
PRODUCTS = ("поставка оборудования", "монтаж", "сервисный договор", "расходные материалы", "проект под ключ")
FORMS = {"company": "Компания", "state": "Госсектор", "person": "Частное лицо"}


class Clients:
    """Makes new clients and hands back earlier ones, so some leads are repeat clients."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.known: list[dict[str, str]] = []

    def pick(self) -> dict[str, str]:
        """A repeat client about one time in six, otherwise a new one."""
        if self.known and self.rng.random() < 0.16:
            return self.rng.choice(self.known[-5000:])
        client = self._new()
        self.known.append(client)
        return client

    def _new(self) -> dict[str, str]:
        rng = self.rng
        city, region, code = rng.choices(CITIES, CITY_WEIGHTS)[0]
        kind = rng.choices(("company", "state", "person"), (70, 10, 20))[0]
        mobile = kind == "person" or rng.random() < 0.5
        prefix = rng.choice(("916", "926", "903", "985", "912", "950", "999")) if mobile else code
        phone = f"+7 {prefix} {rng.randrange(100, 1000)}-{rng.randrange(10, 100)}-{rng.randrange(10, 100)}"
        company, inn = "", ""
        if kind == "company":
            form = rng.choices(("ООО", "АО", "ИП"), (75, 10, 15))[0]
            name = rng.choice(PEOPLE).split()[0] + " " + rng.choice("АСДИМ") + "." if form == "ИП" else ""
            company = f"{form} {name or '«' + rng.choice(WORDS) + '»'}"
            inn = "".join(rng.choice("0123456789") for _ in range(12 if form == "ИП" else 10))
        elif kind == "state":
            company = rng.choice(STATE)
            inn = "77" + "".join(rng.choice("0123456789") for _ in range(8))
        chain = kind == "company" and rng.random() < 0.04
        company = rng.choice(CHAINS) if chain else company
        email = f"info{rng.randrange(1, 10**6)}@example.ru" if rng.random() < 0.4 else ""
        if rng.random() < 0.08:  # a call or a form without an address: only the phone tells where
            city = region = ""
        return {"city": city, "region": region, "phone": phone, "email": email, "company": company,
                "inn": inn, "form": FORMS[kind], "chain": "1" if chain else ""}  # fmt: skip


def moments(rng: random.Random, start: date, days: int, count: int) -> list[datetime]:
    """Creation times, mostly weekday office hours, some at night and at weekends, sorted."""
    result = []
    for _ in range(count):
        day = start + timedelta(days=rng.randrange(days))
        while day.weekday() >= 5 and rng.random() < 0.8:
            day = start + timedelta(days=rng.randrange(days))
        hour = rng.randrange(0, 24) if rng.random() < 0.07 else min(int(rng.gauss(13, 2.6)), 23)
        result.append(datetime.combine(day, time(max(hour, 0), rng.randrange(60), rng.randrange(60))))
    return sorted(result)


def leads(seed: int, count: int, start: date, days: int) -> Iterator[dict[str, str]]:
    """Lead rows (column → text) in time order."""
    rng = random.Random(seed)
    clients = Clients(rng)
    for number, moment in enumerate(moments(rng, start, days, count), start=1):
        client = clients.pick()
        source, utm_source, medium, title, _ = rng.choices(CHANNELS, [c[4] for c in CHANNELS])[0]
        price = round(10_000 * 300 ** (rng.random() ** 1.6), -3)  # 10 000 … 3 000 000, mostly small
        vip = (price >= 1_500_000 and rng.random() < 0.5) or rng.random() < 0.03
        tags = ["VIP"] if vip else []
        tags += ["опт"] if rng.random() < 0.1 else []
        tags += ["Федеральная сеть"] if client["chain"] else []
        service = rng.random() < 0.05  # warranty requests live in their own pipeline
        title += f"{rng.randrange(10**7, 10**8)}" if source == "tender" else ""
        title += f"{rng.choice(PRODUCTS)}" if source == "avito" else ""
        yield {
            "id": str(100_000 + number), "created_at": moment.isoformat(timespec="seconds"),
            "name": f"{title} — {rng.choice(PRODUCTS)}" if source in ("site", "call") else title,
            "price": f"{price:.0f}", "pipeline": "Гарантия и сервис" if service else "Продажи",
            "source": source, "utm_source": utm_source,
            "utm_medium": medium, "utm_campaign": f"{city_slug(client['city'])}_{medium}" if medium else "",
            "tags": ";".join(tags), "city": client["city"], "region": client["region"],
            "phone": client["phone"], "email": client["email"], "company": client["company"],
            "inn": client["inn"], "field:Форма собственности": client["form"],
            "field_id:982451": "1" if rng.random() < 0.03 else "",
        }  # fmt: skip


def city_slug(city: str) -> str:
    """A campaign name part for a city."""
    return {"Москва": "msk", "Санкт-Петербург": "spb"}.get(city, "regions")


def write(path: Path, rows: Iterator[dict[str, str]], *, jsonl: bool = False) -> None:
    """Write rows as CSV (or JSON lines with tags as a list and custom fields as an object)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        if jsonl:
            for row in rows:
                record: dict[str, object] = {k: v for k, v in row.items() if v and not k.startswith("field:")}
                record["price"] = int(row["price"])
                record["tags"] = [t for t in row["tags"].split(";") if t]
                record["fields"] = {"Форма собственности": row["field:Форма собственности"]}
                record.pop("field_id:982451", None)
                if row["field_id:982451"]:
                    record["field_ids"] = {"982451": row["field_id:982451"]}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    """Command line: how many leads, over how many days, where."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--days", type=int, default=14)
    # two weeks that include Volkova's vacation in config.example.yaml (from 2026-07-06)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 6, 29))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "examples" / "leads.csv")
    args = parser.parse_args()
    jsonl = args.out.suffix in (".jsonl", ".ndjson")
    write(args.out, leads(args.seed, args.count, args.start, args.days), jsonl=jsonl)


if __name__ == "__main__":
    main()
