"""Junk credit by loss reason, end to end on amoCRM and on Bitrix24: the real `leadrouter serve`
against a CRM emulator, the deal closed as lost in the CRM by the manager the pool gave it to.

amoCRM asks why when a lead is dropped on lost (143) and keeps the answer as the lead's own loss
reason (`with=loss_reason`); a Bitrix24 portal has no such thing and keeps it in a list field
«Причина отказа» the admin added, filled in when the deal goes to its failure stage. Either way a
deal lost as «Спам» within a day of our assignment leaves the manager's share of the pool (count and
value, so the rotation gives them the next lead), with a `junk_credit` audit row; a deal lost for
another reason is just lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from sandbox.data import LOSS_REASONS
from tests.e2e.stack import CrmDriver, Service, emulated, run, service, wait_for
from tests.e2e.test_handoffs_e2e import STAFF

REASON_FIELD = "UF_CRM_1712345678"  # the portal's «Причина отказа», a list field
REASON_ITEMS = {str(61 + n): name for n, name in enumerate(LOSS_REASONS)}
JUNK = """
pools:
  callers:
    members: [ivanova, smirnova]
    strategy: round_robin
    value: price
    junk: {loss_reason: Спам, within_hours: 24, max_per_week: 3}
rules:
  - {name: new-leads, pool: callers}
"""


@pytest.fixture(params=["amocrm", "bitrix24"])
def crm(request) -> Iterator[CrmDriver]:
    with emulated(request.param) as driver:
        if driver.name == "bitrix24":  # the admin's field for why a deal was lost
            driver.emu.add_field("deal", REASON_FIELD, "Причина отказа", REASON_ITEMS)
        yield driver


def junk_config(crm: CrmDriver) -> str:
    return STAFF % {"crm": crm.crm_line(), "ivanova": "", "petrov": "", "others": ""} + JUNK


def new_deal(crm: CrmDriver, price: int) -> int:
    """A deal from a web form, with its budget."""
    if crm.name == "amocrm":
        return int(crm.emu.create_lead(name="Заявка с сайта", price=price).id)
    return int(crm.emu.create("deal", {"TITLE": "Заявка с сайта", "OPPORTUNITY": str(price)}))


def lose(crm: CrmDriver, deal: int, reason: str) -> None:
    """The deal's owner closes it as lost and says why, as each CRM asks on closing."""
    if crm.name == "amocrm":
        crm.emu.person_moves(deal, 143, by=crm.owner(deal), loss_reason=reason)
        return
    item = next(key for key, name in REASON_ITEMS.items() if name == reason)
    crm.emu.update("deal", deal, {"STAGE_ID": "LOSE", REASON_FIELD: item})


def callers(svc: Service) -> dict[str, dict[str, object]]:
    """The `callers` pool's rows of `leadrouter report`, by manager."""
    done = run(svc.env, svc.cwd, "report", "--format", "json", "--since", "1d")
    assert done.returncode == 0, done.stderr
    return {row["manager"]: row for row in json.loads(done.stdout)["pools"] if row["pool"] == "callers"}


def test_a_deal_lost_as_spam_leaves_its_managers_share_and_one_lost_as_too_dear_does_not(crm, tmp_path):
    callers_ids = (504141, 504145)
    with service(crm, junk_config(crm), tmp_path) as svc:
        spam = new_deal(crm, 100_000)
        wait_for(lambda: crm.owner(spam) in callers_ids, what="a caller to get the first lead")
        other = new_deal(crm, 70_000)
        wait_for(lambda: crm.owner(other) in callers_ids, what="the other caller to get the second lead")
        svc.settle()
        first, second = crm.owner(spam), crm.owner(other)
        assert first != second
        lose(crm, spam, "Спам")
        wait_for(lambda: "junk_credit" in svc.audit(spam).kinds(), what="the junk credit")
        svc.settle()
        credit = next(e for e in svc.audit(spam) if e["kind"] == "junk_credit")
        assert credit["detail"]["why"] == "Спам" and credit["detail"]["value"] == 100_000

        dear = new_deal(crm, 40_000)  # the credited caller is a lead behind: the replacement is theirs
        wait_for(lambda: crm.owner(dear) in callers_ids, what="a caller to get the third lead")
        assert crm.owner(dear) == first
        svc.settle()
        lose(crm, dear, "Дорого")
        wait_for(lambda: "lost" in svc.audit(dear).kinds(), what="the third deal lost")
        svc.settle()
        kinds = svc.audit(dear).kinds()
        assert "junk_credit" not in kinds and "junk_refused" not in kinds
        assert svc.audit(spam).kinds().count("junk_credit") == 1
        rows = callers(svc)
    credited, kept = rows[credit["manager"]], next(r for k, r in rows.items() if k != credit["manager"])
    assert (credited["received"], credited["value"], credited["credits"]) == (1, 40_000, 1)
    assert (kept["received"], kept["value"], kept["credits"]) == (1, 70_000, 0)
