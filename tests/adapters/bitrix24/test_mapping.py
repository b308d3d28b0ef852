"""A Bitrix24 record as a core Lead (bitrix24.md §2.2–2.3), pure: won and lost, region and INN."""

from __future__ import annotations

import pytest

from adapters.bitrix24.catalog import FieldMeta, Stage
from adapters.bitrix24.mapping import to_lead

WON = Stage("WON", "Сделка успешна", "0", "Общая", "S")
LOSE = Stage("C1:LOSE", "Сделка провалена", "1", "Повторные продажи", "F")
WORK = Stage("PREPARATION", "Подготовка", "0", "Общая", None)


@pytest.mark.parametrize(
    ("entity", "raw", "stage", "closed"),
    [
        ("deal", {"ID": "1", "STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "S"}, WON, "won"),
        ("deal", {"ID": "2", "STAGE_ID": "C1:LOSE", "STAGE_SEMANTIC_ID": "F"}, LOSE, "lost"),
        ("deal", {"ID": "3", "STAGE_ID": "PREPARATION", "STAGE_SEMANTIC_ID": "P"}, WORK, None),
        # The record's own semantic id wins over the status list (a stage re-marked since we cached it).
        ("deal", {"ID": "4", "STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "P"}, WON, None),
        # Without it (a portal that leaves it out), the stage's SEMANTICS from crm.status.list decide.
        ("deal", {"ID": "5", "STAGE_ID": "WON"}, WON, "won"),
        ("deal", {"ID": "6", "STAGE_ID": "C1:LOSE", "STAGE_SEMANTIC_ID": ""}, LOSE, "lost"),
        ("deal", {"ID": "7", "STAGE_ID": "UNKNOWN"}, None, None),
        ("lead", {"ID": "8", "STATUS_ID": "CONVERTED", "STATUS_SEMANTIC_ID": "S"}, None, "won"),
        ("lead", {"ID": "9", "STATUS_ID": "JUNK", "STATUS_SEMANTIC_ID": "F"}, None, "lost"),
        # A lead's semantics are STATUS_SEMANTIC_ID; a stray STAGE_SEMANTIC_ID means nothing on it.
        ("lead", {"ID": "10", "STATUS_ID": "NEW", "STAGE_SEMANTIC_ID": "S"}, None, None),
    ],
)
def test_closed_follows_the_stage_semantics(entity, raw, stage, closed):
    lead = to_lead(entity, {"OPPORTUNITY": "1500.00", **raw}, stage=stage, fields={})
    assert lead.closed == closed and lead.price == 1500.0


REGION = FieldMeta("UF_CRM_REGION", "Регион", "enumeration", items={"45": "Самарская область"})
INN = FieldMeta("UF_CRM_INN", "ИНН")


def test_a_deal_without_an_address_takes_its_region_and_inn_from_the_fields_named_so():
    raw = {"ID": "11", "STAGE_ID": "NEW", "UF_CRM_REGION": "45", "UF_CRM_INN": "7707083893"}
    lead = to_lead("deal", raw, stage=WORK, fields={"UF_CRM_REGION": REGION, "UF_CRM_INN": INN})
    assert (lead.region, lead.inn) == ("Самарская область", "7707083893")


def test_a_leads_own_address_region_wins_over_a_field_named_region():
    raw = {"ID": "12", "STATUS_ID": "NEW", "ADDRESS_REGION": "Краснодарский край", "UF_CRM_REGION": "45"}
    assert to_lead("lead", raw, stage=None, fields={"UF_CRM_REGION": REGION}).region == "Краснодарский край"


REASON = FieldMeta("UF_CRM_1712345678", "Причина отказа", "enumeration", items={"61": "Спам", "62": "Дорого"})


@pytest.mark.parametrize(
    ("raw", "stage", "reason"),
    [
        ({"ID": "21", "STAGE_ID": "C1:LOSE", "UF_CRM_1712345678": "61"}, LOSE, "Спам"),
        ({"ID": "22", "STAGE_ID": "C1:LOSE", "UF_CRM_1712345678": "62"}, LOSE, "Дорого"),
        ({"ID": "23", "STAGE_ID": "C1:LOSE", "UF_CRM_1712345678": ""}, LOSE, None),
        # Filled in while the deal was still open (or left from before it was reopened): no loss yet.
        ({"ID": "24", "STAGE_ID": "PREPARATION", "UF_CRM_1712345678": "61"}, WORK, None),
    ],
)
def test_a_lost_deal_takes_its_loss_reason_from_the_field_named_so(raw, stage, reason):
    lead = to_lead("deal", raw, stage=stage, fields={REASON.id: REASON})
    assert lead.loss_reason == reason


@pytest.mark.parametrize("label", ["Причина отказа", "причина проигрыша", "Причина провала", "Loss reason"])
def test_the_loss_reason_field_is_known_by_the_labels_portals_give_it(label):
    meta = FieldMeta("UF_CRM_7", label)
    raw = {"ID": "25", "STATUS_ID": "JUNK", "STATUS_SEMANTIC_ID": "F", "UF_CRM_7": "Дубль"}
    assert to_lead("lead", raw, stage=None, fields={"UF_CRM_7": meta}).loss_reason == "Дубль"


def test_a_failure_stage_named_for_its_reason_is_a_stage_not_a_loss_reason():
    spam = Stage("C1:UC_SPAM", "Спам", "1", "Повторные продажи", "F")
    lead = to_lead("deal", {"ID": "26", "STAGE_ID": "C1:UC_SPAM"}, stage=spam, fields={})
    assert (lead.closed, lead.stage, lead.loss_reason) == ("lost", "Спам", None)  # junk: {stage: Спам}
