"""``ferrotls gateway --accept-dtls --connect-udp``: a DTLS 1.3 or 1.2 client -> the
gateway -> a plaintext UDP backend on 127.0.0.1 and back, with the per-session log line."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from interop.dtls_helpers import FramingUpstream

ROOT = Path(__file__).resolve().parent.parent
KEY = "0f0e0d0c0b0a09080706050403020100"
PSK = ["--psk-identity", "meter-3", "--psk-hex", KEY]
GATEWAY_PSK = ["--psk-identity", "meter-3", "--psk", KEY]  # the TLS gateway's flags


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_dtls_to_udp_gateway(tmp_path: Path, version: str) -> None:
    client_version = ["--dtls-version", version] + (["--ciphers", "PSK-AES128-CCM8"] if version == "1.2" else [])
    backend = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    backend.bind(("127.0.0.1", 0))
    backend.settimeout(0.2)
    stop = threading.Event()
    sources: set[tuple[str, int]] = set()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, addr = backend.recvfrom(65536)
            except TimeoutError:
                continue
            sources.add(addr)
            backend.sendto(b"backend:" + data, addr)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    log = tmp_path / "gateway.log"
    with log.open("w") as out:
        gateway = subprocess.Popen(
            [sys.executable, "-m", "ferrotls", "gateway", "--accept-dtls", "127.0.0.1:0",
             "--connect-udp", f"127.0.0.1:{backend.getsockname()[1]}", *GATEWAY_PSK],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 20
        port = None
        while port is None and time.monotonic() < deadline:
            match = re.search(r"DTLS 127\.0\.0\.1:(\d+) -> UDP", log.read_text())
            port = match.group(1) if match else None
            time.sleep(0.1)
        assert port, log.read_text()
        outputs = []
        for line in (b"reading 42", b"reading 43"):  # two device sessions
            client = subprocess.run(
                [sys.executable, "-m", "ferrotls", "client", "--dtls", f"127.0.0.1:{port}", "--insecure",
                 "--timeout", "3", *PSK, *client_version], input=line + b"\n", capture_output=True, env=env,
                timeout=60)
            assert client.returncode == 0, client.stderr
            assert f"DTLSv{version} ".encode() in client.stderr
            outputs.append(client.stdout.strip())
        assert outputs == [b"backend:reading 42", b"backend:reading 43"]
        assert len(sources) == 2  # each session its own upstream socket
        time.sleep(0.5)
        lines = [ln for ln in log.read_text().splitlines() if "identity=psk:meter-3" in ln]
        assert len(lines) == 2, log.read_text()
        assert re.search(r"127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ identity=psk:meter-3 up=10 down=18 "
                         r"duration=[\d.]+s close=client closed", lines[0]), lines[0]
    finally:
        gateway.terminate()
        gateway.wait(10)
        stop.set()
        thread.join(2)
        backend.close()


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_dtls_to_tls_gateway(tmp_path: Path, version: str) -> None:
    """--accept-dtls --connect: device datagrams travel to a TLS upstream as 2-byte
    length-prefixed messages, one TLS connection per device session, and the
    upstream's messages come back as datagrams."""
    client_version = ["--dtls-version", version] + (["--ciphers", "PSK-AES128-CCM8"] if version == "1.2" else [])
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    log = tmp_path / "gateway.log"
    with FramingUpstream(tmp_path) as upstream:
        with log.open("w") as out:
            gateway = subprocess.Popen(
                [sys.executable, "-m", "ferrotls", "gateway", "--accept-dtls", "127.0.0.1:0",
                 "--connect", f"127.0.0.1:{upstream.port}", "--upstream-ca", str(upstream.ca_pem),
                 "--servername", "upstream.test", *GATEWAY_PSK],
                stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 20
            port = None
            while port is None and time.monotonic() < deadline:
                match = re.search(r"DTLS 127\.0\.0\.1:(\d+) -> TLS 127\.0\.0\.1:\d+ \(upstream\.test, length-prefixed\)",
                                  log.read_text())
                port = match.group(1) if match else None
                time.sleep(0.1)
            assert port, log.read_text()
            outputs = []
            for lines in (b"meter 7: 1.5 kWh\nmeter 7: 1.6 kWh\n", b"meter 8: 0.2 kWh\n"):  # two device sessions
                client = subprocess.run(
                    [sys.executable, "-m", "ferrotls", "client", "--dtls", f"127.0.0.1:{port}", "--insecure",
                     "--timeout", "3", *PSK, *client_version], input=lines, capture_output=True, env=env,
                    timeout=60)
                assert client.returncode == 0, client.stderr
                assert f"DTLSv{version} ".encode() in client.stderr
                outputs.append(client.stdout.splitlines())
            assert outputs == [[b"ack:meter 7: 1.5 kWh", b"ack:meter 7: 1.6 kWh"], [b"ack:meter 8: 0.2 kWh"]]
            assert upstream.messages == [b"meter 7: 1.5 kWh", b"meter 7: 1.6 kWh", b"meter 8: 0.2 kWh"]
            assert upstream.connections == 2  # one TLS connection per device session
            time.sleep(0.5)
            assert upstream.clean_closes == 2  # each ended with close_notify when its device closed
            lines = [ln for ln in log.read_text().splitlines() if "identity=psk:meter-3" in ln]
            assert len(lines) == 2, log.read_text()
            assert re.search(r"127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ identity=psk:meter-3 up=32 down=40 "
                             r"duration=[\d.]+s close=client closed", lines[0]), lines[0]
        finally:
            gateway.terminate()
            gateway.wait(10)


def test_dtls_gateway_needs_one_upstream() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    proc = subprocess.run([sys.executable, "-m", "ferrotls", "gateway", "--accept-dtls", "127.0.0.1:0", *GATEWAY_PSK],
                          capture_output=True, env=env, timeout=60)
    assert proc.returncode == 2 and b"--accept-dtls needs --connect-udp HOST:PORT" in proc.stderr
