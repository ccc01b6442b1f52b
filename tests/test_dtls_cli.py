"""``ferrotls server --dtls`` and ``ferrotls client --dtls`` as subprocesses on 127.0.0.1:
an external PSK, the request/response mode, each stdin line one datagram."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PSK = ["--psk-identity", "meter-9", "--psk-hex", "000102030405060708090a0b0c0d0e0f"]


@pytest.mark.parametrize("mode", ["echo", "request"])
def test_dtls_cli_client_and_server(mode: str, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "ferrotls", "server", "--dtls", "--port", "0", "--dtls-mode", mode, *PSK],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    try:
        deadline = time.monotonic() + 20
        port = None
        while port is None and time.monotonic() < deadline:
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read_text())
            port = match.group(1) if match else None
            time.sleep(0.1)
        assert port, log.read_text()
        client = subprocess.run(
            [sys.executable, "-m", "ferrotls", "client", "--dtls", f"127.0.0.1:{port}", "--insecure",
             "--timeout", "3", *PSK],
            input=b"first line\nsecond\n", capture_output=True, env=env, timeout=60,
        )
        assert client.returncode == 0, client.stderr
        expected = [b"first line", b"second"] if mode == "echo" else [b"OK 10 bytes: first line", b"OK 6 bytes: second"]
        assert client.stdout.splitlines() == expected
        assert b"DTLSv1.3" in client.stderr and b"PSK meter-9" in client.stderr
        time.sleep(0.3)
        text = log.read_text()
        assert "DTLSv1.3 established psk:meter-9" in text and ": closed" in text
    finally:
        server.terminate()
        server.wait(10)


def test_dtls12_is_refused_for_now() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    proc = subprocess.run([sys.executable, "-m", "ferrotls", "client", "--dtls", "127.0.0.1:9", "--dtls-version", "1.2",
                           "--insecure"], capture_output=True, env=env, timeout=60)
    assert proc.returncode == 2 and b"DTLS 1.2 is not implemented" in proc.stderr
