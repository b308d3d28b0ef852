"""Every seed story, run by every driver of the lead lifecycle, gives the owners the seeds expect."""

from __future__ import annotations

import pytest

from tests.stories.drivers import SIMULATE_SHOWS, run_in_memory, run_on_worker, run_simulate_cli
from tests.stories.seeds import STORIES

DRIVERS = {
    "in-memory (simulate)": run_in_memory,
    "simulate (lead file)": run_simulate_cli,
    "worker on the fake CRM": run_on_worker,
}
# The audit kinds a driver can see; `simulate` prints no won / lost or stale lines.
SHOWS = {run_simulate_cli: SIMULATE_SHOWS}


@pytest.mark.parametrize("driver", DRIVERS.values(), ids=list(DRIVERS))
@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_the_story_gives_the_owners_the_seeds_expect(story, driver, tmp_path):
    owners, counts = driver(story, tmp_path)
    assert owners == story.owners
    expected = {kind: n for kind, n in story.counts.items() if kind in SHOWS.get(driver, story.counts)}
    assert {kind: counts[kind] for kind in expected} == expected


@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_the_worker_and_the_in_memory_run_give_identical_owner_histories(story, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert run_in_memory(story, tmp_path / "a")[0] == run_on_worker(story, tmp_path / "b")[0]
