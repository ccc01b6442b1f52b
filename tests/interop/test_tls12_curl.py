"""curl (OpenSSL 3.0 underneath) with ``--tls-max 1.2`` against ferrotls servers.

* ``ferrotls server`` (the command line, TLS 1.3-capable by default): curl limited to
  TLS 1.2 gets TLS 1.2, per ``--ciphers`` suite the server has on by default; the
  HTTP responder's page says so.  (The command line has no option for TLS 1.2 suites
  or versions yet, so the CCM suites and a TLS 1.2-only server are the library's:)
* the library server in a thread, TLS 1.2 only (``maximum_version``), for the CCM and
  RSA suites and client certificates, and refusing curl's ``--tlsv1.3``.

Every connection is to 127.0.0.1 (``--resolve localhost:PORT:127.0.0.1``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ferrotls.config import DEFAULT_TLS12_CIPHER_SUITES, TLS12, ClientAuth
from ferrotls.connection import ServerConnection
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite

from .peers import (
    LOOPBACK,
    PKI,
    TIMEOUT,
    FerroServer,
    FerroSocket,
    ferrotls_cli_server,
    server_config,
)

pytestmark = pytest.mark.interop

S = Tls12CipherSuite
DEFAULT_ECDSA = [c for c in DEFAULT_TLS12_CIPHER_SUITES if TLS12_SUITES[c].auth == "ECDSA"]
LIBRARY_SUITES = [c for c, info in TLS12_SUITES.items()
                  if info.auth == "RSA" or (info.auth == "ECDSA" and c not in DEFAULT_ECDSA)]


def _name(code: int) -> str:
    return TLS12_SUITES[code].openssl_name


def curl(port: int, ca: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which("curl")
    if path is None:
        pytest.skip("curl is not installed")
    return subprocess.run(
        [path, "-sS", "-v", "--max-time", "10", "--cacert", str(ca), "--resolve",
         f"localhost:{port}:{LOOPBACK}", "--http1.1", *args, f"https://localhost:{port}/tls12"],
        capture_output=True, text=True, timeout=TIMEOUT,
    )


@pytest.mark.parametrize("code", DEFAULT_ECDSA, ids=_name)
def test_curl_tls12_against_ferrotls_server_cli(tmp_path: Path, code: int) -> None:
    ca = tmp_path / "ca.pem"
    with ferrotls_cli_server("--write-ca", str(ca)) as (_, port):
        done = curl(port, ca, "--tls-max", "1.2", "--ciphers", _name(code))
    assert done.returncode == 0, done.stderr
    assert f"SSL connection using TLSv1.2 / {_name(code)}" in done.stderr
    assert "TLSv1.2" in done.stdout and "GET /tls12" in done.stdout  # the responder's page


def http_once(fs: FerroSocket) -> FerroSocket:
    """Answer one HTTP/1.1 request with the negotiated version and suite, then close."""
    info = fs.handshake()
    fs.read_until(b"\r\n\r\n")
    body = f"{info.version} {TLS12_SUITES[info.cipher_suite].openssl_name}\n".encode()
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    fs.send(head + body)
    fs.close()
    return fs


@pytest.mark.parametrize("code", LIBRARY_SUITES, ids=_name)
def test_curl_tls12_against_a_tls12_only_library_server(backend: Any, pki: PKI, code: int) -> None:
    leaf = pki.server_rsa if TLS12_SUITES[code].auth == "RSA" else pki.server_p256
    sc = server_config(backend, pki, leaf, maximum_version=TLS12, tls12_cipher_suites=(code,))
    with FerroServer(lambda: ServerConnection(sc), http_once) as server:
        done = curl(server.port, pki.ca_pem, "--tls-max", "1.2", "--ciphers", _name(code))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"TLSv1.2 {_name(code)}\n"


def test_curl_client_certificate_tls12(backend: Any, pki: PKI) -> None:
    sc = server_config(backend, pki, maximum_version=TLS12, client_auth=ClientAuth.REQUIRED)
    with FerroServer(lambda: ServerConnection(sc), http_once) as server:
        done = curl(server.port, pki.ca_pem, "--tls-max", "1.2",
                    "--cert", str(pki.client_rsa.cert_pem), "--key", str(pki.client_rsa.key_pem))
    assert done.returncode == 0, done.stderr
    assert server.fs is not None
    assert server.fs.conn.info.peer_certificates[0] == pki.client_rsa.issued.der_chain()[0]


def test_curl_tls13_only_is_refused_by_a_tls12_only_server(backend: Any, pki: PKI) -> None:
    sc = server_config(backend, pki, maximum_version=TLS12)
    with FerroServer(lambda: ServerConnection(sc), http_once, expect_error=True) as server:
        done = curl(server.port, pki.ca_pem, "--tlsv1.3")
    assert done.returncode == 35, done.stderr  # CURLE_SSL_CONNECT_ERROR
    assert "protocol version" in done.stderr
    assert getattr(server.error, "description", None) == 70
