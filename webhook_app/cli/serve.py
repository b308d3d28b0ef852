"""`leadrouter serve` (web + worker in one process), `web` (gunicorn), `worker` (job loop)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from core.texts import texts
from webhook_app.cli import help_for
from webhook_app.clock import Clock
from webhook_app.config import ConfigError, LoadedConfig

log = logging.getLogger("leadrouter")
WORKER_FINISH_SECONDS = 5.0  # within gunicorn's graceful_timeout (10 s), after which it kills


def register(sub: Any, words: Mapping[str, str]) -> None:
    """Add the three run commands, their help in `words` (a `help` catalog)."""
    serve = sub.add_parser("serve", help=help_for("serve", words))
    _web_options(serve, words, workers=1)
    serve.set_defaults(handler=run_serve)
    web = sub.add_parser("web", help=help_for("web", words))
    _web_options(web, words, workers=2)
    web.set_defaults(handler=run_web)
    worker = sub.add_parser("worker", help=help_for("worker", words))
    worker.add_argument("--config", metavar=words["meta_config"], help=words["config_default"])
    worker.add_argument(
        "--metrics-port", type=int, metavar=words["meta_metrics_port"], help=words["worker_metrics_port"]
    )
    worker.set_defaults(handler=run_worker)


def _web_options(parser: argparse.ArgumentParser, words: Mapping[str, str], *, workers: int) -> None:
    parser.add_argument("--config", metavar=words["meta_config"], help=words["config_default"])
    parser.add_argument("--host", default="127.0.0.1", metavar=words["meta_host"], help=words["serve_host"])
    parser.add_argument(
        "--port", type=int, default=8000, metavar=words["meta_port"], help=words["serve_port"]
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=workers,
        metavar=words["meta_workers"],
        help=words["serve_workers"].format(workers=workers),
    )
    parser.add_argument(
        "--threads", type=int, default=8, metavar=words["meta_threads"], help=words["serve_threads"]
    )
    parser.add_argument("--pid-file", metavar=words["meta_pid_file"], help=words["serve_pid_file"])


def _app_factory(args: argparse.Namespace, *, with_worker: bool) -> Any:
    def factory() -> Flask:
        from webhook_app.bootstrap import build_services, build_worker
        from webhook_app.web.app import create_app
        from webhook_app.web.server import ON_SHUTDOWN

        services = build_services(
            config_path=args.config, clock=args.clock, with_crm=with_worker, announce_fallback=False
        )
        app = create_app(services=services)
        if with_worker:
            worker = build_worker(services)
            stop = threading.Event()
            loop = threading.Thread(target=worker.run, args=(stop,), name="leadrouter-worker", daemon=True)
            loop.start()
            words = texts(services.config.current.policy.language, "cli")
            app.extensions[ON_SHUTDOWN] = lambda: _finish_worker(stop, loop, words, worker.ctx.worker)
            log.info(words["worker_started"].format(worker=worker.ctx.worker))
        return app

    return factory


def _finish_worker(
    stop: threading.Event, loop: threading.Thread, words: Mapping[str, str], name: str
) -> None:
    """When the process stops (SIGTERM, once its requests are answered): let the worker finish its
    pass. Killed mid-pass, it would leave its jobs claimed under a lease, and a restarted service
    would wait the lease out (a minute) before running them — the hook check too."""
    stop.set()
    loop.join(timeout=WORKER_FINISH_SECONDS)
    log.info(words["worker_stopped"].format(worker=name))


def _check(args: argparse.Namespace) -> LoadedConfig | int:
    """The config to start on, or the exit code: fail fast in the parent process with the config's
    problems, before gunicorn forks — unless the database holds a good version to run instead
    (announced here, once for the whole start)."""
    from adapters.errors import AdapterError
    from adapters.storage.engine import make_engine
    from webhook_app.bootstrap import build_crm, crm_module
    from webhook_app.cli.words import crm_refusal
    from webhook_app.config import load_config
    from webhook_app.settings import Settings, resolve_config_path

    path = resolve_config_path(args.config)
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        stored = _stored_instead(path, exc, args.clock)
        if stored is None:
            print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
            return 1
        loaded = stored
    if not getattr(args, "needs_crm", False):
        return loaded
    if crm_module(loaded.crm.type, "factory") is None:
        words = texts(loaded.policy.language, "cli")
        print(f"leadrouter: {words['no_client'].format(crm=loaded.crm.type)}", file=sys.stderr)
        return 1
    try:  # missing credentials are a user mistake: say so before gunicorn forks, no traceback
        build_crm(loaded, Settings(), make_engine(Settings().database_url))
    except AdapterError as exc:
        print(f"leadrouter: {crm_refusal(texts(loaded.policy.language, 'cli'), exc)}", file=sys.stderr)
        return 1
    return loaded


def _stored_instead(path: Path, refused: ConfigError, clock: Clock) -> LoadedConfig | None:
    """The newest good version in the database, run instead of a refused file (announced once)."""
    from webhook_app.cli.common import open_database
    from webhook_app.config.startup import fall_back

    engine = open_database()
    try:
        return fall_back(path, engine, clock, refused, announce=True)
    finally:
        engine.dispose()


def _run_gunicorn(args: argparse.Namespace, *, with_worker: bool) -> int:
    from webhook_app.web.server import GunicornServer, gunicorn_options

    args.needs_crm = with_worker
    loaded = _check(args)
    if isinstance(loaded, int):
        return loaded
    extra = {"pidfile": args.pid_file} if args.pid_file else {}
    options = gunicorn_options(args.host, args.port, args.workers, args.threads, **extra)
    words = texts(loaded.policy.language, "cli")
    command = "serve" if with_worker else "web"
    address = f"{args.host}:{args.port}"
    print(
        words["serve_listening"].format(
            command=command, address=address, workers=args.workers, path=loaded.path, version=loaded.version
        ),
        flush=True,
    )
    factory = _app_factory(args, with_worker=with_worker)
    GunicornServer(factory, options, on_hup=_hup_reloader(args), words=words).run()
    print(words["serve_stopped"].format(command=command), flush=True)
    return 0


def _hup_reloader(args: argparse.Namespace) -> Any:
    """What SIGHUP does in gunicorn's master: validate the file and publish it to every process."""

    def reload() -> object:
        from webhook_app.cli.common import open_database
        from webhook_app.config.live import reload_file
        from webhook_app.settings import resolve_config_path

        return reload_file(resolve_config_path(args.config), open_database(), args.clock, "sighup")

    return reload


def run_serve(args: argparse.Namespace) -> int:
    """Web and worker together."""
    return _run_gunicorn(args, with_worker=True)


def run_web(args: argparse.Namespace) -> int:
    """Web only."""
    return _run_gunicorn(args, with_worker=False)


def run_worker(args: argparse.Namespace) -> int:
    """Worker only, until SIGTERM."""
    from webhook_app.bootstrap import build_services, build_worker
    from webhook_app.web.server import run_worker_until_signalled

    args.needs_crm = True
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    loaded = _check(args)
    if isinstance(loaded, int):
        return loaded
    services = build_services(config_path=args.config, clock=args.clock, announce_fallback=False)
    worker = build_worker(services)
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr="127.0.0.1", registry=services.metrics.registry)
    words = texts(services.config.current.policy.language, "cli")
    log.info(words["worker_started"].format(worker=worker.ctx.worker))
    run_worker_until_signalled(worker.run, on_hup=lambda: services.config.reload("sighup"), words=words)
    log.info(words["worker_stopped"].format(worker=worker.ctx.worker))
    return 0
