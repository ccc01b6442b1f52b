"""``ferrotls server --dtls`` and ``ferrotls client --dtls`` as subprocesses on 127.0.0.1:
an external PSK, the request/response mode, each stdin line one datagram, DTLS 1.3
and 1.2 (``--dtls-version``; with a PSK, DTLS 1.2 runs TLS_PSK_WITH_AES_128_CCM_8 or
another PSK suite)."""

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


@pytest.mark.parametrize(("mode", "version", "server_versions"), [
    ("echo", "1.3", None), ("request", "1.3", None), ("echo", "1.2", None), ("request", "1.2", "1.2"),
    ("echo", "1.3,1.2", "1.2"),
])
def test_dtls_cli_client_and_server(mode: str, version: str, server_versions: str | None, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    log = tmp_path / "server.log"
    expect = "DTLSv1.2" if "1.2" in (version, server_versions) else "DTLSv1.3"
    pinned = ["--dtls-version", server_versions] if server_versions else []
    # a DTLS 1.2 server prefers its certificate suites; the client asks for RFC 7925's PSK suite
    ciphers = ["--ciphers", "PSK-AES128-CCM8"] if expect == "DTLSv1.2" else []
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "ferrotls", "server", "--dtls", "--port", "0", "--dtls-mode", mode, *PSK, *pinned],
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
             "--timeout", "3", "--dtls-version", version, *PSK, *ciphers],
            input=b"first line\nsecond\n", capture_output=True, env=env, timeout=60,
        )
        assert client.returncode == 0, client.stderr
        expected = [b"first line", b"second"] if mode == "echo" else [b"OK 10 bytes: first line", b"OK 6 bytes: second"]
        assert client.stdout.splitlines() == expected
        assert f"ferrotls client: {expect} ".encode() in client.stderr and b"PSK meter-9" in client.stderr
        if expect == "DTLSv1.2":
            assert b"DTLSv1.2 0xc0a8 " in client.stderr  # TLS_PSK_WITH_AES_128_CCM_8
        time.sleep(0.3)
        text = log.read_text()
        assert f"{expect} established psk:meter-9" in text and ": closed" in text
        assert ("DTLS 1.2 listening" if server_versions == "1.2" else "DTLS 1.3/1.2 listening") in text
    finally:
        server.terminate()
        server.wait(10)


def test_unknown_dtls_version_is_refused() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    proc = subprocess.run([sys.executable, "-m", "ferrotls", "client", "--dtls", "127.0.0.1:9", "--dtls-version", "1.0",
                           "--insecure"], capture_output=True, env=env, timeout=60)
    assert proc.returncode == 2 and b"expected 1.3, 1.2 or 1.3,1.2, got '1.0'" in proc.stderr
