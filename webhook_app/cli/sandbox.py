"""`leadrouter sandbox`: the service on a config, against the bundled emulator of the config's CRM
(amoCRM or Bitrix24, by `crm.type`), with leads coming in.

It starts the emulator (seeded with the config's users, pipelines and fields), writes the sandbox's
version of the config (see `webhook_app.config.sandbox`), registers the webhook with `leadrouter
install` and runs `leadrouter serve` — the same commands as a real deployment — then plays a
seeded stream of leads and stage moves into the emulator until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.texts import texts
from webhook_app.cli import help_for

if TYPE_CHECKING:
    from webhook_app.cli.sandbox_crm import Emulated
    from webhook_app.config.schema import ConfigModel

DEFAULT_CONFIG = "config.example.yaml"
DEMO_SECRET, DEMO_ADMIN = "demo-secret", "demo-admin"
HEALTHY_WITHIN = 60.0  # seconds for `serve` to answer /healthz (migrations, gunicorn start)
STOP_WITHIN = 20.0
REMIND_EVERY = 20  # ticks between reminders of where the admin page is


def register(sub: Any, words: Mapping[str, str]) -> None:
    """Add `sandbox`, its help in `words` (a `help` catalog)."""
    parser = sub.add_parser("sandbox", help=help_for("sandbox", words))
    config_help = words["config_sandbox"].format(default=DEFAULT_CONFIG)
    parser.add_argument("--config", metavar=words["meta_config"], help=config_help)
    parser.add_argument("--host", default="127.0.0.1", metavar=words["meta_host"], help=words["sandbox_host"])
    parser.add_argument(
        "--port", type=int, default=8000, metavar=words["meta_port"], help=words["sandbox_port"]
    )
    parser.add_argument(
        "--every", type=float, default=3.0, metavar=words["meta_every"], help=words["sandbox_every"]
    )
    parser.add_argument("--seed", type=int, default=1, metavar=words["meta_seed"], help=words["sandbox_seed"])
    parser.add_argument(
        "--sla-minutes",
        type=int,
        default=2,
        metavar=words["meta_sla_minutes"],
        help=words["sandbox_sla_minutes"],
    )
    parser.add_argument("--dir", default=".sandbox", metavar=words["meta_dir"], help=words["sandbox_dir"])
    parser.set_defaults(handler=run)


def _config_path(args: argparse.Namespace) -> str:
    if args.config or os.environ.get("LEADROUTER_CONFIG"):
        return str(args.config or os.environ["LEADROUTER_CONFIG"])
    if Path(DEFAULT_CONFIG).is_file():
        return DEFAULT_CONFIG
    words = texts(None, "cli")  # no config, no language: the product's default speaks
    print(f"leadrouter sandbox: {words['sandbox_no_config'].format(default=DEFAULT_CONFIG)}", file=sys.stderr)
    raise SystemExit(2)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def run(args: argparse.Namespace) -> int:
    """Run the sandbox until interrupted; 0 on a clean stop, 1 when something could not start."""
    from webhook_app.config import ConfigError, load_config

    path = _config_path(args)
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
        return 1
    words = texts(loaded.policy.language, "cli")
    if args.every <= 0 or args.sla_minutes < 1:
        print(f"leadrouter sandbox: {words['sandbox_bad_options']}", file=sys.stderr)
        return 2
    if not _port_free(args.host, args.port):
        taken = words["sandbox_port_taken"].format(address=f"{args.host}:{args.port}")
        print(f"leadrouter sandbox: {taken}", file=sys.stderr)
        return 1
    return Sandbox(args, path, loaded.raw, loaded.document, words).run()


class Sandbox:
    """The emulator, the service process and the lead stream, started and stopped in order."""

    def __init__(
        self, args: argparse.Namespace, path: str, raw: bytes, document: ConfigModel, words: Mapping[str, str]
    ) -> None:
        self.args, self.path, self.raw, self.document = args, path, raw, document
        self.words = words  # the `cli` catalog in the config's language
        self.dir = Path(args.dir).resolve()
        self.public = f"http://{args.host}:{args.port}"
        self.config, self.log = self.dir / "config.yaml", self.dir / "service.log"
        self.stop = threading.Event()
        self.service: subprocess.Popen[bytes] | None = None
        self.changes: list[str] = []
        # The demo values are shown; a secret of the caller's own environment never is.
        self.token = "$LEADROUTER_ADMIN_TOKEN" if os.environ.get("LEADROUTER_ADMIN_TOKEN") else DEMO_ADMIN

    def run(self) -> int:
        """Start everything, play leads until a signal, stop everything."""
        from webhook_app.cli.sandbox_crm import start

        # Any of these stops us in order; SIGHUP too (a closed terminal), else the service would be orphaned.
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), lambda *_: self.stop.set())
        emu = start(self.document)
        try:
            env = self._prepare(emu)
            if not self._install(env) or not self._serve(env):
                return 0 if self.stop.is_set() else 1  # Ctrl-C while starting is a clean stop
            self._banner(emu)
            return self._play(emu.player(self.args.seed, _say))
        finally:
            self._stop_service()
            emu.stop()
            print(f"leadrouter sandbox: {self.words['sandbox_stopped']}", flush=True)

    def _prepare(self, emu: Emulated) -> dict[str, str]:
        """A fresh directory (the emulator starts empty, so must the database) and the service's env."""
        from webhook_app.config.sandbox import derive

        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob("leadrouter.db*"):
            stale.unlink()
        derived = derive(
            self.raw, source=self.path, base_url=emu.url, sla_minutes=self.args.sla_minutes, words=self.words
        )
        self.config.write_text(derived.text, encoding="utf-8")
        self.changes = derived.changes
        root = str(Path(__file__).resolve().parents[2])  # importable even when not pip-installed
        # Nothing of the caller's deployment leaks in: no other database, CRM credentials or config.
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        database = f"sqlite:///{self.dir / 'leadrouter.db'}"
        env |= emu.env | {
            "LEADROUTER_DATABASE_URL": database,
            "LEADROUTER_WEBHOOK_SECRET": os.environ.get("LEADROUTER_WEBHOOK_SECRET") or DEMO_SECRET,
            "LEADROUTER_ADMIN_TOKEN": os.environ.get("LEADROUTER_ADMIN_TOKEN") or DEMO_ADMIN,
        }
        emu.store_tokens(database)
        return env

    def _command(self, *words: str) -> list[str]:
        return [sys.executable, "-m", "webhook_app.cli.main", *words, "--config", str(self.config)]

    def _install(self, env: dict[str, str]) -> bool:
        done = subprocess.run(
            self._command("install", "--public-url", self.public),
            cwd=self.dir,  # the service's own directory: no `.env` of the caller's is read
            env=env,
            capture_output=True,
            text=True,
            start_new_session=True,  # a Ctrl-C meanwhile is ours to handle, not a traceback of install's
        )
        sys.stdout.write(done.stdout)
        if done.returncode != 0:
            failed = self.words["sandbox_install_failed"].format(error=done.stderr)
            print(f"leadrouter sandbox: {failed}", file=sys.stderr)
        return done.returncode == 0

    def _serve(self, env: dict[str, str]) -> bool:
        """`leadrouter serve` in its own session (Ctrl-C reaches only us, and we stop it in order)."""
        import httpx

        with self.log.open("wb") as log:
            self.service = subprocess.Popen(
                self._command("serve", "--host", self.args.host, "--port", str(self.args.port)),
                cwd=self.dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + HEALTHY_WITHIN
        while time.monotonic() < deadline and not self.stop.is_set():
            if self.service.poll() is not None:
                break
            try:
                if httpx.get(f"{self.public}/healthz", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        if not self.stop.is_set():
            tail = self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
            said = f"leadrouter sandbox: {self.words['sandbox_not_started']}"
            print(said, *tail, sep="\n", file=sys.stderr)
        return False

    def _play(self, player: Any) -> int:
        every = float(self.args.every)
        ticks = 0
        while not self.stop.is_set():
            player.step()
            ticks += 1
            if ticks % REMIND_EVERY == 0:  # the banner has scrolled away by now
                _say(self.words["sandbox_remind"].format(url=self.public, token=self.token))
            if self.service is not None and self.service.poll() is not None:
                exited = self.words["sandbox_exited"].format(log=self.log)
                print(f"leadrouter sandbox: {exited}", file=sys.stderr)
                return 1
            self.stop.wait(every)
        return 0

    def _stop_service(self) -> None:
        service = self.service
        if service is None or service.poll() is not None:
            return
        service.terminate()
        try:
            service.wait(STOP_WITHIN)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()

    def _banner(self, emu: Emulated) -> None:
        secret = "$LEADROUTER_WEBHOOK_SECRET" if os.environ.get("LEADROUTER_WEBHOOK_SECRET") else DEMO_SECRET
        banner = self.words["sandbox_banner"].format(
            path=self.path,
            crm=emu.name,
            url=self.public,
            token=self.token,
            hook=f"{self.public}/hooks/{emu.hook}/{secret}",
            note=self.words[f"sandbox_note_{emu.hook}"],
            crm_column=f"{emu.name:<12}",
            crm_url=emu.url,
            config=self.config,
            changes="\n".join(f"                 - {change}" for change in self.changes),
            database=self.dir / "leadrouter.db",
            log=self.log,
            every=f"{self.args.every:g}",
            seed=self.args.seed,
        )
        print(f"\n{banner}\n", flush=True)


def _say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {line}", flush=True)
