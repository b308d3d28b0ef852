"""A property: any stream of events — new leads, stage moves, people's changes, closes, late events,
time passing with its timers and absences — gives the same owners through the worker and in memory."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.stories.drivers import run_in_memory, run_on_worker
from tests.stories.seeds import VACATION, Arrive, LateEvent, Move, Reassign, Story, Until, at, team

REGIONS = ["Самарская область", "Мурманская область", "Краснодарский край", None]
STAGES = [("Переговоры", "Продажи"), ("Квалифицирован", "Продажи"), ("Договор подписан", "Продажи")]
CLOSES = [("Успешно реализовано", "Сети", "won"), ("Закрыто и не реализовано", "Продажи", "lost")]
PEOPLE = ["volkova", "smirnov", "popov", "orlova", "zaitseva", "head"]


@st.composite
def lead_fields(draw: st.DrawFn) -> dict[str, object]:
    fields: dict[str, object] = {}
    region = draw(st.sampled_from(REGIONS))
    if region:
        fields["region"] = region
    source = draw(st.sampled_from([None, "avito", "call"]))
    if source:
        fields["source"] = source
    client = draw(st.sampled_from([None, "c-1", "c-2"]))
    if client:
        fields["client_key"] = client
    if draw(st.booleans()) and draw(st.booleans()):
        fields["tags"] = ("VIP",)
    return fields


@st.composite
def streams(draw: st.DrawFn) -> Story:
    moment, leads, steps = at(7, 9, 30), [], []  # type: ignore[var-annotated]
    arrived = {}  # lead → when it came: a late event tells of a moment before our first write
    for n in range(draw(st.integers(min_value=3, max_value=12))):
        moment += timedelta(minutes=draw(st.sampled_from([1, 7, 16, 45, 240, 1440])))
        kind = draw(
            st.sampled_from(["arrive", "arrive", "move", "move", "close", "reassign", "late", "until"])
        )
        if kind == "arrive" or not leads:
            leads.append(f"L{n}")
            arrived[leads[-1]] = moment
            steps.append(Arrive(moment, leads[-1], draw(lead_fields())))
        elif kind == "move":
            stage, pipeline = draw(st.sampled_from(STAGES))
            steps.append(Move(moment, draw(st.sampled_from(leads)), stage, pipeline))
        elif kind == "close":
            stage, pipeline, closed = draw(st.sampled_from(CLOSES))
            steps.append(Move(moment, draw(st.sampled_from(leads)), stage, pipeline, closed))
        elif kind == "reassign":
            steps.append(Reassign(moment, draw(st.sampled_from(leads)), draw(st.sampled_from(PEOPLE))))
        elif kind == "late":
            lead = draw(st.sampled_from(leads))
            late = arrived[lead] - timedelta(minutes=draw(st.sampled_from([1, 30])))
            steps.append(LateEvent(moment, lead, draw(st.sampled_from(PEOPLE)), late))
        else:
            steps.append(Until(moment))
    steps.append(Until(moment + timedelta(days=draw(st.sampled_from([0, 1, 8])))))
    config = team(VACATION if draw(st.booleans()) else "")
    return Story("random stream", "property", config, tuple(steps), {})


# Bounded: each example runs the real worker on a fresh database; no shrinking (it would take minutes).
@settings(
    max_examples=150,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(story=streams())
def test_any_stream_of_events_gives_the_same_owners_through_the_worker_and_in_memory(story, tmp_path_factory):
    base = tmp_path_factory.mktemp("stream")
    (base / "a").mkdir()
    (base / "b").mkdir()
    assert run_on_worker(story, base / "a")[0] == run_in_memory(story, base / "b")[0]
