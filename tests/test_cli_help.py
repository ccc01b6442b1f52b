"""The command line as a person meets it: ``--help`` is plain text, Ctrl-C in ``bench`` is clean.

Each ``--help`` is read from a real ``python -m ferrotls`` process.  It must not
carry reStructuredText markup (````literal````, ``:mod:`` roles, ``::`` blocks)
or notes about the code (module paths, helper names, files under benches/).

``ferrotls bench`` gets a real SIGINT while it measures (in memory, and over
sockets with a server thread): one line on stderr, exit status 130, no traceback.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

COMMANDS = ["", "info", "demo", "client", "server", "gateway", "bench"]
TIMEOUT = 30.0

_MARKUP = [
    re.compile(r"``"),                              # RST literal
    re.compile(r":(mod|func|class|meth|data|attr|exc|obj):`"),  # RST roles
    re.compile(r"::\s*$", re.M),                    # RST literal block
    re.compile(r"^\s*\.\. ", re.M),                 # RST directive
]
_INTERNALS = [
    re.compile(r"\bferrotls\.[a-z_]+\.[a-z_]+"),    # module paths (ferrotls.transports.aio, ...)
    re.compile(r"benches/|\.py\b"),                 # source files
    re.compile(r"\b(add_server_tls_arguments|build_server_context|serve_tls|AcceptedTLS|"
               r"make_test_pki|ctypes|SSL_CTX_set_ciphersuites)\b"),
]


def ferrotls(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ferrotls", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_plain_text(command: str) -> None:
    proc = ferrotls(*filter(None, [command, "--help"]))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith(f"usage: ferrotls {command}".rstrip())
    for pattern in _MARKUP:
        assert not pattern.search(text), f"markup {pattern.pattern!r} in:\n{text}"
    for pattern in _INTERNALS:
        assert not pattern.search(text), f"internals {pattern.pattern!r} in:\n{text}"
    # a description paragraph, not just the option list
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 5, text


def test_top_level_help_lists_every_command() -> None:
    text = ferrotls("--help").stdout
    for command in COMMANDS[1:]:
        assert re.search(rf"^\s+{command}\s+\S", text, re.M), f"{command} missing:\n{text}"


def _read_until(proc: subprocess.Popen[bytes], needle: bytes, deadline: float) -> bytes:
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    buf = b""
    while needle not in buf:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {needle!r} in time: {buf[-2000:]!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, f"bench exited before {needle!r}: {buf[-2000:]!r}"
            buf += chunk
    return buf


@pytest.mark.parametrize("mode", [[], ["--sockets"]], ids=["memory", "sockets"])
def test_bench_ctrl_c_exits_cleanly(mode: list[str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ferrotls", "bench", "--backend", "native", *mode],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # the child must start with Ctrl-C's default action, whatever the test runner ignores
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        before = _read_until(proc, b"0/", time.monotonic() + TIMEOUT)  # the first measurement runs
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = (before + rest).decode(errors="replace")
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert err.rstrip("\n").splitlines()[-1] == "ferrotls bench: interrupted"
    assert err.count("interrupted") == 1
