"""Event bindings, as the hook check sees them: the emulated portal drops them as an admin or an app
update would (bitrix24.md §1.1), `event.get` lists what is left, and the admin client re-binds."""

from __future__ import annotations

import pytest

from adapters.errors import CrmError
from tests.adapters.bitrix24.test_admin import PUBLIC, SECRET, admin_for

DEAL_EVENTS = ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE", "ONCRMDEALMOVETOCATEGORY"]
HANDLER = f"{PUBLIC}/hooks/bitrix24/{SECRET}"


def bound(emulator) -> set[tuple[str, str]]:
    return {(h.event, h.url) for h in emulator.portal.handlers}


def test_removed_bindings_are_gone_from_event_get_and_get_no_events(engine, emulator, receiver):
    admin = admin_for(engine, emulator, app=True, entity="deal")
    admin.install(PUBLIC)
    emulator.add_outgoing_webhook(receiver.url, ["ONCRMDEALUPDATE"], token="t")  # someone else's
    assert emulator.remove_bindings(["ONCRMDEALUPDATE", "ONCRMDEALADD"]) == 2
    listed = admin.client.transport.call("event.get")["result"]
    assert {(i["event"], i["handler"]) for i in listed} == {
        ("ONCRMDEALDELETE", HANDLER),
        ("ONCRMDEALMOVETOCATEGORY", HANDLER),
    }
    assert ("ONCRMDEALUPDATE", receiver.url) in bound(emulator)  # an outgoing webhook is not the app's
    emulator.create("deal", {"TITLE": "x"})
    assert emulator.events.wait_idle()
    assert all(d.event != "ONCRMDEALADD" for d in emulator.events.deliveries)


def test_an_app_update_removes_every_binding_of_the_app(engine, emulator):
    admin_for(engine, emulator, app=True).install(PUBLIC)
    assert emulator.remove_bindings() == 3 and emulator.portal.handlers == []


def test_the_keeper_sees_every_binding_healthy_then_the_missing_ones_and_binds_them_again(engine, emulator):
    admin = admin_for(engine, emulator, app=True, entity="deal")
    admin.install(PUBLIC)
    assert admin.hook_status().healthy
    emulator.remove_bindings(["ONCRMDEALUPDATE"])
    status = admin.hook_status()
    assert (status.healthy, status.found, status.missing) == (False, True, ("ONCRMDEALUPDATE",))
    assert status.handler == HANDLER and "ONCRMDEALUPDATE" in status.problem()
    after = admin.repair_hook(status, None)  # the handler still bound says where
    assert after.healthy and bound(emulator) == {(e, HANDLER) for e in DEAL_EVENTS}


def test_with_every_binding_gone_the_keeper_binds_at_the_url_install_used(engine, emulator):
    admin = admin_for(engine, emulator, app=True, entity="deal")
    admin.install(PUBLIC)
    emulator.remove_bindings()
    status = admin.hook_status()
    assert (status.found, status.missing) == (False, tuple(DEAL_EVENTS))
    with pytest.raises(CrmError, match="leadrouter install"):
        admin.repair_hook(status, None)
    assert admin.repair_hook(status, PUBLIC).healthy
    assert bound(emulator) == {(e, HANDLER) for e in DEAL_EVENTS}


def test_bindings_to_another_handler_url_are_not_ours(engine, emulator):
    admin = admin_for(engine, emulator, app=True)
    admin.install("https://other.example.com")
    admin.secret = "another-secret"  # another installation's secret: none of these is ours
    assert not admin.hook_status().found


def test_an_incoming_webhook_cannot_read_bindings_and_says_so(engine, emulator):
    status = admin_for(engine, emulator, app=False).hook_status()
    assert (status.checkable, status.healthy) == (False, True)
    assert "event.get needs an app" in status.note
    assert not emulator.requests("event.get")
