"""Failed webhook deliveries while `leadrouter web` is restarted under a steady stream of webhooks.

    .venv/bin/python bench/restarts.py [--restarts 10] [--rate 20] [--mode stop-start usr2 hup]

amoCRM counts a delivery as failed when no 100–299 answer comes within 2 s, and switches the hook
off after more than 100 failures in 2 hours (docs/amocrm.md). This posts amoCRM `add_lead` webhooks
at `--rate` a second (each on a new connection, 2 s timeout, as amoCRM's sender does) while it
restarts the service `--restarts` times, one way per `--mode`:

- `stop-start`: SIGTERM, wait for the exit, start again (what `systemctl restart` does);
- `usr2`: gunicorn's binary upgrade — SIGUSR2 starts a new master on the same listening socket,
  and once its workers are up, SIGTERM stops the old one gracefully (docs/operations.md);
- `hup`: SIGHUP, our config reload (no process restarts).

It prints, per mode, the webhooks sent, the failed ones (no answer, refused, or not 2xx), and the
longest run of consecutive failures. The server runs on SQLite with the example config, `--workers 1`
as `leadrouter serve` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import SECRET, body  # noqa: E402
from tests.e2e.test_amocrm_e2e import free_port  # noqa: E402

HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
READY = "Application startup complete"
MASTER = re.compile(r"\[(\d+)\] \[INFO\] Starting gunicorn")


@dataclass
class Stream:
    """Posts webhooks at a steady rate from a thread; keeps each outcome in order."""

    url: str
    rate: float
    outcomes: list[bool] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        lead, start = 1_000_000, time.monotonic()
        senders: list[threading.Thread] = []
        while not self.stop.is_set():
            lead += 1
            sender = threading.Thread(target=self._post, args=(lead, len(senders)))
            self.outcomes.append(False)
            senders.append(sender)
            sender.start()
            time.sleep(max(0.0, start + len(senders) / self.rate - time.monotonic()))
        for sender in senders:
            sender.join()

    def _post(self, lead: int, index: int) -> None:
        try:
            answer = httpx.post(self.url, content=body(lead), headers=HEADERS, timeout=2.0)
            self.outcomes[index] = 200 <= answer.status_code <= 299
        except httpx.HTTPError:
            self.outcomes[index] = False


class Server:
    """`leadrouter web` in the background, its stderr in a log file the restarts read."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir, self.port = workdir, port
        self.log = workdir / "web.log"
        self.pid = workdir / "leadrouter.pid"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LEADROUTER_WEBHOOK_SECRET": SECRET,
            "LEADROUTER_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        leadrouter = str(Path(sys.executable).parent / "leadrouter")
        command = [
            leadrouter,
            "web",
            "--config",
            str(ROOT / "config.example.yaml"),
            "--pid-file",
            str(self.pid),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), "--workers", "1"],
                cwd=self.workdir,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self._wait(lambda: self._count(READY) >= 1 and self._healthy(), "start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        for pid in self._masters()[1:]:  # a master started by USR2 is not our child
            _kill(pid, signal.SIGTERM)
            while _alive(pid):
                time.sleep(0.05)
        self.log.write_bytes(b"")

    def stop_start(self) -> None:
        self.stop()
        self.start()

    def usr2(self) -> None:
        """As docs/operations.md says: USR2, wait for the new master's workers, TERM the old one."""
        old, ready = int(self.pid.read_text()), self._count(READY)
        _kill(old, signal.SIGUSR2)
        self._wait(lambda: self._count(READY) > ready, "the new master's worker")
        _kill(old, signal.SIGTERM)  # the old master's workers finish their requests, then exit
        while _alive(old):
            time.sleep(0.05)

    def hup(self) -> None:
        _kill(self._masters()[-1], signal.SIGHUP)
        time.sleep(0.5)

    def _masters(self) -> list[int]:
        return [int(m) for m in MASTER.findall(self.log.read_text(errors="replace"))]

    def _count(self, text: str) -> int:
        return self.log.read_text(errors="replace").count(text)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait(self, ready: object, what: str) -> None:
        deadline = time.monotonic() + 180  # a loaded machine starts slowly
        while time.monotonic() < deadline:
            if callable(ready) and ready():
                return
            time.sleep(0.05)
        raise SystemExit(f"timed out waiting for {what}:\n{self.log.read_text(errors='replace')[-2000:]}")


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return status != "Z"


def longest_failure_run(outcomes: list[bool]) -> int:
    longest = run = 0
    for ok in outcomes:
        run = 0 if ok else run + 1
        longest = max(longest, run)
    return longest


def measure(mode: str, restarts: int, rate: float, pause: float) -> tuple[int, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = Server(Path(tmp), port)
        server.start()
        stream = Stream(f"http://127.0.0.1:{port}/hooks/amocrm/{SECRET}", rate)
        feeder = threading.Thread(target=stream.run)
        feeder.start()
        try:
            time.sleep(pause)
            for _ in range(restarts):
                {"stop-start": server.stop_start, "usr2": server.usr2, "hup": server.hup}[mode]()
                time.sleep(pause)
        finally:
            stream.stop.set()
            feeder.join()
            server.stop()
        outcomes = stream.outcomes
        return len(outcomes), outcomes.count(False), longest_failure_run(outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--restarts", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20.0, help="webhooks a second")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between restarts")
    parser.add_argument("--mode", nargs="*", default=["stop-start", "usr2", "hup"])
    args = parser.parse_args()
    print(f"{args.restarts} restarts, {args.rate:g} webhooks/s, {args.pause:g} s between restarts")
    print(f"{'mode':<12} {'sent':>6} {'failed':>7} {'longest run':>12}")
    for mode in args.mode:
        sent, failed, run = measure(mode, args.restarts, args.rate, args.pause)
        print(f"{mode:<12} {sent:>6} {failed:>7} {run:>12}")


if __name__ == "__main__":
    main()
