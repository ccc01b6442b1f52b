"""The blocking DTLS client (``ferrotls.dtls_connect``) against servers written by
others: ``openssl s_server -dtls1_2`` (its HelloVerifyRequest, PSK with CCM_8 and
ECDHE-ECDSA, a line each way) and wolfSSL's DTLS 1.3 example server (its
stateless HelloRetryRequest cookie, certificates and PSK, its greeting back)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

import ferrotls
from ferrotls.config import ClientConfig
from ferrotls.dtls import DTLSConfig
from ferrotls.dtls.config import DTLS_1_2
from ferrotls.psk import ExternalPsk

from . import wolfssl
from .dtls_helpers import TIMEOUT, free_udp_port, wait_udp_listener
from .peers import LOOPBACK, PKI, SERVER_NAME, OpenSSLProcess
from .test_dtls13_wolfssl_handshake import PSK_IDENTITY, wolfssl_tls13_psk

pytestmark = pytest.mark.interop

OPENSSL_PSK = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")


@pytest.mark.parametrize("auth", ["psk", "ecdsa"])
def test_dtls_connect_to_openssl_s_server(backend: Any, pki: PKI, auth: str) -> None:
    port = free_udp_port()
    if auth == "psk":
        args = ["-nocert", "-psk", OPENSSL_PSK.hex(), "-cipher", "PSK-AES128-CCM8"]
        config = ClientConfig(backend=backend, verifier=pki.verifier(), tls12_cipher_suites=(0xC0A8,),
                              external_psks=(ExternalPsk(b"Client_identity", OPENSSL_PSK),))
        suite = 0xC0A8
    else:
        args = ["-cert", str(pki.server_p256.cert_pem), "-key", str(pki.server_p256.key_pem),
                "-cipher", "ECDHE-ECDSA-AES128-CCM8"]
        config = ClientConfig(backend=backend, verifier=pki.verifier(), tls12_cipher_suites=(0xC0AE,))
        suite = 0xC0AE
    with OpenSSLProcess(["s_server", "-dtls1_2", "-accept", f"{LOOPBACK}:{port}", "-naccept", "1", *args]) as server:
        server.wait_for(b"ACCEPT")
        wait_udp_listener(port, server.proc)
        with ferrotls.dtls_connect(config, (LOOPBACK, port), server_hostname=SERVER_NAME,
                                   dtls=DTLSConfig(versions=(DTLS_1_2,)), timeout=TIMEOUT) as sock:
            info = sock.info
            assert info is not None and info.version == "DTLSv1.2" and info.cipher_suite == suite
            sock.send(b"from the blocking client\n")
            server.wait_for(b"from the blocking client")
            server.write(b"from openssl\n")
            assert sock.recv() == b"from openssl\n"
        server.wait_for(b"DONE")  # our close_notify ended s_server's session


@pytest.mark.parametrize("auth", ["psk", "cert"])
def test_dtls_connect_to_wolfssl_dtls13(wolf: Path, backend: Any, pki: PKI, tmp_path: Path, auth: str) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "dh2048.pem").write_bytes((wolf / "certs" / "dh2048.pem").read_bytes())
    port = free_udp_port()
    args = [str(wolf / "examples" / "server" / "server"), "-u", "-v", "4", "-l", "TLS13-AES128-CCM-8-SHA256",
            "-p", str(port), "-d"]
    kw: dict[str, Any] = {"backend": backend, "verifier": pki.verifier(), "cipher_suites": (0x1305,)}
    if auth == "psk":
        args.append("-s")
        kw["external_psks"] = (ExternalPsk(PSK_IDENTITY, wolfssl_tls13_psk()),)
    else:
        args += ["-c", str(pki.server_p256.cert_pem), "-k", str(pki.server_p256.key_pem)]
    server = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_udp_listener(port, server)
        with ferrotls.dtls_connect(ClientConfig(**kw), (LOOPBACK, port), server_hostname=SERVER_NAME,
                                   timeout=TIMEOUT) as sock:
            info = sock.info
            assert info is not None and info.version == "DTLSv1.3" and info.cipher_suite == 0x1305
            assert (info.psk_identity == PSK_IDENTITY) == (auth == "psk")
            assert info.stats is not None and info.stats.hello_retry  # wolfSSL's stateless cookie
            sock.send(wolfssl.CLIENT_MESSAGE)
            assert sock.recv() == wolfssl.SERVER_MESSAGE
        out, _ = server.communicate(timeout=TIMEOUT)
        assert server.returncode == 0, out
        assert wolfssl.CLIENT_MESSAGE.decode() in out
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
