"""TLS 1.2 against GnuTLS (3.7: ``gnutls-cli``, ``gnutls-serv``), both directions.

Every ferrotls TLS 1.2 suite GnuTLS has (all but TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256),
narrowed from ``NORMAL:-VERS-ALL:+VERS-TLS1.2``; resumption by ticket and by session
id (``-r``, ``--noticket``); client certificates (``--require-client-cert``,
``--x509certfile``); record_size_limit (RFC 8449: ``--recordsize``, which GnuTLS
enforces on what it receives); RFC 5705 exporters (``--keymatexport``); ALPN; and a
rehandshake (``-e``) refused.  gnutls-serv runs in a loopback-only network namespace
(see gnutls.py).
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import pytest
from ferrotls.config import ClientAuth
from ferrotls.connection import ClientConnection, Connection, ConnectionState, ServerConnection
from ferrotls.errors import AlertReceived
from ferrotls.psk import ExternalPsk
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite
from ferrotls.tickets import SessionCache, SessionIdCache, TicketKeyManager

from helpers_tls import split_records

from .gnutls import cli_args, connect_in_namespace, gnutls_cli, gnutls_serv, priority
from .peers import (
    LOOPBACK,
    PKI,
    SERVER_NAME,
    TIMEOUT,
    FerroSocket,
    Leaf,
    client_config,
    echo_handler,
    server_config,
)

pytestmark = pytest.mark.interop

S = Tls12CipherSuite
PSK = ExternalPsk(b"iot-device-9", bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0" * 2))
#: ferrotls suite -> (GnuTLS key exchange, GnuTLS cipher)
GNUTLS_SUITES: dict[int, tuple[str, str]] = {
    S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: ("ECDHE-ECDSA", "AES-128-GCM"),
    S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: ("ECDHE-ECDSA", "AES-256-GCM"),
    S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: ("ECDHE-ECDSA", "CHACHA20-POLY1305"),
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM: ("ECDHE-ECDSA", "AES-128-CCM"),
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8: ("ECDHE-ECDSA", "AES-128-CCM-8"),
    S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: ("ECDHE-RSA", "AES-128-GCM"),
    S.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: ("ECDHE-RSA", "AES-256-GCM"),
    S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: ("ECDHE-RSA", "CHACHA20-POLY1305"),
    S.TLS_PSK_WITH_AES_128_GCM_SHA256: ("PSK", "AES-128-GCM"),
    S.TLS_PSK_WITH_AES_128_CCM_8: ("PSK", "AES-128-CCM-8"),
    S.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256: ("ECDHE-PSK", "CHACHA20-POLY1305"),
}
RESUMED = re.compile(rb"This is a resumed session")


def _name(code: int) -> str:
    return TLS12_SUITES[code].openssl_name


def _leaf(pki: PKI, code: int) -> Leaf:
    return pki.server_rsa if TLS12_SUITES[code].auth == "RSA" else pki.server_p256


def _psk_lookup(identity: bytes) -> ExternalPsk | None:
    return PSK if identity == PSK.identity else None


def _serv_identity(pki: PKI, code: int, tmp_path: Path) -> list[str]:
    leaf = _leaf(pki, code)
    args = ["--x509certfile", str(leaf.cert_pem), "--x509keyfile", str(leaf.key_pem)]
    if TLS12_SUITES[code].auth == "PSK":
        passwd = tmp_path / "psk.passwd"
        passwd.write_text(f"{PSK.identity.decode()}:{PSK.key.hex()}\n")
        args += ["--pskpasswd", str(passwd)]
    return args


def _cli_psk(code: int) -> list[str]:
    if TLS12_SUITES[code].auth != "PSK":
        return []
    return ["--pskusername", PSK.identity.decode(), "--pskkey", PSK.key.hex()]


class FerroServers:
    """Accept ``count`` connections on 127.0.0.1:0 one after the other (a daemon
    thread), each served by ``handler``; the FerroSockets are kept in ``done``."""

    def __init__(self, make_conn: Callable[[], Connection], count: int = 1,
                 handler: Callable[[FerroSocket], Any] = echo_handler) -> None:
        self.make_conn = make_conn
        self.count = count
        self.handler = handler
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(TIMEOUT)
        self.port: int = self.listener.getsockname()[1]
        self.done: list[FerroSocket] = []
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for _ in range(self.count):
            try:
                sock, _ = self.listener.accept()
            except OSError as exc:
                self.errors.append(exc)
                return
            fs = FerroSocket(self.make_conn(), sock)
            try:
                self.handler(fs)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                self.errors.append(exc)
            finally:
                self.done.append(fs)
                fs.shutdown()

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(TIMEOUT + 5)
        self.listener.close()


def _ferro_server(backend: Any, pki: PKI, code: int | None = None, **kw: Any) -> Any:
    if code is not None:
        kw.setdefault("tls12_cipher_suites", (code,))
        if TLS12_SUITES[code].auth == "PSK":
            kw.setdefault("psk_callback", _psk_lookup)
        kw.setdefault("certificates", (_leaf(pki, code).certified,))
    return server_config(backend, pki, **kw)


def _talk_to_serv(fs: FerroSocket, tag: str = "x") -> None:
    """gnutls-serv --echo sends every line back."""
    fs.send(f"from-ferrotls-{tag}\n".encode())
    fs.read_until(f"from-ferrotls-{tag}\n".encode())


def _close(fs: FerroSocket) -> None:
    fs.close()
    fs.wait_closed()
    assert fs.conn.state is ConnectionState.CLOSED
    fs.shutdown()


# --------------------------------------------------------------------------- every suite


@pytest.mark.parametrize("code", list(GNUTLS_SUITES), ids=_name)
def test_ferrotls_client_to_gnutls_serv(backend: Any, pki: PKI, tmp_path: Path, code: int) -> None:
    kx, cipher = GNUTLS_SUITES[code]
    psk = {"external_psks": (PSK,)} if TLS12_SUITES[code].auth == "PSK" else {}
    args = ["--echo", *_serv_identity(pki, code, tmp_path), "--priority", priority(kx, cipher)]
    with gnutls_serv(*args) as serv:
        cfg = client_config(backend, pki, tls12_cipher_suites=(code,), **psk)  # 1.3-capable
        fs = FerroSocket(ClientConnection(cfg, SERVER_NAME), connect_in_namespace(serv))
        info = fs.handshake()
        assert (info.version, info.cipher_suite) == ("TLSv1.2", code)
        _talk_to_serv(fs)
        fs.send(b"z" * 30_000 + b"\n")  # several records each way
        assert fs.read_until(b"z" * 30_000 + b"\n").endswith(b"z" * 30_000 + b"\n")
        serv.wait_for(f"({cipher})".encode())
        serv.wait_for(b"extended master secret")
        _close(fs)


def _handshake_only(fs: FerroSocket) -> FerroSocket:
    fs.handshake()
    return fs


def test_gnutls_cli_ecdhe_psk_to_ferrotls_server(backend: Any, pki: PKI) -> None:
    """gnutls-cli 3.7.9 crashes (SIGSEGV) right after an ECDHE-PSK handshake, against
    openssl s_server just as against ferrotls, before it prints the session or sends
    data: only the handshake, seen from our side, is checked."""
    code = S.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
    kx, cipher = GNUTLS_SUITES[code]
    sc = _ferro_server(backend, pki, code)
    with FerroServers(lambda: ServerConnection(sc), handler=_handshake_only) as servers:
        args = cli_args(pki.ca_pem, "--priority", priority(kx, cipher), *_cli_psk(code))
        with gnutls_cli(servers.port, *args) as cli:
            rc = cli.wait()
    assert not servers.errors, servers.errors
    (fs,) = servers.done
    info = fs.conn.info
    assert (info.version, info.cipher_suite, info.psk_identity) == ("TLSv1.2", code, PSK.identity)
    assert rc in (0, -11), cli.text  # -11: the GnuTLS crash (rc 0 once it is fixed)


@pytest.mark.parametrize(
    "code", [c for c in GNUTLS_SUITES if c != S.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256],
    ids=_name,
)
def test_gnutls_cli_to_ferrotls_server(backend: Any, pki: PKI, code: int) -> None:
    kx, cipher = GNUTLS_SUITES[code]
    sc = _ferro_server(backend, pki, code)
    with FerroServers(lambda: ServerConnection(sc)) as servers:
        args = cli_args(pki.ca_pem, "--priority", priority(kx, cipher), *_cli_psk(code))
        with gnutls_cli(servers.port, *args) as cli:
            cli.wait_for(b"Handshake was completed")
            cli.wait_for(b"(TLS1.2-")
            cli.wait_for(f"({cipher})".encode())
            cli.write(b"w" * 10_000 + b"\n")
            cli.wait_for(b"echo:" + b"w" * 1000)
            cli.close_stdin()
            cli.wait()
    assert not servers.errors, servers.errors
    (fs,) = servers.done
    info = fs.conn.info
    assert (info.version, info.cipher_suite) == ("TLSv1.2", code)
    assert bytes(fs.data) == b"w" * 10_000 + b"\n"


# --------------------------------------------------------------------------- resumption


@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_ferrotls_client_resumes_with_gnutls_serv(
    backend: Any, pki: PKI, tmp_path: Path, tickets: bool
) -> None:
    code = S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    extra = [] if tickets else ["--noticket"]
    cache = SessionCache()
    args = ["--echo", *_serv_identity(pki, code, tmp_path), "--priority", priority(), *extra]
    with gnutls_serv(*args) as serv:
        cfg = client_config(backend, pki, session_cache=cache)
        for i in range(3):
            fs = FerroSocket(ClientConnection(cfg, SERVER_NAME), connect_in_namespace(serv))
            info = fs.handshake()
            assert info.resumed == (i > 0), i
            _talk_to_serv(fs, str(i))
            _close(fs)
        assert serv.text.count("This is a resumed session") == 2


@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_gnutls_cli_resumes_with_ferrotls_server(backend: Any, pki: PKI, tickets: bool) -> None:
    sc = server_config(backend, pki, ticket_count=1 if tickets else 0,
                       ticket_keys=TicketKeyManager(), session_id_cache=SessionIdCache())
    extra = [] if tickets else ["--noticket"]
    with FerroServers(lambda: ServerConnection(sc), count=2) as servers:
        args = cli_args(pki.ca_pem, "-r", "--priority", priority(), *extra)
        with gnutls_cli(servers.port, *args) as cli:
            cli.wait_for(RESUMED)
            cli.write(b"resumed\n")
            cli.wait_for(b"echo:resumed")
            cli.close_stdin()
            cli.wait()
    assert not servers.errors, servers.errors
    first, second = servers.done
    assert not first.conn.info.resumed and second.conn.info.resumed


# --------------------------------------------------------------------------- client certificates


@pytest.mark.parametrize("leaf_name", ["client_p256", "client_rsa"])
def test_client_certificate_to_gnutls_serv(
    backend: Any, pki: PKI, tmp_path: Path, leaf_name: str
) -> None:
    code = S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    leaf = getattr(pki, leaf_name)
    args = ["--echo", *_serv_identity(pki, code, tmp_path), "--priority", priority(),
            "--require-client-cert", "--verify-client-cert", "--x509cafile", str(pki.ca_pem)]
    with gnutls_serv(*args) as serv:
        cfg = client_config(backend, pki, certificate=leaf.certified)
        fs = FerroSocket(ClientConnection(cfg, SERVER_NAME), connect_in_namespace(serv))
        fs.handshake()
        _talk_to_serv(fs)
        serv.wait_for(b"Certificate[0] info:")
        _close(fs)


def test_client_without_certificate_refused_by_gnutls_serv(
    backend: Any, pki: PKI, tmp_path: Path
) -> None:
    code = S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    args = ["--echo", *_serv_identity(pki, code, tmp_path), "--priority", priority(),
            "--require-client-cert", "--x509cafile", str(pki.ca_pem)]
    with gnutls_serv(*args) as serv:
        conn = ClientConnection(client_config(backend, pki), SERVER_NAME)
        fs = FerroSocket(conn, connect_in_namespace(serv))
        with pytest.raises((AlertReceived, EOFError)):
            fs.handshake()
            fs.wait_for(lambda: False, "the server's refusal")
        fs.shutdown()


@pytest.mark.parametrize("leaf_name", ["client_p256", "client_rsa"])
def test_gnutls_cli_certificate_to_ferrotls(backend: Any, pki: PKI, leaf_name: str) -> None:
    leaf = getattr(pki, leaf_name)
    sc = server_config(backend, pki, client_auth=ClientAuth.REQUIRED)
    with FerroServers(lambda: ServerConnection(sc)) as servers:
        args = cli_args(pki.ca_pem, "--priority", priority(), "--x509certfile", str(leaf.cert_pem),
                        "--x509keyfile", str(leaf.key_pem))
        with gnutls_cli(servers.port, *args) as cli:
            cli.wait_for(b"Handshake was completed")
            cli.write(b"certified\n")
            cli.wait_for(b"echo:certified")
            cli.close_stdin()
            cli.wait()
    assert not servers.errors, servers.errors
    (fs,) = servers.done
    assert fs.conn.info.peer_certificates[0] == leaf.issued.der_chain()[0]


# --------------------------------------------------------------------------- extensions, exporters


@pytest.mark.parametrize("limit", [512, 1024])
def test_record_size_limit_from_gnutls_serv(
    backend: Any, pki: PKI, tmp_path: Path, limit: int
) -> None:
    """gnutls-serv advertises ``--recordsize`` and refuses larger records: ferrotls'
    records fit (a line of 3000 bytes and its echo); GnuTLS honours ours too.
    (GnuTLS ignores limits below 512, so ours is 1000.)"""
    code = S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    args = ["--echo", *_serv_identity(pki, code, tmp_path), "--priority", priority(),
            "--recordsize", str(limit)]
    with gnutls_serv(*args) as serv:
        cfg = client_config(backend, pki, record_size_limit=1000)
        fs = FerroSocket(ClientConnection(cfg, SERVER_NAME), connect_in_namespace(serv))
        info = fs.handshake()
        assert info.record_size_limit == limit
        fs.send(b"r" * 3000 + b"\n")
        assert fs.read_until(b"\n") == b"r" * 3000 + b"\n"
        _close(fs)


@pytest.mark.parametrize("limit", [512, 2048])
def test_record_size_limit_from_gnutls_cli(backend: Any, pki: PKI, limit: int) -> None:
    """gnutls-cli's ``--recordsize`` (512 .. 4096).  Our own limit is 2^14 (a GnuTLS
    client refuses a server's limit below 512 with illegal_parameter, and reads no more
    of its stdin at a time than the smaller of the two limits)."""
    sc = server_config(backend, pki, record_size_limit=16384)
    # lines just below the limit, whose echoes ("echo:" + line) are above it: split
    lines = [b"%d" % i + b"q" * (limit - 3) + b"\n" for i in range(3)]
    with FerroServers(lambda: ServerConnection(sc)) as servers:
        args = cli_args(pki.ca_pem, "--priority", priority(), "--recordsize", str(limit))
        with gnutls_cli(servers.port, *args) as cli:
            cli.wait_for(b"Handshake was completed")
            for line in lines:
                cli.write(line)
                cli.wait_for(b"echo:" + line)
            cli.close_stdin()
            cli.wait()
    assert not servers.errors, servers.errors
    (fs,) = servers.done
    assert fs.conn.info.record_size_limit == limit
    assert bytes(fs.data) == b"".join(lines)
    # every record ferrotls wrote fits: 5-byte header, explicit nonce, tag (AES-GCM)
    sizes = [len(r) - 5 - 8 - 16 for t, r in split_records(bytes(fs.raw_out)) if t == 23]
    assert sizes and max(sizes) == limit


def test_exporter_with_gnutls_cli(backend: Any, pki: PKI) -> None:
    label = "EXPERIMENTAL-ferrotls-gnutls"
    sc = server_config(backend, pki)
    with FerroServers(lambda: ServerConnection(sc)) as servers:
        args = cli_args(pki.ca_pem, "--priority", priority(), "--keymatexport", label,
                        "--keymatexportsize", "32")
        with gnutls_cli(servers.port, *args) as cli:
            m = cli.wait_for(re.compile(rb"Key material: ([0-9a-f]+)"))
            cli.close_stdin()
            cli.wait()
    (fs,) = servers.done
    assert fs.conn.export_keying_material(label.encode(), None, 32).hex() == m.group(1).decode()


def test_alpn_with_gnutls_serv(backend: Any, pki: PKI, tmp_path: Path) -> None:
    code = S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    args = ["--echo", *_serv_identity(pki, code, tmp_path), "--priority", priority(),
            "--alpn", "http/1.1"]
    with gnutls_serv(*args) as serv:
        cfg = client_config(backend, pki, alpn_protocols=("h2", "http/1.1"))
        fs = FerroSocket(ClientConnection(cfg, SERVER_NAME), connect_in_namespace(serv))
        assert fs.handshake().alpn_protocol == "http/1.1"
        _talk_to_serv(fs)
        _close(fs)


def test_alpn_from_gnutls_cli(backend: Any, pki: PKI) -> None:
    sc = server_config(backend, pki, alpn_protocols=("h2", "http/1.1"))
    with FerroServers(lambda: ServerConnection(sc)) as servers:
        args = cli_args(pki.ca_pem, "--priority", priority(), "--alpn", "http/1.1")
        with gnutls_cli(servers.port, *args) as cli:
            cli.wait_for(b"- Application protocol: http/1.1")
            cli.close_stdin()
            cli.wait()
    (fs,) = servers.done
    assert fs.conn.info.alpn_protocol == "http/1.1"


@pytest.mark.parametrize("fatal", [False, True])
def test_gnutls_cli_rehandshake_refused(backend: Any, pki: PKI, fatal: bool) -> None:
    """``gnutls-cli -e`` renegotiates right after the handshake, and asks again at
    every no_renegotiation warning (GnuTLS takes it as non-fatal).  ferrotls refuses
    Limits.max_renegotiation_requests (3) times with the warning, then ends the loop
    with a fatal handshake_failure; with fatal_on_renegotiation the first request
    gets the fatal alert."""
    sc = server_config(backend, pki, fatal_on_renegotiation=fatal)
    with FerroServers(lambda: ServerConnection(sc)) as servers:
        with gnutls_cli(servers.port, *cli_args(pki.ca_pem, "-e", "--priority", priority())) as cli:
            cli.wait_for(b"Handshake was completed")
            cli.wait_for(b"Received alert [40]")
            cli.wait()
    warnings = cli.text.count("*** Received alert [100]: No renegotiation is allowed")
    assert warnings == (0 if fatal else 3), cli.text
    assert "ReHandshake was completed" not in cli.text
    (fs,) = servers.done
    assert fs.conn.info.version == "TLSv1.2"
    (error,) = servers.errors
    assert getattr(error, "description", None) == 40
    assert ("more than 3 times" in str(error)) is not fatal
