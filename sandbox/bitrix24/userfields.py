"""crm.lead.userfield.list / crm.deal.userfield.list: the portal's custom (UF_CRM_) fields as the
settings page defines them, the same fields `crm.<entity>.fields` shows with their labels.

A field's labels come back only for a language asked with `filter[LANG]`, as the portal answers;
list fields carry their items in `LIST`. Filters are equalities on the definition's keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.bitrix24.crm import Ctx, Listed
from sandbox.bitrix24.portal import Portal

LABELS = ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL")
FIRST_ID = {"lead": 100, "deal": 300}  # the portal numbers all its user fields in one sequence


def userfield_methods(portal: Portal) -> dict[str, Callable[[dict[str, Any], Ctx], Any]]:
    """crm.lead.userfield.list and crm.deal.userfield.list."""

    def lister(entity: str) -> Callable[[dict[str, Any], Ctx], Any]:
        return lambda params, ctx: userfield_list(portal, entity, params)

    return {f"crm.{entity}.userfield.list": lister(entity) for entity in ("lead", "deal")}


def userfield_list(portal: Portal, entity: str, params: dict[str, Any]) -> Listed:
    """Every custom field of `entity` that matches the filter, in the order they were added."""
    wanted = {str(k).upper(): str(v) for k, v in (params.get("filter") or {}).items()}
    language = wanted.pop("LANG", None)
    found = []
    for number, (name, meta) in enumerate(portal.fields.get(entity, {}).items()):
        item = _definition(entity, FIRST_ID.get(entity, 500) + number, name, meta, language)
        if all(str(item.get(key)) == value for key, value in wanted.items()):
            found.append(item)
    return Listed(found, len(found), None)


def _definition(
    entity: str, number: int, name: str, meta: dict[str, Any], language: str | None
) -> dict[str, Any]:
    kind = str(meta.get("type") or "string")
    item: dict[str, Any] = {
        "ID": str(number),
        "ENTITY_ID": f"CRM_{entity.upper()}",
        "FIELD_NAME": name,
        "USER_TYPE_ID": kind,
        "XML_ID": None,
        "SORT": "100",
        "MULTIPLE": "Y" if meta.get("isMultiple") else "N",
        "MANDATORY": "Y" if meta.get("isRequired") else "N",
        "SHOW_FILTER": "E",
        "SHOW_IN_LIST": "Y",
        "EDIT_IN_LIST": "Y",
        "IS_SEARCHABLE": "N",
        "SETTINGS": {},
    }
    if kind == "enumeration":
        item["LIST"] = [
            {"ID": str(i["ID"]), "SORT": str((n + 1) * 10), "VALUE": i["VALUE"], "DEF": "N", "XML_ID": None}
            for n, i in enumerate(meta.get("items") or [])
        ]
    if language is not None:
        label = str(meta.get("formLabel") or meta.get("listLabel") or name)
        item |= dict.fromkeys(LABELS, label) | {"ERROR_MESSAGE": "", "HELP_MESSAGE": ""}
    return item
