"""``ferrotls server`` as a subprocess on 127.0.0.1, for tests that need a real server process.

Used by the README and wheel smoke tests; it runs the installed package
(``python -m ferrotls``), so under ``INSTALL=wheel`` it exercises the wheel.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ferrotls_server"]

_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
STARTUP_TIMEOUT = 30.0


@contextlib.contextmanager
def ferrotls_server(*args: str, cwd: Path) -> Iterator[int]:
    """Run ``python -m ferrotls server --port 0 ARGS`` in ``cwd``; yield its port.

    The process is stopped (SIGTERM, then SIGKILL) on exit.  If it dies or
    never says where it listens, the test fails with its stderr.
    """
    cmd = [sys.executable, "-m", "ferrotls", "server", "--host", "127.0.0.1", "--port", "0", *args]
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    port: list[int] = []
    ready = threading.Event()
    err_lines: list[str] = []

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = _LISTENING.search(line)
            if m and not port:
                port.append(int(m.group(1)))
                ready.set()
        ready.set()  # EOF: the process is gone

    def read_stderr() -> None:
        assert proc.stderr is not None
        err_lines.extend(proc.stderr)

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
    for t in readers:
        t.start()
    try:
        ready.wait(STARTUP_TIMEOUT)
        if not port:
            proc.kill()
            proc.wait(10)
            for t in readers:
                t.join(5)
            raise AssertionError(f"{' '.join(cmd)} did not start: {''.join(err_lines)[-2000:]}")
        yield port[0]
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
