"""Reading and repairing our account webhook in amoCRM (§1.5, §1.7), against the emulator."""

from __future__ import annotations

import pytest

from adapters.amocrm.admin import EVENTS
from adapters.errors import CrmError, PermanentCrmError
from tests.adapters.amocrm.test_admin import SECRET, admin

PUBLIC = "https://router.example.ru"
OURS = f"{PUBLIC}/hooks/amocrm/{SECRET}"


def test_our_installed_hook_is_healthy(db, emu):
    keeper = admin(db, emu)
    keeper.install(PUBLIC)
    status = keeper.hook_status()
    assert (status.healthy, status.found, status.disabled, status.missing) == (True, True, False, ())
    assert status.handler == OURS


def test_a_disabled_hook_is_seen_and_subscribing_again_re_enables_it(db, emu):
    keeper = admin(db, emu)
    keeper.install(PUBLIC)
    emu.account.webhooks[OURS].disabled = True  # amoCRM switched it off (§1.5)
    status = keeper.hook_status()
    assert (status.healthy, status.disabled) == (False, True)
    assert status.problem() == "the webhook is disabled"
    after = keeper.repair_hook(status, None)
    assert after.healthy and not emu.account.webhooks[OURS].disabled
    assert emu.account.webhooks[OURS].settings == EVENTS


def test_a_hook_that_lost_events_is_subscribed_to_all_of_them_again(db, emu):
    keeper = admin(db, emu)
    emu.subscribe(OURS, ["add_lead"])  # made by hand in the UI, with one event
    status = keeper.hook_status()
    assert status.missing == ("update_lead", "status_lead", "responsible_lead", "delete_lead")
    assert keeper.repair_hook(status, None).healthy


def test_a_deleted_hook_is_registered_again_at_the_public_url_install_used(db, emu):
    keeper = admin(db, emu)
    status = keeper.hook_status()
    assert (status.found, status.healthy) == (False, False)
    with pytest.raises(CrmError, match="leadrouter install"):
        keeper.repair_hook(status, None)
    assert keeper.repair_hook(status, PUBLIC + "/").healthy and OURS in emu.account.webhooks


def test_another_installations_hook_is_not_ours_and_our_healthy_one_wins(db, emu):
    keeper = admin(db, emu)
    emu.subscribe(f"{PUBLIC}/hooks/amocrm/{SECRET}-other", EVENTS)
    assert not keeper.hook_status().found
    emu.subscribe(f"https://old.example.ru/hooks/amocrm/{SECRET}", EVENTS)
    emu.account.webhooks[f"https://old.example.ru/hooks/amocrm/{SECRET}"].disabled = True
    keeper.install(PUBLIC)
    assert keeper.hook_status().healthy  # one of ours works: the old disabled one is not a problem


def test_without_admin_rights_the_hook_cannot_be_read(db, emu):
    keeper = admin(db, emu, emu.tokens.long_lived(504141))
    with pytest.raises(PermanentCrmError, match="rights"):
        keeper.hook_status()
