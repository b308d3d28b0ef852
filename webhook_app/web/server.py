"""Running the app under gunicorn (`serve`, `web`) and the worker loop (`serve`, `worker`).

gunicorn's master manages the processes (SIGHUP reloads the config, SIGTERM stops gracefully); each
worker process serves through the asyncio front of `front` (uvicorn, whole requests to Flask).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger

from core.texts import texts
from webhook_app.web.app import MAX_BODY_BYTES
from webhook_app.web.front import AsgiApp, FrontWorker, asgi_front
from webhook_app.web.redact import redact_path

log = logging.getLogger("leadrouter")
ON_SHUTDOWN = "leadrouter.on_shutdown"  # an app's extension: what to run when its process stops


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with the webhook secret masked in every access-log atom."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """The usual atoms, with hook URLs redacted."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {k: redact_path(v) if isinstance(v, str) else v for k, v in atoms.items()}


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn run in-process; the app is built in each worker process, after the fork."""

    def __init__(
        self,
        factory: Callable[[], Flask],
        options: dict[str, Any],
        on_hup: Callable[[], object] | None = None,
        words: Mapping[str, str] | None = None,
    ) -> None:
        self.factory = factory
        self.options = options
        self.on_hup = on_hup
        self.words = words or texts(None, "cli")  # what the master logs, in the config's language
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's config."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> AsgiApp:
        """Build the app behind the asyncio front (called by gunicorn in the worker process)."""
        threads = int(self.options.get("threads", 8))
        app = self.factory()
        on_shutdown = app.extensions.get(ON_SHUTDOWN)
        return asgi_front(app, threads=threads, max_body=MAX_BODY_BYTES, on_shutdown=on_shutdown)

    def run(self) -> None:
        """Run the master; SIGHUP reloads our config, not gunicorn's workers."""
        try:
            _ConfigReloadingArbiter(self).run()
        except RuntimeError as exc:
            log.error(self.words["gunicorn_failed"].format(error=exc))
            raise SystemExit(1) from None


class _ConfigReloadingArbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's master, where SIGHUP validates and publishes the YAML instead of restarting workers.

    gunicorn's own HUP restarts every worker, and a worker that cannot load a broken file never
    boots — the service would stop. Publishing the new version lets every process switch to it in
    place (they poll the newest version), and a broken file is refused while the old one runs on.
    """

    def handle_hup(self) -> None:
        """Reload the YAML for every process (see the class docstring)."""
        hook = getattr(self.app, "on_hup", None)
        if hook is None:
            super().handle_hup()
            return
        try:
            hook()
        except Exception as exc:  # a refused config is logged by the hook; the master must live on
            words = getattr(self.app, "words", None) or texts(None, "cli")
            log.error(words["hup_refused"].format(error=type(exc).__name__))


def gunicorn_options(host: str, port: int, workers: int, threads: int, **extra: Any) -> dict[str, Any]:
    """Options for our use of gunicorn: the asyncio front's workers (`threads` run the Flask app),
    redacted access log."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": FrontWorker,
        "logger_class": RedactingLogger,
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 30,
        "keepalive": 5,  # idle connections cost a coroutine now; uvicorn's own default
        "graceful_timeout": 10,
        **extra,
    }


def run_worker_until_signalled(
    run: Callable[[threading.Event], None],
    on_hup: Callable[[], object] | None = None,
    words: Mapping[str, str] | None = None,
) -> None:
    """Run a worker loop in this thread until SIGTERM or SIGINT; SIGHUP calls `on_hup`. What it logs
    is in `words` (the `cli` catalog of the config's language)."""
    said = words or texts(None, "cli")
    stop = threading.Event()

    def _hup(_signum: int, _frame: Any) -> None:
        if on_hup is not None:
            try:
                on_hup()
            except Exception as exc:  # refused: logged where it was refused; keep running
                log.error(said["hup_refused"].format(error=type(exc).__name__))

    signal.signal(signal.SIGHUP, _hup)

    def _stop(signum: int, _frame: Any) -> None:
        log.info(said["worker_stopping"].format(signal=signal.Signals(signum).name))
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run(stop)
