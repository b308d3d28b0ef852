"""Bitrix24 outbound events (app `event.bind` or outgoing webhook): parse the form, verify the token.

Facts relied on are in bitrix24.md §1: a PHP-style bracket form with `event`, `event_handler_id`,
`data`, `ts`, `auth` (§1.2); the payload carries only the entity ID (§1.2); the only proof of
origin is `auth[application_token]`, there is no HMAC (§1.5); events are never resent (§1.6).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from adapters.errors import ForbiddenWebhook, MalformedWebhook
from adapters.formdata import Group, Node, is_digits, parse_brackets

Entity = Literal["lead", "deal", "contact", "company", "other"]

SUPPORTED_EVENTS = frozenset(
    {
        "ONCRMLEADADD",
        "ONCRMLEADUPDATE",
        "ONCRMLEADDELETE",
        "ONCRMDEALADD",
        "ONCRMDEALUPDATE",
        "ONCRMDEALDELETE",
        "ONCRMDEALMOVETOCATEGORY",
    }
)
MOVE_TO_CATEGORY = "ONCRMDEALMOVETOCATEGORY"
# Contacts and companies carry `data[FIELDS][ID]` too (§1.3), so they are checked like leads and deals.
_PREFIXES: tuple[tuple[str, Entity], ...] = (
    ("ONCRMLEAD", "lead"),
    ("ONCRMDEAL", "deal"),
    ("ONCRMCONTACT", "contact"),
    ("ONCRMCOMPANY", "company"),
)
_ACTIONS = ("ADD", "UPDATE", "DELETE")


@dataclass(frozen=True, slots=True)
class Bitrix24Event:
    """One outbound event; `application_token` stays out of repr so it never reaches a log."""

    event: str
    handler_id: str | None
    entity: Entity
    entity_id: str | None
    ts: int
    domain: str | None
    member_id: str | None
    application_token: str = field(repr=False)
    has_user_tokens: bool = False
    category_id: str | None = None
    stage_id: str | None = None

    @property
    def portal(self) -> str:
        """The portal's stable name: `member_id` survives a domain change (§1.2)."""
        return self.member_id or self.domain or ""

    def dedup_key(self) -> str:
        """Same for a duplicate delivery of this event, different for a later one.

        Two updates of one deal within the same second share a key; harmless, since the payload
        carries only the ID (§1.2) and the worker reads the deal's current state either way.
        """
        return f"bitrix24:{self.portal}:{self.event}:{self.entity_id or ''}:{self.ts}"


def parse_bitrix24_event(pairs: Iterable[tuple[str, str]]) -> Bitrix24Event:
    """Parse one event form; other events than the CRM ones parse as entity `other`."""
    root = Group("", parse_brackets(pairs))
    code = (root.text("event") or "").strip().upper()
    if not code:
        raise MalformedWebhook("event is missing")
    entity = _entity(code)
    if entity == "other":
        # App and other events have their own `data` shapes (§1.4): acknowledged, never refused.
        fields, entity_id = Group("data[FIELDS]", {}), _loose_id(root.node.get("data"))
    else:
        fields = root.group("data").group("FIELDS")
        entity_id = fields.required_ident("ID")
    auth = root.group("auth")
    token = auth.text("application_token")
    if not token:
        raise MalformedWebhook("auth[application_token] is missing")
    # Only a move to another funnel carries the new stage (§1.2); third-party pages that show
    # STAGE_ID on ONCRMDEALUPDATE contradict the vendor docs, so we never read it elsewhere.
    moved = code == MOVE_TO_CATEGORY
    return Bitrix24Event(
        event=code,
        # The older outgoing-webhook payload has no event_handler_id (§1.4): tolerated.
        handler_id=root.text("event_handler_id") or None,
        entity=entity,
        entity_id=entity_id,
        ts=_ts(root),
        domain=auth.text("domain") or None,
        member_id=auth.text("member_id") or None,
        application_token=token,
        # No user tokens when a robot, workflow or anonymous form made the change (§1.2).
        has_user_tokens=bool(auth.text("access_token")),
        category_id=fields.ident("CATEGORY_ID") if moved else None,
        stage_id=(fields.text("STAGE_ID") or None) if moved else None,
    )


def _entity(code: str) -> Entity:
    """The CRM entity an event code is about, `other` for anything else."""
    for prefix, entity in _PREFIXES:
        if code.startswith(prefix) and (code == MOVE_TO_CATEGORY or code[len(prefix) :] in _ACTIONS):
            return entity
    return "other"


def _loose_id(data: Node | None) -> str | None:
    """`data[FIELDS][ID]` of an event we do not handle, if it is there and numeric."""
    fields = data.get("FIELDS") if isinstance(data, dict) else None
    raw = fields.get("ID") if isinstance(fields, dict) else None
    return raw if isinstance(raw, str) and is_digits(raw) else None


def _ts(root: Group) -> int:
    """`ts`, the unix second the queue sent the event (§1.2); every example carries it."""
    ts = root.integer("ts")
    if ts is None:
        raise MalformedWebhook("ts is missing")
    return ts


def verify_bitrix24_event(
    event: Bitrix24Event, *, application_token: str, domain: str | None = None, member_id: str | None = None
) -> None:
    """Raise ForbiddenWebhook unless the token matches and the portal is the configured one (§1.5)."""
    if not application_token:
        raise ForbiddenWebhook("no application token is configured")  # fail closed, never match ""
    # Bytes: compare_digest refuses non-ASCII str, and a hostile token may well be non-ASCII.
    sent, expected = (
        t.encode("utf-8", "surrogatepass") for t in (event.application_token, application_token)
    )
    if not hmac.compare_digest(sent, expected):
        raise ForbiddenWebhook("wrong application token")
    if domain is not None and (event.domain or "").casefold() != domain.casefold():
        raise ForbiddenWebhook("foreign portal")
    if member_id is not None and event.member_id != member_id:
        raise ForbiddenWebhook("foreign portal")
