"""Every seed story, run by every driver of the lead lifecycle, gives the owners the seeds expect."""

from __future__ import annotations

import pytest

from tests.stories.drivers import run_in_memory
from tests.stories.seeds import STORIES

DRIVERS = {"in-memory (simulate)": run_in_memory}


@pytest.mark.parametrize("driver", DRIVERS.values(), ids=list(DRIVERS))
@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_the_story_gives_the_owners_the_seeds_expect(story, driver, tmp_path):
    owners, counts = driver(story, tmp_path)
    assert owners == story.owners
    assert {kind: counts[kind] for kind in story.counts} == story.counts
