"""Every seed story, run by every driver of the lead lifecycle, gives the owners the seeds expect."""

from __future__ import annotations

import pytest

from tests.stories.drivers import run_in_memory, run_on_worker
from tests.stories.seeds import STORIES

DRIVERS = {"in-memory (simulate)": run_in_memory, "worker on the fake CRM": run_on_worker}


@pytest.mark.parametrize("driver", DRIVERS.values(), ids=list(DRIVERS))
@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_the_story_gives_the_owners_the_seeds_expect(story, driver, tmp_path):
    owners, counts = driver(story, tmp_path)
    assert owners == story.owners
    assert {kind: counts[kind] for kind in story.counts} == story.counts


@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_the_drivers_agree_on_every_story(story, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert run_in_memory(story, tmp_path / "a")[0] == run_on_worker(story, tmp_path / "b")[0]
