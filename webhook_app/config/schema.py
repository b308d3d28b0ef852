"""The config file's shape as pydantic models: types, ranges and unknown keys. Meaning is checked later.

Shorthands (`on_stage: "Won"`, `task: false`, `schedule: always`, `on_return: catch_up`) are
expanded by before-validators into one canonical form, so error paths never carry union branches.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from webhook_app.config import shorthands

PositiveInt = Annotated[int, Field(ge=1)]
PositiveNumber = Annotated[float, Field(gt=0)]
ConditionSpec = dict[Any, Any]


class Strict(BaseModel):
    """Base: unknown keys are errors, so a typo is named instead of silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Schedule = Annotated[dict[str, str], BeforeValidator(shorthands.schedule)]
TextList = Annotated[list[str], BeforeValidator(shorthands.text_list)]


class StageModel(Strict):
    """A stage, optionally within a pipeline."""

    stage: str = Field(min_length=1)
    pipeline: str | None = None


Stage = Annotated[StageModel, BeforeValidator(shorthands.stage)]


class CrmModel(Strict):
    """Which CRM we talk to and how hard we may push it."""

    type: Literal["amocrm", "bitrix24"]
    base_url: str
    account_id: int | None = None
    subdomain: str | None = None
    domain: str | None = None
    member_id: str | None = None
    entity: Literal["lead", "deal"] = "lead"
    rate_limit_per_second: PositiveNumber | None = None
    burst: PositiveInt | None = None
    batch_size: PositiveInt | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise shorthands.refuse("not_http_url", value=value)
        return value.rstrip("/")


class AbsenceModel(Strict):
    """A vacation or sick leave with inclusive dates."""

    from_: date = Field(alias="from")
    to: date
    substitute: str | None = None
    reason: Literal["vacation", "sick", "other"] = "vacation"


class ManagerModel(Strict):
    """One person, named once."""

    crm_user_id: PositiveInt
    name: str = ""
    weight: PositiveNumber = 1.0
    max_per_day: PositiveInt | None = None
    max_open: PositiveInt | None = None
    schedule: Schedule | None = None
    timezone: str | None = None
    holidays: list[date] = []
    absences: list[AbsenceModel] = []
    role: str | None = None
    active: bool = True


class NobodyModel(Strict):
    """What to do when nobody in a pool can take a lead."""

    wait_for_shift: bool = True
    max_wait_hours: PositiveNumber | None = None
    then: str | None = None


class StickyModel(Strict):
    """How a sticky pool partitions clients."""

    key: str = "company"
    values: dict[str, TextList] = {}
    ranges: dict[str, TextList] = {}


class ReturnModel(Strict):
    """`return_after_absence`: hand leads back to an owner back from an absence, or only untouched ones."""

    enabled: bool = True
    only_untouched: bool = False


class PointsModel(Strict):
    """`value: {tiers: …}`: leads matching `when` are worth `points`."""

    when: ConditionSpec
    points: Annotated[float, Field(ge=0)]


class ValueModel(Strict):
    """What a lead is worth: its budget (`price`, the default), a number field, or points by condition."""

    field: str | None = Field(None, min_length=1)
    tiers: list[PointsModel] | None = None
    default: Annotated[float, Field(ge=0)] = 0.0


class TierModel(Strict):
    """`balance: tiers`: one tier of leads with its own rotation; the last may have no `when`."""

    name: str = Field(min_length=1)
    when: ConditionSpec | None = None


class JunkModel(Strict):
    """`junk:` a lead marked as junk soon after it came stops counting toward its manager's share."""

    stage: Stage | None = None
    loss_reason: str | None = Field(None, min_length=1)
    within_hours: PositiveNumber = 24
    max_per_week: Annotated[int, Field(ge=0)] = 3


class TeamSourceModel(Strict):
    """`{crm_group: NAME}` (an amoCRM user group) or `{department: NAME}` (a Bitrix24 department)."""

    crm_group: str | None = Field(None, min_length=1)
    department: str | None = Field(None, min_length=1)
    at: int | None = None  # its index in `members` (None: `members` is this mapping alone)

    @model_validator(mode="after")
    def _one(self) -> TeamSourceModel:
        if (self.crm_group is None) == (self.department is None):
            raise shorthands.refuse("team_source")
        return self

    @property
    def name(self) -> str:
        """The group's or department's name."""
        return self.crm_group or self.department or ""


class PoolModel(Strict):
    """A group of managers sharing leads by one strategy."""

    members: list[str] = []
    crm_team: TeamSourceModel | None = None  # taken out of `members` (see `_split_members`)
    strategy: str = "round_robin"
    weights: dict[str, PositiveNumber] = {}
    on_return: Annotated[int | None, BeforeValidator(shorthands.on_return)] = 0
    sticky: StickyModel | None = None
    head: str | None = None
    claim_user: str | None = None
    suggest: PositiveInt | None = None
    nobody_available: NobodyModel | None = None
    return_after_absence: Annotated[ReturnModel, BeforeValidator(shorthands.return_after_absence)] = (
        ReturnModel(enabled=False)
    )
    balance: Literal["count", "value", "tiers"] = "count"
    value: Annotated[ValueModel, BeforeValidator(shorthands.lead_value)] | None = None
    tiers: list[TierModel] = []
    junk: JunkModel | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_members(cls, data: Any) -> Any:
        """`members: {crm_group: X}` or `[key, …, {crm_group: X}]`: the CRM team goes to `crm_team`."""
        return shorthands.split_members(data)


class RuleModel(Strict):
    """A named condition routing matching leads to a pool."""

    name: str = Field(min_length=1)
    when: ConditionSpec | None = None
    pool: str


class ContinuityModel(Strict):
    """Repeat clients go back to their manager."""

    enabled: bool = True
    within_days: PositiveInt | None = None
    unless: ConditionSpec | None = None
    sync_client_owner: bool = True


class HandoffModel(Strict):
    """A handover between roles, triggered by a stage, elapsed days, or an SLA."""

    name: str = Field(min_length=1)
    to: str
    on_stage: Stage | None = None
    after_days: PositiveInt | None = None
    in_stage: Stage | None = None
    unworked_minutes: PositiveInt | None = None
    max_hops: PositiveInt | None = None
    then: str | None = None
    keep_hunter_in_field: str | None = None
    unless: ConditionSpec | None = None
    never_move: list[str] = []
    from_: Annotated[list[str], BeforeValidator(shorthands.members_list)] | None = Field(None, alias="from")
    reassign: Literal["outside_pool", "always"] = "outside_pool"


class TaskModel(Strict):
    """The CRM task created for the new responsible."""

    text: str = Field(min_length=1)
    due_minutes: Annotated[int, Field(ge=0)] = 15


class OnAssignModel(Strict):
    """What we write into the CRM besides the responsible user."""

    task: Annotated[TaskModel | None, BeforeValidator(shorthands.task)] = None
    note: bool = True


class RetentionModel(Strict):
    """How long what-if snapshots and personal data are kept (days)."""

    decision_inputs_days: PositiveInt = 365
    personal_data_days: PositiveInt = 90


class OverridesModel(Strict):
    """What a responsible change made by a person in the CRM does to the split."""

    count_toward_share: bool = False


class LoadModel(Strict):
    """What "open leads" means for `least_loaded` and `max_open`: leads we handed out (`received`),
    or what is open in the CRM now (`crm`: open deals, plus overdue tasks at `overdue_tasks` each)."""

    from_: Literal["received", "crm"] = Field("received", alias="from")
    overdue_tasks: Annotated[float, Field(ge=0)] = 0.0
    refresh_minutes: PositiveInt = 5


class HooksModel(Strict):
    """The hook check: how often our webhook in the CRM is read (and re-enabled when it is off)."""

    check_every_seconds: Annotated[int, Field(ge=10, le=3600)] = 60


class ConfigModel(Strict):
    """The whole config file."""

    language: Literal["ru", "en"] = "ru"
    timezone: str = "Europe/Moscow"
    head_of_sales: str | None = None
    holidays: list[date] = []
    working_hours: Schedule | None = None
    crm: CrmModel
    managers: Annotated[dict[str, ManagerModel], Field(min_length=1)]
    pools: Annotated[dict[str, PoolModel], Field(min_length=1)]
    rules: Annotated[list[RuleModel], Field(min_length=1)]
    continuity: ContinuityModel | None = None
    nobody_available: NobodyModel = NobodyModel()
    handoffs: list[HandoffModel] = []
    on_assign: OnAssignModel = OnAssignModel()
    overrides: OverridesModel = OverridesModel()
    retention: RetentionModel = RetentionModel()
    load: Annotated[LoadModel, BeforeValidator(shorthands.load)] = LoadModel()
    hooks: HooksModel = HooksModel()
