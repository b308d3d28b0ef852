"""/healthz proves the database takes a write: a read-only database answers reads but is not healthy."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from adapters.storage.engine import make_engine
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock
from tests.web.conftest import CONFIG, CRM_EXTRA, SECRET
from webhook_app.bootstrap import Services, build_services
from webhook_app.settings import Settings
from webhook_app.web.app import create_app


def services_on(db_url: str, tmp_path: Path) -> Services:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG % {"crm": "amocrm", "crm_extra": CRM_EXTRA["amocrm"]}, encoding="utf-8")
    settings = Settings(config=config, database_url=db_url, webhook_secret=SECRET)  # type: ignore[arg-type]
    return build_services(settings, crm=FakeCrm(), clock=Clock())


def read_only_engine(services: Services, db_url: str):
    """The same database, as a process that can read it but not write it."""
    if services.engine.dialect.name == "sqlite":
        engine = make_engine(db_url)
        # As a read-only file would (root ignores file modes): every write is refused by SQLite itself.
        event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA query_only = ON"))
        return engine
    role = f"lr_ro_{uuid.uuid4().hex[:10]}"
    with services.engine.begin() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar()
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}"))
    return make_engine(make_url(db_url).set(username=role).render_as_string(hide_password=False))


def drop_role(services: Services, engine) -> None:
    if engine.dialect.name == "postgresql":
        role = engine.url.username
        engine.dispose()
        with services.engine.begin() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))


def test_healthz_reports_a_database_that_cannot_write(db_url, tmp_path):
    services = services_on(db_url, tmp_path)
    client = create_app(services=services).test_client()
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.get_json()["database"] == "ok"

    owner, services.engine = services.engine, read_only_engine(services, db_url)
    services.clock.advance(seconds=10)  # past the time a good probe is trusted
    try:
        answer = client.get("/healthz")
    finally:
        reader, services.engine = services.engine, owner
        drop_role(services, reader)
    body = answer.get_json()
    assert answer.status_code == 503
    assert body["status"] == "error" and body["database"] == "cannot write"
    expected = "sqlite3.OperationalError" if "sqlite" in db_url else "psycopg.errors.InsufficientPrivilege"
    assert body["error"] == expected
    assert "postgres" not in answer.get_data(as_text=True) and str(tmp_path) not in answer.get_data(
        as_text=True
    )
