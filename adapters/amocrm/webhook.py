"""amoCRM account webhooks about leads: the decoded form in, typed lead events out (pure, no I/O).

Facts relied on are in amocrm.md §1: the body is a PHP-style bracket form of the old API v2
shape (§1.1), one POST may carry several leads and several actions (§1.2), every value is a
string (§1.1), and there is no signature, so the account is the only thing we can check (§1.6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from adapters.errors import ForbiddenWebhook, MalformedWebhook
from adapters.formdata import Group, Node, is_digits, parse_brackets

ACTIONS = ("add", "update", "status", "responsible", "delete", "restore", "note")


@dataclass(frozen=True, slots=True)
class AmoCustomField:
    """One custom field of a lead as the webhook carries it (values and enum ids as strings)."""

    id: str
    name: str | None
    code: str | None
    values: tuple[str, ...]
    enum_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AmoLeadEvent:
    """One change of one lead; ids are digit strings, timestamps unix seconds."""

    action: str
    lead_id: str
    name: str | None = None
    status_id: str | None = None
    old_status_id: str | None = None
    pipeline_id: str | None = None
    old_pipeline_id: str | None = None
    price: float | None = None
    responsible_user_id: str | None = None
    old_responsible_user_id: str | None = None
    modified_user_id: str | None = None
    created_user_id: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    tags: tuple[str, ...] = ()
    custom_fields: tuple[AmoCustomField, ...] = ()
    account_id: str | None = None
    note_id: str | None = None

    @property
    def by_robot(self) -> bool:
        """True when a robot, a web form or the API acting as robot made the change (§1.3: user 0)."""
        return self.modified_user_id == "0"

    def dedup_key(self, account: str) -> str:
        """Same for a redelivery of this event, different for any other change of the lead."""
        parts = (self.action, self.lead_id, self.updated_at, self.status_id, self.responsible_user_id)
        key = ":".join("" if p is None else str(p) for p in parts)
        return f"amocrm:{account}:{key}" + (f":{self.note_id}" if self.note_id else "")


@dataclass(frozen=True, slots=True)
class AmoWebhook:
    """One webhook POST: the sending account and its lead events in wire order."""

    account_id: str | None
    subdomain: str | None
    events: tuple[AmoLeadEvent, ...]

    @property
    def account(self) -> str:
        """The account's stable name for dedup keys: its id, else (older payloads) its subdomain."""
        return self.account_id or self.subdomain or ""


def parse_amocrm_webhook(
    pairs: Iterable[tuple[str, str]], *, account_id: str | None = None, subdomain: str | None = None
) -> AmoWebhook:
    """Parse a webhook form; refuse a foreign account when `account_id` / `subdomain` are configured."""
    root = Group("", parse_brackets(pairs))
    if not root.has("account"):
        raise MalformedWebhook("account is missing")
    account = root.group("account")
    sent_id, sent_sub = account.ident("id"), account.text("subdomain") or None
    if sent_id is None and sent_sub is None:
        raise MalformedWebhook("account has neither id nor subdomain")
    # Contacts, tasks, unsorted … may share the POST with leads (§1.2): they are not ours to read.
    leads = root.group("leads")
    events = tuple(
        _event(action, key, item, sent_id)
        for action in leads.node
        if action in ACTIONS  # an action amoCRM adds later is acknowledged, not refused
        for key, item in leads.items(action)
    )
    webhook = AmoWebhook(sent_id, sent_sub, events)
    _check_account(webhook, account_id, subdomain)
    return webhook


def _check_account(webhook: AmoWebhook, account_id: str | None, subdomain: str | None) -> None:
    """The account is all we can check: amoCRM signs nothing (§1.6); old payloads lack account[id]."""
    sent_ids = {webhook.account_id} | {e.account_id for e in webhook.events}
    sent_ids.discard(None)
    if account_id is not None and sent_ids:
        # The id is stable while a subdomain can be renamed (§3), so a matching id is enough.
        if sent_ids != {account_id}:
            raise ForbiddenWebhook("foreign account")
    elif subdomain is not None:
        if (webhook.subdomain or "").casefold() != subdomain.casefold():
            raise ForbiddenWebhook("foreign account")
    elif account_id is not None:
        raise ForbiddenWebhook("foreign account")  # no id in the payload and no subdomain to go by


def _event(action: str, key: str, item: Node, account_id: str | None) -> AmoLeadEvent:
    """One lead event from its bracket group (or from the bare id a delete may carry)."""
    if isinstance(item, str):
        # `leads[delete][N]=id` is the doc's "id" shape for deletions (§1.1, exact keys [U] in §1.2).
        if not is_digits(item):
            raise MalformedWebhook(f"{key} is not a number")
        return AmoLeadEvent(action, item, account_id=account_id)
    lead = Group(key, item)
    if action == "note":
        return _note_event(lead, account_id)
    return AmoLeadEvent(
        action=action,
        lead_id=lead.required_ident("id"),
        name=lead.text("name"),
        status_id=lead.ident("status_id"),
        old_status_id=lead.ident("old_status_id"),
        pipeline_id=lead.ident("pipeline_id"),
        old_pipeline_id=lead.ident("old_pipeline_id"),
        price=lead.number("price"),
        responsible_user_id=lead.ident("responsible_user_id"),
        old_responsible_user_id=lead.ident("old_responsible_user_id"),
        modified_user_id=lead.ident("modified_user_id"),
        created_user_id=lead.ident("created_user_id"),
        created_at=_timestamp(lead, "created_at", "date_create"),
        updated_at=_timestamp(lead, "updated_at", "last_modified"),
        tags=_tags(lead),
        custom_fields=tuple(_custom_field(k, v) for k, v in lead.items("custom_fields")),
        account_id=lead.ident("account_id") or account_id,
    )


def _note_event(item: Group, account_id: str | None) -> AmoLeadEvent:
    """Notes nest once more, `leads[note][N][note][element_id]` being the lead (§1.2, 2020 capture)."""
    note = item.group("note")
    return AmoLeadEvent(
        action="note",
        lead_id=note.required_ident("element_id"),
        note_id=note.ident("id"),
        modified_user_id=note.ident("created_by"),
        created_at=_timestamp(note, "created_at", "date_create"),
        updated_at=_timestamp(note, "updated_at", "last_modified"),
        account_id=note.ident("account_id") or account_id,
    )


def _timestamp(lead: Group, new: str, old: str) -> int | None:
    """Newer payloads add created_at/updated_at beside the v2 date_create/last_modified (§1.3)."""
    value = lead.integer(new)
    return value if value is not None else lead.integer(old)


def _tags(lead: Group) -> tuple[str, ...]:
    """Tag names from `tags[i][name]`; a bare `tags[i]=name` is taken as the name."""
    names = []
    for key, tag in lead.items("tags"):
        name = tag if isinstance(tag, str) else Group(key, tag).text("name")
        if name:
            names.append(name)
    return tuple(names)


def _custom_field(key: str, node: Node) -> AmoCustomField:
    """`custom_fields[i][id|name|code|values]`, values as `[j][value]`/`[j][enum]` or bare (§1.3)."""
    if isinstance(node, str):
        raise MalformedWebhook(f"{key} is not a group")
    field = Group(key, node)
    field_id = field.required_ident("id")
    values: list[str] = []
    enum_ids: list[str] = []
    for value_key, value in field.items("values"):
        if isinstance(value, str):
            values.append(value)  # the 2018 quirk `custom_fields[2][values][0]=1542067200` (§1.3)
            continue
        entry = Group(value_key, value)
        # Composite fields (legal entity, address) may nest the value further [U]: skip, do not refuse.
        text = entry.node.get("value")
        if isinstance(text, str):
            values.append(text)
        enum_id = entry.ident("enum")
        if enum_id is not None:
            enum_ids.append(enum_id)
    return AmoCustomField(field_id, field.text("name"), field.text("code"), tuple(values), tuple(enum_ids))
