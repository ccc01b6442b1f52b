"""A real ``redis-server`` on 127.0.0.1 for the shared-state tests.

:class:`RedisServer` runs the Debian ``redis-server`` binary on a free loopback
port with its own temporary directory and no persistence (no RDB snapshots, no
AOF), so a restart comes back empty, as a real Redis without persistence does.
Tests can kill it (SIGKILL), stall it (SIGSTOP/SIGCONT) and start it again on
the same port.

The ``redis_server`` fixture (import it into a test module) skips with the
reason when the binary or redis-py is missing, unless ``FERROTLS_REQUIRE_REDIS``
is set (CI), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from utils import env_flag

__all__ = ["RedisServer", "redis_server", "redis_py", "redis_binary"]

_START_TIMEOUT = 10.0


def redis_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.path.exists(p)), None
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process (restartable on the same port)."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (again); the first start picks a free port, later ones reuse it."""
        assert self.proc is None, "already running"
        first = not self.port
        log = self.directory / "redis.log"
        for _ in range(5 if first else 1):
            if first:
                self.port = _free_port()  # another process may take it first: retried
            self.starts += 1
            log = self.directory / f"redis-{self.starts}.log"
            self.proc = subprocess.Popen(
                [
                    self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                    "--daemonize", "no", "--logfile", str(log), "--protected-mode", "yes",
                ],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + _START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _ping(self.port):
                    return
                time.sleep(0.01)
            self._reap()
        text = log.read_text(errors="replace") if log.exists() else "(no log)"
        raise RuntimeError(f"redis-server did not start on 127.0.0.1:{self.port}:\n{text}")

    def kill(self) -> None:
        """SIGKILL: Redis vanishes without a word (its data with it)."""
        assert self.proc is not None
        self.proc.kill()
        self._reap()

    def pause(self) -> None:
        """SIGSTOP: connections stay open and nothing answers (a stalled Redis)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        if self.proc is not None:
            self.kill()
        self.start()

    def _reap(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        self._reap()

    def client(self) -> Any:
        """A plain redis-py client (generous timeouts) to inspect what is stored."""
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=0, socket_timeout=5)


def _unavailable(reason: str) -> None:
    if env_flag("FERROTLS_REQUIRE_REDIS"):
        pytest.fail(f"{reason}, and FERROTLS_REQUIRE_REDIS is set", pytrace=False)
    pytest.skip(f"{reason} (apt-get install redis-server; pip install 'ferrotls[redis]')")


@pytest.fixture
def redis_py() -> None:
    """redis-py is importable (skip, or fail under FERROTLS_REQUIRE_REDIS)."""
    try:
        import redis  # noqa: F401
    except ImportError:
        _unavailable("redis-py is not installed")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on 127.0.0.1 for one test, killed afterwards."""
    binary = redis_binary()
    if binary is None:
        _unavailable("redis-server is not installed")
    try:
        import redis  # noqa: F401
    except ImportError:
        _unavailable("redis-py is not installed")
    assert binary is not None
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
