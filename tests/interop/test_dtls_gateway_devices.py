"""``ferrotls gateway --accept-dtls --connect``: DTLS devices written by others --
``openssl s_client -dtls1_2`` (RFC 7925's PSK suite) and wolfSSL's DTLS 1.3 example
client (certificates) -- through the gateway to a TLS upstream of the ``ssl`` module
that answers each 2-byte length-prefixed message; and ``--connect-udp`` with
s_client.  The smart meter -> gateway -> server path of issue 15."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from . import wolfssl
from .dtls_helpers import TIMEOUT, FramingUpstream, start_dtls_gateway
from .peers import LOOPBACK, PKI, OpenSSLProcess

pytestmark = pytest.mark.interop

PSK_ID = "meter-0007"
PSK_HEX = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"


def _log_lines(log: Path, identity: str, n: int) -> list[str]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [ln for ln in log.read_text().splitlines() if f"identity={identity}" in ln]
        if len(lines) >= n:
            return lines
        time.sleep(0.1)
    raise AssertionError(log.read_text())


def test_openssl_dtls12_device_to_tls_upstream(tmp_path: Path) -> None:
    with FramingUpstream(tmp_path) as upstream:
        gateway, port = start_dtls_gateway(
            tmp_path / "gateway.log", "--connect", f"{LOOPBACK}:{upstream.port}", "--upstream-ca",
            str(upstream.ca_pem), "--servername", "upstream.test", "--psk-identity", PSK_ID, "--psk-hex", PSK_HEX)
        try:
            with OpenSSLProcess(["s_client", "-dtls1_2", "-connect", f"{LOOPBACK}:{port}", "-psk", PSK_HEX,
                                 "-psk_identity", PSK_ID, "-cipher", "PSK-AES128-CCM8"], TIMEOUT) as device:
                device.wait_for(re.compile(rb"New, TLSv1\.2, Cipher is PSK-AES128-CCM8"))
                device.write(b"reading 1: 17.2 C\n")
                device.wait_for(b"ack:reading 1: 17.2 C\n")
                device.write(b"reading 2: 17.4 C\n")
                device.wait_for(b"ack:reading 2: 17.4 C\n")
                device.close_stdin()
                device.wait()
            (line,) = _log_lines(tmp_path / "gateway.log", f"psk:{PSK_ID}", 1)
        finally:
            gateway.terminate()
            gateway.wait(10)
    assert upstream.messages == [b"reading 1: 17.2 C\n", b"reading 2: 17.4 C\n"]
    assert upstream.connections == 1
    assert re.search(r"identity=psk:meter-0007 up=36 down=44 duration=[\d.]+s close=client closed", line), line


def test_wolfssl_dtls13_device_to_tls_upstream(wolf: Path, pki: PKI, tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "dh2048.pem").write_bytes((wolf / "certs" / "dh2048.pem").read_bytes())
    with FramingUpstream(tmp_path) as upstream:
        gateway, port = start_dtls_gateway(
            tmp_path / "gateway.log", "--connect", f"{LOOPBACK}:{upstream.port}", "--upstream-ca",
            str(upstream.ca_pem), "--servername", "upstream.test", "--cert", str(pki.server_p256.cert_pem),
            "--key", str(pki.server_p256.key_pem))
        try:
            device = subprocess.run(
                [str(wolf / "examples" / "client" / "client"), "-u", "-v", "4", "-h", LOOPBACK, "-p", str(port),
                 "-x", "-A", str(pki.ca_pem), "--cid", "wolfmeter"], cwd=tmp_path, capture_output=True, text=True,
                timeout=TIMEOUT + 10)
            (line,) = _log_lines(tmp_path / "gateway.log", "-", 1)
        finally:
            gateway.terminate()
            gateway.wait(10)
    assert device.returncode == 0, device.stdout + device.stderr
    assert "ack:" + wolfssl.CLIENT_MESSAGE.decode() in device.stdout
    assert upstream.messages == [wolfssl.CLIENT_MESSAGE]
    assert re.search(rf"up={len(wolfssl.CLIENT_MESSAGE)} down={len(wolfssl.CLIENT_MESSAGE) + 4} ", line), line


def test_openssl_dtls12_device_to_udp_backend(tmp_path: Path) -> None:
    backend = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    backend.bind((LOOPBACK, 0))
    backend.settimeout(0.2)
    stop = threading.Event()
    got: list[bytes] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                data, addr = backend.recvfrom(65536)
            except TimeoutError:
                continue
            got.append(data)
            backend.sendto(b"backend:" + data, addr)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        gateway, port = start_dtls_gateway(
            tmp_path / "gateway.log", "--connect-udp", f"{LOOPBACK}:{backend.getsockname()[1]}",
            "--psk-identity", PSK_ID, "--psk-hex", PSK_HEX, "--dtls-version", "1.2")
        try:
            with OpenSSLProcess(["s_client", "-dtls1_2", "-connect", f"{LOOPBACK}:{port}", "-psk", PSK_HEX,
                                 "-psk_identity", PSK_ID, "-cipher", "PSK-AES128-CCM8"], TIMEOUT) as device:
                device.write(b"status ok\n")
                device.wait_for(b"backend:status ok\n")
                device.close_stdin()
                device.wait()
        finally:
            gateway.terminate()
            gateway.wait(10)
    finally:
        stop.set()
        thread.join(2)
        backend.close()
    assert got == [b"status ok\n"]
