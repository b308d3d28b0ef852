"""amoCRM API v4 response bodies as lenient pydantic models (unknown keys ignored, amocrm.md §2).

Only the fields we read are modelled. HAL envelopes (`_embedded`, `_links`) are read with
`embedded()` and `next_href()` rather than one model per collection.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

M = TypeVar("M", bound=BaseModel)


class Lenient(BaseModel):
    """Ignore what we do not read: amoCRM adds fields over time."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class FieldValue(Lenient):
    """One value of a custom field: text, number or bool, with the enum for selects."""

    value: Any = None
    enum_id: int | None = None
    enum_code: str | None = None


class CustomFieldValue(Lenient):
    """A custom field on an entity (§2.9 `custom_fields_values`)."""

    field_id: int
    field_name: str | None = None
    field_code: str | None = None
    field_type: str | None = None
    values: list[FieldValue] = []


class Ref(Lenient):
    """A link to another entity in `_embedded` (contacts carry `is_main`)."""

    id: int
    is_main: bool = False


class Named(Lenient):
    """An embedded object with a name (a tag, a lead's source, a user's group)."""

    id: int | None = None
    name: str = ""


class LeadEmbedded(Lenient):
    """What `GET /api/v4/leads/{id}?with=contacts,loss_reason` embeds (§2.2)."""

    tags: list[Named] = []
    contacts: list[Ref] = []
    companies: list[Ref] = []
    source: Named | None = None
    loss_reason: list[Named] = []  # with=loss_reason, on a lost lead: [{"id": …, "name": "…"}]

    @field_validator("loss_reason", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """One object is read as a list of one; null as none."""
        if value is None:
            return []
        return [value] if isinstance(value, dict) else value


class LeadOut(Lenient):
    """A lead as the API returns it (§2.2)."""

    id: int
    name: str | None = ""
    price: float | None = None
    responsible_user_id: int | None = None
    status_id: int | None = None
    pipeline_id: int | None = None
    loss_reason_id: int | None = None
    created_at: int = 0
    updated_at: int = 0
    custom_fields_values: list[CustomFieldValue] | None = None
    embedded: LeadEmbedded = Field(default_factory=LeadEmbedded, alias="_embedded")


class ClientEmbedded(Lenient):
    """A contact's or company's links with `with=leads` (§2.7)."""

    leads: list[Ref] = []
    companies: list[Ref] = []


class ClientOut(Lenient):
    """A contact or a company: who owns it, when it appeared, its fields and leads."""

    id: int
    name: str | None = ""
    responsible_user_id: int | None = None
    created_at: int = 0
    custom_fields_values: list[CustomFieldValue] | None = None
    embedded: ClientEmbedded = Field(default_factory=ClientEmbedded, alias="_embedded")


class StatusOut(Lenient):
    """A stage of a pipeline (142 won and 143 lost exist in every pipeline, §2.8)."""

    id: int
    name: str = ""
    type: int | None = None


class PipelineEmbedded(Lenient):
    """A pipeline's statuses."""

    statuses: list[StatusOut] = []


class PipelineOut(Lenient):
    """A pipeline with its statuses (§2.8)."""

    id: int
    name: str = ""
    embedded: PipelineEmbedded = Field(default_factory=PipelineEmbedded, alias="_embedded")


class EnumOut(Lenient):
    """One choice of a select field."""

    id: int
    value: str = ""


class FieldDef(Lenient):
    """A custom field definition (§2.9)."""

    id: int
    name: str = ""
    code: str | None = None
    type: str = "text"
    enums: list[EnumOut] | None = None


class Rights(Lenient):
    """The parts of a user's rights that say whether they can own leads (§2.4)."""

    is_active: bool = True
    is_free: bool = False
    is_admin: bool = False
    group_id: int | None = None


class UserOut(Lenient):
    """A user (§2.4)."""

    id: int
    name: str = ""
    email: str | None = ""
    rights: Rights = Field(default_factory=Rights)


class WebhookOut(Lenient):
    """A registered webhook (§1.7)."""

    id: int | None = None
    destination: str = ""
    settings: list[str] = []
    disabled: bool = False


class ItemError(Lenient):
    """One problem with one field of one item of a batch (§4)."""

    code: str = ""
    path: str = ""
    detail: str = ""


class ItemErrors(Lenient):
    """The problems of one batch item; `request_id` echoes its index unless we sent our own."""

    request_id: str | int | None = None
    errors: list[ItemError] = []


class Problem(Lenient):
    """An `application/problem+json` body (§4), with the optional extras amoCRM adds."""

    title: str = ""
    status: int | None = None
    detail: str = ""
    hint: str = ""
    retry_after: float | None = None
    validation_errors: list[ItemErrors] = Field(default_factory=list, alias="validation-errors")
    errors: dict[str, Any] | None = None


class TokenOut(Lenient):
    """The answer of `POST /oauth2/access_token` (§3)."""

    access_token: str
    refresh_token: str | None = None
    expires_in: int = 86400


class TaskOut(Lenient):
    """A task as `GET /api/v4/tasks` lists it (§2.5): what tells our own task apart."""

    id: int
    entity_id: int | None = None
    entity_type: str | None = None
    responsible_user_id: int | None = None
    text: str | None = ""
    complete_till: int | None = None


def embedded(body: dict[str, Any] | None, key: str, model: type[M]) -> list[M]:
    """The items of `_embedded.<key>` as models (none for a 204)."""
    if not body:
        return []
    items = (body.get("_embedded") or {}).get(key) or []
    return [model.model_validate(item) for item in items]


def next_href(body: dict[str, Any] | None) -> str | None:
    """The `_links.next.href` of a page, when there is a next page (§2.1)."""
    if not body:
        return None
    link = (body.get("_links") or {}).get("next") or {}
    href = link.get("href")
    return href if isinstance(href, str) and href else None
