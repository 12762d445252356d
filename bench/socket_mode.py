"""Socket Mode under faults: `sevbot run` (a real process) against the fake Socket Mode server.

For each Socket Mode client Bolt supports and each fault, prints how long until the bot
answers again (an envelope sent at the fault is acked), the process's CPU use (over the
first 5 s, or until answering if longer) and how many log lines the fault produced; then the
CPU use during a 10 s outage (connections dropped and refused) and how long SIGTERM takes.
Goals: answering within 10 s after any fault, no core spinning while disconnected, exit
within 2 s of SIGTERM.

    .venv/bin/python bench/socket_mode.py [--clients aiohttp,builtin] [--ping-interval 3]
        [--faults tcp_drop,silent] [--show-logs]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.fakes.slack import FakeSlack  # noqa: E402
from bot.fakes.slack_requests import SlackRequestSigner  # noqa: E402
from bot.fakes.slack_socket import FakeSocketMode  # noqa: E402
from bot.socket_mode import CLIENTS  # noqa: E402


def _slow_hello(socket: FakeSocketMode, seconds: float) -> None:
    """Refresh the connection while the server takes `seconds` to say hello."""
    socket.hello_delay = seconds
    socket.disconnect("refresh_requested")


FAULTS = {
    "warning": lambda sm: sm.disconnect("warning"),
    "refresh_requested": lambda sm: sm.disconnect("refresh_requested"),
    "link_disabled": lambda sm: sm.disconnect("link_disabled"),
    "close_no_disconnect": lambda sm: sm.close_without_disconnect(),
    "tcp_drop": lambda sm: sm.drop_tcp(),
    "silent": lambda sm: sm.go_silent(),
    "slow_5s": lambda sm: sm.stall(5.0),
    "slow_hello_2s": lambda sm: _slow_hello(sm, 2.0),
}
GIVE_UP = 75.0
OUTAGE = 10.0
CPU_WINDOW = 5.0  # CPU is averaged over the fault's first 5 s, or until answering if longer
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return the user+system CPU time a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Outcome:
    """What one fault cost."""

    answered_after: float | None
    cpu_percent: float
    log_lines: list[str]


class SocketBot:
    """`python -m bot run` in Socket Mode against the fakes, with its log in a file."""

    def __init__(self, client: str, ping_interval: float) -> None:
        self.slack = FakeSlack().start()
        self.socket = FakeSocketMode(self.slack).start()
        self.alice = self.slack.add_user("alice", email="alice@example.com")
        self.slack.add_channel("incidents", members=[self.alice])
        self.general = self.slack.add_channel("general", members=[self.alice])
        self.signer = SlackRequestSigner("unused", bot_user_id=self.slack.bot_user_id)
        self.workdir = Path(tempfile.mkdtemp(prefix="sevbot-socket-bench-"))
        self.log_path = self.workdir / "sevbot.log"
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_APP_TOKEN": self.socket.app_token,
            "SLACK_API_URL": self.slack.api_url,
            "DATABASE_URL": f"sqlite:///{self.workdir / 'run.db'}",
            "SOCKET_MODE_CLIENT": client,
            "SOCKET_MODE_PING_INTERVAL": f"{ping_interval:g}s",
        }
        env.pop("SEVBOT_CONFIG", None)
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=self.workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.socket.wait_for_connections(1, timeout=60)
        assert self.probe(timeout=10) is not None, "the bot never answered"

    def probe(self, timeout: float) -> float | None:
        """Send `/incident help` until one is acked; return when that ack came."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.socket.deliver(
                self.signer.slash_command(user_id=self.alice, channel_id=self.general, text="help")
            )
            try:
                return self.socket.wait_for_ack(sent, timeout=1.0).at
            except AssertionError:
                continue
        return None

    def log_lines(self) -> list[str]:
        """Return every line the bot has logged so far."""
        self.log.flush()
        return self.log_path.read_text(errors="replace").splitlines()

    def fault(self, name: str) -> Outcome:
        """Apply a fault and measure until the bot answers again."""
        before_lines = len(self.log_lines())
        cpu_before, started = cpu_seconds(self.process.pid), time.monotonic()
        FAULTS[name](self.socket)
        answered = self.probe(timeout=GIVE_UP)
        self.socket.hello_delay = 0.0
        time.sleep(max(1.0, started + CPU_WINDOW - time.monotonic()))  # and last words logged
        cpu = (cpu_seconds(self.process.pid) - cpu_before) / (time.monotonic() - started)
        lines = self.log_lines()[before_lines:]
        return Outcome(answered - started if answered else None, cpu * 100, lines)

    def outage(self) -> tuple[float, Outcome]:
        """Drop and refuse connections for OUTAGE seconds; return CPU % meanwhile, and recovery."""
        before_lines = len(self.log_lines())
        cpu_before, started = cpu_seconds(self.process.pid), time.monotonic()
        self.socket.outage(OUTAGE)
        time.sleep(OUTAGE)
        cpu = (cpu_seconds(self.process.pid) - cpu_before) / (time.monotonic() - started)
        answered = self.probe(timeout=GIVE_UP)
        time.sleep(1.0)
        lines = self.log_lines()[before_lines:]
        recovered = (answered - started - OUTAGE) if answered else None
        return cpu * 100, Outcome(recovered, cpu * 100, lines)

    def sigterm(self) -> tuple[float, float]:
        """Send SIGTERM; return how long the process took to exit, and the CPU it used."""
        cpu_before, started = cpu_seconds(self.process.pid), time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOWAIT)  # a zombie keeps its stats
        took = time.monotonic() - started
        cpu = cpu_seconds(self.process.pid) - cpu_before
        self.process.wait()
        return took, cpu

    def stop(self) -> None:
        """Stop the process and the fakes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()
        self.socket.stop()
        self.slack.stop()


def _seconds(value: float | None) -> str:
    return f"{value:6.2f} s" if value is not None else "  never"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--ping-interval", type=float, default=3.0)
    parser.add_argument("--no-outage", action="store_true")
    parser.add_argument("--show-logs", action="store_true", help="print each fault's log lines")
    args = parser.parse_args()
    for client in args.clients.split(","):
        print(f"\n== {client} (ping interval {args.ping_interval:g} s)", flush=True)
        bot = SocketBot(client, args.ping_interval)
        try:
            for name in args.faults.split(","):
                outcome = bot.fault(name)
                print(
                    f"{name:<20} answering again after {_seconds(outcome.answered_after)}"
                    f"   CPU {outcome.cpu_percent:5.1f} %   log lines {len(outcome.log_lines)}",
                    flush=True,
                )
                if args.show_logs:
                    for line in outcome.log_lines:
                        print(f"    | {line[:220]}")
            if not args.no_outage:
                cpu, outcome = bot.outage()
                print(
                    f"{'outage ' + str(int(OUTAGE)) + ' s':<20} CPU while disconnected "
                    f"{cpu:5.1f} %   answering {_seconds(outcome.answered_after)} after it ended"
                    f"   log lines {len(outcome.log_lines)}",
                    flush=True,
                )
                if args.show_logs:
                    for line in outcome.log_lines:
                        print(f"    | {line[:220]}")
            took, cpu = bot.sigterm()
            print(f"{'SIGTERM':<20} exited after {_seconds(took)} ({cpu:.2f} s CPU)", flush=True)
        finally:
            bot.stop()


if __name__ == "__main__":
    main()
