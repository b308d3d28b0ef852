"""The seeds' stories live, on amoCRM and on Bitrix24: the same stories `tests/stories/` runs in
memory, through `simulate` and on the worker with a fake CRM, here played on a CRM emulator by its
people (a form creates the deal, a salesperson drags it to a stage), with the real `leadrouter web`
taking the emulator's real webhooks and the product's worker writing back through the real CRM
client over HTTP. The owners each deal has in the CRM, over days, must be the ones the seeds expect.

Time: the worker runs in this process on a clock the test moves from one due timer to the next
(`leadrouter web` stamps what it receives with the real time, so the story is moved to a week
ahead of today, whole weeks so that every weekday and shift stays as written); the emulator's own
clock is kept with the worker's, so the CRM's timestamps agree with ours.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.storage.audit import read_audit
from adapters.storage.engine import make_engine, reading
from adapters.storage.tables import jobs
from core.kinds import JobKind
from sandbox.amocrm.state import LOST, WON, User
from tests.e2e.stack import AmoDriver, Bitrix24Driver, CrmDriver, emulated, service, wait_for
from tests.e2e.test_handoffs_e2e import MovableClock, sla_worker
from tests.stories.seeds import MSK, STORIES, Arrive, Move, Story, Until

# The stories of seed situations the issue names: the untouched callback, the salesperson who
# qualifies their own lead, the role chain followed by a repeat order, the vacation, the VIP.
LIVE = STORIES[:5]
FORM_USER = 504150  # who a web form leaves as the responsible: nobody the stories' config knows
# The lifecycle's own timers, stepped through one by one (the reconciler's tick is not one).
TIMERS = (JobKind.LEAD, JobKind.EVENT, JobKind.STAGE, JobKind.AFTER_DAYS, JobKind.SLA, JobKind.RETURN)
DATE = re.compile(r"\b(20\d\d-\d\d-\d\d)\b")


@pytest.fixture(params=["amocrm", "bitrix24"])
def crm(request) -> Iterator[CrmDriver]:
    with emulated(request.param) as driver:
        yield driver


@pytest.mark.wall_clock_across_processes  # the worker's clock runs ahead of the web process's real one
@pytest.mark.parametrize("story", LIVE, ids=[s.name for s in LIVE])
def test_the_story_lives_on_the_crm_as_the_seeds_expect(story, crm, tmp_path):
    owners, counts = Live(crm, story, tmp_path).play()
    assert owners == story.owners
    assert {kind: counts[kind] for kind in story.counts} == story.counts
    assert counts["override"] == 0 and counts["dead_letter"] == 0


class Live:
    """One story played on one emulated CRM."""

    def __init__(self, crm: CrmDriver, story: Story, tmp_path: Path) -> None:
        self.crm, self.story, self.tmp_path = crm, story, tmp_path
        self.shift = weeks_ahead(story.timeline[0].at)
        self.deals: dict[str, int] = {}
        self.clients: dict[str, int] = {}
        self.owners: dict[str, list[str]] = {}
        self.users = {int(uid): key for key, uid in re.findall(r"(\w+): \{crm_user_id: (\d+)", story.config)}
        staff(crm, self.users)

    def config(self) -> str:
        """The story's config on this CRM, its dates moved with the story."""
        text = re.sub(r"^crm: .*$", f"crm: {self.crm.crm_line()}", self.story.config, flags=re.MULTILINE)
        text = DATE.sub(lambda m: str(datetime.fromisoformat(m[1]).date() + self.shift), text)
        if self.crm.name == "bitrix24":  # no tags on a Bitrix24 deal: a list field «Сегмент» says VIP
            text = text.replace("{tags: VIP}", "{field: {Сегмент: VIP}}")
        return text

    def play(self) -> tuple[dict[str, list[str]], Counter[str]]:
        """Run the timeline; each deal's owners in order, and the audit's kinds counted."""
        clock = MovableClock(self.story.timeline[0].at + self.shift - timedelta(minutes=1))
        self.keep_crm_clock(clock)
        with service(self.crm, self.config(), self.tmp_path, command="web") as svc:
            worker = sla_worker(svc, clock)
            database = make_engine(f"sqlite:///{self.tmp_path / 'leadrouter.db'}")

            def settle() -> None:
                svc.settle(pump=worker.run_once)
                self.look()

            for step in self.story.timeline:
                moment = step.at + self.shift
                while (due := next_timer(database)) is not None and due <= moment:
                    self.move_clock(clock, max(due, clock()))
                    settle()
                self.move_clock(clock, max(moment, clock()))
                if isinstance(step, Arrive):
                    self.arrive(step)
                    wait_for(lambda s=step: self.decided(s.lead), what="the decision", pump=worker.run_once)
                elif isinstance(step, Move):
                    self.move(step)
                elif not isinstance(step, Until):
                    raise AssertionError(f"a live story cannot play {step!r}")
                settle()
            counts = Counter(row.kind for row in read_audit(database, limit=100_000))
        return self.owners, counts

    # -- the CRM's people -------------------------------------------------------------------------
    def arrive(self, step: Arrive) -> None:
        """A web form creates the deal with the story's fields (and its client's contact)."""
        fields = dict(step.fields)
        client = self.client(str(fields.pop("client_key"))) if "client_key" in fields else None
        self.deals[step.lead] = (
            amo_deal(self.crm, fields, client)
            if isinstance(self.crm, AmoDriver)
            else b24_deal(self.crm, fields, client)
        )

    def move(self, step: Move) -> None:
        """The deal's owner drags it to the stage (won and lost: the CRM's closing stages)."""
        deal = self.deals[step.lead]
        if isinstance(self.crm, AmoDriver):
            status = {"won": WON, "lost": LOST}.get(step.closed or "", 0) or self.crm.stage_ids[step.stage]
            self.crm.emu.person_moves(deal, status, by=self.crm.owner(deal))
        else:
            stage = {"won": "WON", "lost": "LOSE"}.get(step.closed or "") or self.crm.stage_ids[step.stage]
            self.crm.emu.update("deal", deal, {"STAGE_ID": stage})

    def client(self, key: str) -> int:
        """The client's contact, created once: a client the CRM has known for a year."""
        if key not in self.clients:
            phone = f"+7 916 {len(self.clients) + 100:03d}-11-22"
            if isinstance(self.crm, AmoDriver):
                contact = self.crm.emu.add_party(
                    "contacts", f"Клиент {key}", responsible=FORM_USER, phone=phone
                )
                self.clients[key] = contact.id
            else:
                assert isinstance(self.crm, Bitrix24Driver)
                fields = {
                    "NAME": f"Клиент {key}",
                    "PHONE": [{"VALUE": phone}],
                    "ASSIGNED_BY_ID": str(FORM_USER),
                }
                number = self.crm.emu.create("contact", fields)
                self.crm.emu.portal.records["contact"][number]["DATE_CREATE"] = "2025-03-01T10:00:00+03:00"
                self.clients[key] = number
        return self.clients[key]

    # -- what we read back --------------------------------------------------------------------------
    def decided(self, lead: str) -> bool:
        """The deal has an owner from the config (a form left it to someone the config lacks)."""
        return self.crm.owner(self.deals[lead]) in self.users

    def look(self) -> None:
        """Note each deal's owner in the CRM now, by the config's key, when it changed."""
        for lead, deal in self.deals.items():
            key = self.users.get(self.crm.owner(deal))
            history = self.owners.setdefault(lead, [])
            if key is not None and (not history or history[-1] != key):
                history.append(key)

    # -- one clock ------------------------------------------------------------------------------------
    def move_clock(self, clock: MovableClock, moment: datetime) -> None:
        clock.set(moment)
        self.keep_crm_clock(clock)

    def keep_crm_clock(self, clock: MovableClock) -> None:
        """The emulator's clock (real time plus an offset) at the worker's."""
        offset = (clock() - datetime.now(MSK)).total_seconds()
        if isinstance(self.crm, AmoDriver):
            self.crm.emu.account.clock.offset = offset
        else:
            assert isinstance(self.crm, Bitrix24Driver)
            self.crm.emu.portal.clock.offset = offset


def weeks_ahead(start: datetime) -> timedelta:
    """Whole weeks that move `start` to a week or more after today."""
    behind = datetime.now(MSK) - start
    return timedelta(weeks=max(0, behind.days // 7 + 2))


def next_timer(engine) -> datetime | None:
    """When the next of the lifecycle's pending jobs is due."""
    with reading(engine) as connection:
        return connection.execute(
            select(func.min(jobs.c.run_at)).where(jobs.c.state == "pending", jobs.c.kind.in_(TIMERS))
        ).scalar()


def staff(crm: CrmDriver, users: dict[int, str]) -> None:
    """The stories' people, a form user, the «Переговоры» stage and the fields the stories use."""
    if isinstance(crm, AmoDriver):
        account = crm.emu.account
        with account.lock:
            for uid, key in users.items():
                account.users.setdefault(uid, User(uid, key.title(), f"{key}@example.ru"))
            account.add_field("leads", "Регион")
        return
    assert isinstance(crm, Bitrix24Driver)
    emu = crm.emu
    for uid, key in {**users, FORM_USER: "form"}.items():
        if uid not in emu.portal.users:
            emu.add_user(uid, key.title())
    crm.stage_ids["Переговоры"] = emu.add_deal_stage("UC_TALKS", "Переговоры", sort=16)
    emu.add_field("deal", "UF_CRM_REGION", "Регион")
    emu.add_field("deal", "UF_CRM_SEGMENT", "Сегмент")
    with emu.portal.lock:  # the admin named the general funnel as the company calls it
        next(c for c in emu.portal.categories if c["id"] == 0)["name"] = "Продажи"


def amo_deal(crm: AmoDriver, fields: dict[str, object], contact: int | None) -> int:
    """A lead as amoCRM's form makes it: utm_source, a «Регион» field, tags, its contact."""
    account = crm.emu.account
    custom: dict[int, list[dict[str, object]]] = {}
    for name, code, value in (
        ("Регион", None, fields.get("region")),
        (None, "UTM_SOURCE", fields.get("source")),
    ):
        definition = (
            account.field_by_code("leads", code) if code else account.field_by_name("leads", str(name))
        )
        if value is not None and definition is not None:
            custom[definition.id] = [{"value": value}]
    lead = crm.emu.create_lead(
        name="Заявка с сайта",
        responsible_user_id=FORM_USER,
        fields=custom,
        tags=list(fields.get("tags") or ()),  # type: ignore[call-overload]
        contacts=[contact] if contact else [],
    )
    return int(lead.id)


def b24_deal(crm: Bitrix24Driver, fields: dict[str, object], contact: int | None) -> int:
    """A deal as Bitrix24's form makes it: SOURCE_ID, the «Регион» and «Сегмент» fields, its contact."""
    record: dict[str, object] = {"TITLE": "Заявка с сайта", "ASSIGNED_BY_ID": str(FORM_USER)}
    if fields.get("source"):
        record["SOURCE_ID"] = str(fields["source"]).upper()
    if fields.get("region"):
        record["UF_CRM_REGION"] = fields["region"]
    if "VIP" in (fields.get("tags") or ()):  # type: ignore[operator]
        record["UF_CRM_SEGMENT"] = "VIP"
    if contact:
        record["CONTACT_ID"] = str(contact)
    return crm.emu.create("deal", record)
