"""Four processes needing a refresh at the same moment: one refresh at amoCRM, all carry on (§6)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.storage.engine import make_engine
from adapters.storage.migrate import upgrade_database
from sandbox.amocrm import ADMIN

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.wall_clock_across_processes  # all four start at one time.time() this process picks
def test_four_processes_refreshing_at_once_make_exactly_one_refresh_call(db_url, emu):
    engine = make_engine(db_url)
    upgrade_database(engine)
    engine.dispose()
    lead = emu.create_lead(name="Гонка")
    emu.faults.latency = 0.2  # a slow token endpoint widens the race window
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "AMO_CLIENT_ID": emu.tokens.client_id,
        "AMO_CLIENT_SECRET": emu.tokens.client_secret,
        "AMO_REFRESH_TOKEN": emu.tokens.refresh_token(ADMIN),
        "AMO_REDIRECT_URI": emu.tokens.redirect_uri,
    }
    start = time.time() + 2.0  # after every interpreter has started and imported
    command = [
        sys.executable,
        "-m",
        "tests.adapters.amocrm.refresh_proc",
        db_url,
        emu.url,
        str(lead.id),
        str(start),
    ]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, [err[-2000:] for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["Гонка"] * 4
    assert emu.tokens.refresh_calls == 1
    assert len(emu.requests("POST", "/oauth2/access_token")) == 1
