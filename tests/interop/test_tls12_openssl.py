"""TLS 1.2 against the ``openssl`` CLI (3.0), both directions, on 127.0.0.1.

* ferrotls client -> ``openssl s_server -tls1_2 -cipher SUITE`` (echo mode; ``R`` on its
  stdin asks for renegotiation);
* ``openssl s_client -tls1_2 -cipher SUITE`` -> a threaded ferrotls server
  (``peers.FerroServer``) that echoes with an ``echo:`` prefix.

Every TLS 1.2 suite OpenSSL implements (all of ferrotls' but
TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, RFC 8442, which OpenSSL lacks), PSK with
``-psk``/``-psk_identity``/``-psk_hint``, resumption with tickets and session ids
(``-sess_out``/``-sess_in``, ``-no_ticket``), client certificates (``-Verify 1``,
PKCS#1 v1.5 through ``-sigalgs``), exporters (``-keymatexport``), the version
choice, the downgrade sentinel and TLS_FALLBACK_SCSV, and renegotiation refused.
ferrotls clients here are TLS 1.3-capable unless a test says otherwise: facing a
TLS 1.2-only s_server they negotiate TLS 1.2.
"""

from __future__ import annotations

import re
import ssl
import time
from pathlib import Path
from typing import Any

import pytest
from ferrotls.config import TLS12, TLS13, ClientAuth
from ferrotls.connection import ClientConnection, ConnectionState, ServerConnection
from ferrotls.errors import AlertReceived, HandshakeFailure, InappropriateFallback, ProtocolVersionError
from ferrotls.messages import extensions as ext
from ferrotls.psk import ExternalPsk
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite
from ferrotls.tickets import SessionCache, SessionIdCache, TicketKeyManager
from helpers_tls12 import plain_messages

from .peers import (
    PKI,
    SERVER_NAME,
    FerroServer,
    FerroSocket,
    Leaf,
    client_config,
    connect,
    echo_handler,
    openssl_client,
    openssl_server,
    server_config,
)

pytestmark = [pytest.mark.interop, pytest.mark.usefixtures("openssl_bin")]

S = Tls12CipherSuite
PSK = ExternalPsk(b"iot-device-7", bytes.fromhex("a1b2c3d4e5f60718293a4b5c6d7e8f90" * 2))
#: OpenSSL has every ferrotls TLS 1.2 suite but 0xD001 (RFC 8442)
OPENSSL_SUITES = [code for code in TLS12_SUITES if code != S.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256]
DOWNGRADE_TLS12 = b"DOWNGRD\x01"
NEW = re.compile(rb"New, TLSv1\.2, Cipher is ")
REUSED = re.compile(rb"Reused, TLSv1\.2, Cipher is ")
VERIFIED = re.compile(rb"Verify return code: 0 \(ok\)")


def _name(code: int) -> str:
    return TLS12_SUITES[code].openssl_name


def _leaf(pki: PKI, code: int) -> Leaf:
    return pki.server_rsa if TLS12_SUITES[code].auth == "RSA" else pki.server_p256


def _psk_lookup(identity: bytes) -> ExternalPsk | None:
    return PSK if identity == PSK.identity else None


def s_server_args(pki: PKI, code: int, *extra: str) -> list[str]:
    """s_server options serving ``code`` (a certificate or the PSK)."""
    if TLS12_SUITES[code].auth == "PSK":
        ident = ["-psk", PSK.key.hex(), "-psk_identity", PSK.identity.decode(), "-nocert"]
    else:
        leaf = _leaf(pki, code)
        ident = ["-cert", str(leaf.cert_pem), "-key", str(leaf.key_pem)]
    return [*ident, "-cipher", f"{_name(code)}:@SECLEVEL=0", *extra]


def s_client_args(pki: PKI, code: int | None = None, *extra: str) -> list[str]:
    out = ["-CAfile", str(pki.ca_pem), "-servername", SERVER_NAME, "-verify_return_error"]
    if code is not None:
        out += ["-cipher", f"{_name(code)}:@SECLEVEL=0"]
        if TLS12_SUITES[code].auth == "PSK":
            out += ["-psk", PSK.key.hex(), "-psk_identity", PSK.identity.decode()]
    return [*out, *extra]


def converse(server: Any, fs: FerroSocket, tag: str = "x") -> None:
    """A line each way through s_server's echo mode, then several full records."""
    fs.send(f"from-ferrotls-{tag}\n".encode())
    server.wait_for(f"from-ferrotls-{tag}".encode())
    server.write(f"from-openssl-{tag}\n".encode())
    fs.read_until(f"from-openssl-{tag}\n".encode())


def close(server: Any, fs: FerroSocket) -> None:
    fs.close()
    fs.wait_closed()
    assert fs.conn.state is ConnectionState.CLOSED
    assert server.wait() == 0
    fs.shutdown()


def _ferro_server(backend: Any, pki: PKI, code: int | None = None, **kw: Any) -> Any:
    if code is not None:
        kw.setdefault("tls12_cipher_suites", (code,))
        if TLS12_SUITES[code].auth == "PSK":
            kw.setdefault("psk_callback", _psk_lookup)
        kw.setdefault("certificates", (_leaf(pki, code).certified,))
    return server_config(backend, pki, **kw)


# --------------------------------------------------------------------------- every suite, both ways


@pytest.mark.parametrize("code", OPENSSL_SUITES, ids=_name)
def test_ferrotls_client_to_s_server(backend: Any, pki: PKI, code: int) -> None:
    info12 = TLS12_SUITES[code]
    psk = {"external_psks": (PSK,)} if info12.auth == "PSK" else {}
    with openssl_server(*s_server_args(pki, code), version="-tls1_2") as (server, port):
        cfg = client_config(backend, pki, tls12_cipher_suites=(code,), **psk)  # 1.3-capable
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        info = fs.handshake()
        assert (info.version, info.cipher_suite) == ("TLSv1.2", code)
        assert info.psk_identity == (PSK.identity if psk else None)
        server.wait_for(f"CIPHER is {_name(code)}".encode())
        converse(server, fs)
        fs.send(b"b" * 40_000 + b"\n")  # several full records each way
        server.wait_for(b"b" * 1000 + b"\n")
        server.write(b"c" * 40_000 + b"\n")
        assert fs.read_until(b"c" * 1000 + b"\n").count(b"c" * 40_000 + b"\n") == 1
        close(server, fs)


@pytest.mark.parametrize("code", OPENSSL_SUITES, ids=_name)
def test_s_client_to_ferrotls_server(backend: Any, pki: PKI, code: int) -> None:
    sc = _ferro_server(backend, pki, code)
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        with openssl_client(server.port, *s_client_args(pki, code), version="-tls1_2") as proc:
            proc.wait_for(NEW)
            proc.wait_for(f"Cipher is {_name(code)}".encode())
            proc.wait_for(b"Extended master secret: yes")
            if TLS12_SUITES[code].auth != "PSK":
                proc.wait_for(VERIFIED)
            proc.write(b"y" * 20_000 + b"\n")  # two reads of s_client's stdin, two records
            proc.wait_for(b"echo:" + b"y" * 1000)
            proc.wait_for(b"yyyy\n")  # the end of the second echo
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None and server.fs.peer_closed
    info = server.fs.conn.info
    assert (info.version, info.cipher_suite) == ("TLSv1.2", code)
    assert bytes(server.fs.data) == b"y" * 20_000 + b"\n"


def test_client_picks_the_psk_by_the_identity_hint(backend: Any, pki: PKI) -> None:
    """RFC 4279 section 5.1: s_server's identity hint names the PSK to use."""
    code = S.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
    decoy = ExternalPsk(b"decoy", bytes(32))
    args = s_server_args(pki, code, "-psk_hint", PSK.identity.decode())
    with openssl_server(*args, version="-tls1_2") as (server, port):
        cfg = client_config(backend, pki, tls12_cipher_suites=(code,), external_psks=(decoy, PSK))
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        assert fs.handshake().psk_identity == PSK.identity
        converse(server, fs)
        close(server, fs)


@pytest.mark.parametrize("kind", ["p384", "rsa_pkcs1"])
def test_server_key_exchange_signatures_from_s_server(backend: Any, pki: PKI, kind: str) -> None:
    """A P-384 certificate, and RSA PKCS#1 v1.5 (allowed in TLS 1.2) when that is all
    the client offers."""
    if kind == "p384":
        leaf, code = pki.server_p384, S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        schemes, expected = None, None
    else:
        leaf, code = pki.server_rsa, S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        schemes, expected = (0x0401,), 0x0401
    args = ["-cert", str(leaf.cert_pem), "-key", str(leaf.key_pem), "-cipher", _name(code)]
    with openssl_server(*args, version="-tls1_2") as (server, port):
        kw = {"signature_schemes": schemes} if schemes else {}
        fs = connect(ClientConnection(client_config(backend, pki, **kw), SERVER_NAME), port)
        info = fs.handshake()
        assert info.cipher_suite == code
        if expected is not None:
            assert info.signature_scheme == expected
        else:  # TLS 1.2 ECDSA is not bound to the curve: the client's first ECDSA scheme,
            assert info.signature_scheme == 0x0403  # as ferrotls' server picks it too
        converse(server, fs)
        close(server, fs)


@pytest.mark.parametrize("group,name", [(0x001D, "X25519"), (0x0017, "P-256"), (0x0018, "P-384")])
def test_ecdhe_groups_with_s_server(backend: Any, pki: PKI, group: int, name: str) -> None:
    args = s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "-groups", name)
    with openssl_server(*args, version="-tls1_2") as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        assert fs.handshake().group == group
        converse(server, fs)
        close(server, fs)


# --------------------------------------------------------------------------- versions


def test_tls13_capable_client_negotiates_tls12_with_a_tls12_only_server(
    backend: Any, pki: PKI
) -> None:
    with openssl_server(*s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
                        version="-tls1_2") as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        assert fs.handshake().version == "TLSv1.2"
        assert DOWNGRADE_TLS12 not in bytes(fs.raw_in)  # a TLS 1.2-only server does not mark
        converse(server, fs)
        close(server, fs)


def test_tls13_only_client_refuses_a_tls12_only_server(backend: Any, pki: PKI) -> None:
    with openssl_server(*s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
                        version="-tls1_2") as (server, port):
        cfg = client_config(backend, pki, minimum_version=TLS13)
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        with pytest.raises(AlertReceived) as exc:
            fs.handshake()
        assert exc.value.description == 70  # protocol_version
        server.wait_for(b"unsupported protocol")
        fs.shutdown()


def test_openssl_marks_its_random_and_a_tls12_client_accepts(backend: Any, pki: PKI) -> None:
    """OpenSSL (TLS 1.3-capable) negotiating TLS 1.2 sets the RFC 8446 sentinel; a
    TLS 1.2-only ferrotls client sees it and goes on."""
    with openssl_server(*s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
                        version="") as (server, port):
        cfg = client_config(backend, pki, maximum_version=TLS12)
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        assert fs.handshake().version == "TLSv1.2"
        # ServerHello.random is at bytes 11..43 of the first record
        assert bytes(fs.raw_in[11:43])[-8:] == DOWNGRADE_TLS12
        converse(server, fs)
        close(server, fs)


def test_s_client_tls12_to_a_tls13_only_ferrotls_server(backend: Any, pki: PKI) -> None:
    sc = server_config(backend, pki, minimum_version=TLS13)
    with FerroServer(lambda: ServerConnection(sc), echo_handler, expect_error=True) as server:
        with openssl_client(server.port, *s_client_args(pki), version="-tls1_2") as proc:
            proc.wait_for(b"alert protocol version")
            proc.wait()
    assert isinstance(server.error, ProtocolVersionError)


def test_fallback_scsv_from_s_client(backend: Any, pki: PKI) -> None:
    """RFC 7507: ``s_client -tls1_2 -fallback_scsv`` to a TLS 1.3-capable ferrotls server."""
    sc = server_config(backend, pki)
    with FerroServer(lambda: ServerConnection(sc), echo_handler, expect_error=True) as server:
        with openssl_client(server.port, *s_client_args(pki, None, "-fallback_scsv"),
                            version="-tls1_2") as proc:
            proc.wait_for(b"inappropriate fallback")
            proc.wait()
    assert isinstance(server.error, InappropriateFallback)


def test_fallback_scsv_to_s_server(backend: Any, pki: PKI) -> None:
    """The other way: OpenSSL (TLS 1.3-capable) refuses our TLS 1.2-only ClientHello with
    the SCSV; without it the same client is served."""
    def hook(hello: Any) -> Any:
        hello.cipher_suites.append(0x5600)
        return hello

    with openssl_server(*s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
                        version="") as (server, port):
        cfg = client_config(backend, pki, maximum_version=TLS12, client_hello_hook=hook)
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        with pytest.raises(AlertReceived) as exc:
            fs.handshake()
        assert exc.value.description == 86  # inappropriate_fallback
        fs.shutdown()


# --------------------------------------------------------------------------- resumption


@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_ferrotls_client_resumes_with_s_server(backend: Any, pki: PKI, tickets: bool) -> None:
    extra = [] if tickets else ["-no_ticket"]
    args = s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, *extra)
    cache = SessionCache()
    cfg = client_config(backend, pki, session_cache=cache)
    with openssl_server(*args, version="-tls1_2", naccept=3) as (server, port):
        for i in range(3):
            fs = connect(ClientConnection(cfg, SERVER_NAME), port)
            info = fs.handshake()
            assert info.resumed == (i > 0)
            session = cache.peek(SERVER_NAME, time.time())
            assert session is not None and session.version == TLS12
            assert bool(session.ticket) == tickets and bool(session.session_id) == (not tickets)
            converse(server, fs, str(i))
            fs.close()
            fs.wait_closed()
            fs.shutdown()
        assert server.wait() == 0


@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_context_socket_session_resumes_with_s_server(pki: PKI, tickets: bool) -> None:
    """The ssl-shaped API over TLS 1.2: ``TLSSocket.session`` from one connection,
    ``wrap_socket(session=...)`` on the next; ``s_server -no_ticket`` resumes by
    session id (``session.id`` is the id it gave), and ``session_reused`` says so."""
    import socket

    import ferrotls

    extra = [] if tickets else ["-no_ticket"]
    args = s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, *extra)
    ctx = ferrotls.Context(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(pki.ca_pem))
    session = None
    with openssl_server(*args, version="-tls1_2", naccept=3) as (server, port):
        for i in range(3):
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            with ctx.wrap_socket(raw, server_hostname=SERVER_NAME, session=session) as tls:
                assert tls.version() == "TLSv1.2" and tls.session_reused == (i > 0)
                new = tls.session
                assert new is not None and new.has_ticket == tickets
                if i > 0 and not tickets:
                    assert new == session and new.id == session.id
                session = new
                tls.sendall(f"line-{i}\n".encode())
                server.wait_for(f"line-{i}".encode())
                tls.unwrap()
        assert server.wait() == 0
    assert server.output.count(b"Reused session-id") == 2
    assert ctx.session_stats()["hits"] == 2


@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_s_client_resumes_with_ferrotls_server(
    backend: Any, pki: PKI, tmp_path: Path, tickets: bool
) -> None:
    """``s_client -sess_out`` then ``-sess_in`` (``-no_ticket``: a session id from our cache)."""
    sc = server_config(backend, pki, ticket_count=1 if tickets else 0,
                       ticket_keys=TicketKeyManager(), session_id_cache=SessionIdCache())
    sess = tmp_path / "sess.pem"
    extra = [] if tickets else ["-no_ticket"]
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        with openssl_client(server.port, *s_client_args(pki, None, "-sess_out", str(sess), *extra),
                            version="-tls1_2") as proc:
            proc.wait_for(NEW)
            proc.write(b"first\n")
            proc.wait_for(b"echo:first")
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None and not server.fs.conn.info.resumed
    for round_ in ("second", "third"):
        with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
            args = s_client_args(pki, None, "-sess_in", str(sess), *extra)
            with openssl_client(server.port, *args, version="-tls1_2") as proc:
                proc.wait_for(REUSED)
                proc.write(f"{round_}\n".encode())
                proc.wait_for(f"echo:{round_}".encode())
                proc.write(b"Q\n")
                assert proc.wait() == 0
        assert server.fs is not None and server.fs.conn.info.resumed


_NO_EMS_CONF = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -ExtendedMasterSecret
"""
"""An OPENSSL_CONF that turns extended_master_secret off (OpenSSL 3.0's s_client has
no option for it)."""


@pytest.mark.filterwarnings("ignore::ferrotls.errors.InsecureProtocolWarning")  # relaxed server
@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_s_client_without_ems_gets_no_resumption(
    backend: Any, pki: PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tickets: bool
) -> None:
    """RFC 7627 section 5.3: s_client without EMS (OpenSSL's ``Options =
    -ExtendedMasterSecret``) to a relaxed server: the first session has no EMS, and
    its ``-sess_in`` resumption gets a full handshake ("New"), not a legacy insecure
    abbreviated one."""
    conf = tmp_path / "no-ems.cnf"
    conf.write_text(_NO_EMS_CONF)
    monkeypatch.setenv("OPENSSL_CONF", str(conf))
    sc = server_config(backend, pki, ticket_count=1 if tickets else 0,
                       ticket_keys=TicketKeyManager(), session_id_cache=SessionIdCache(),
                       require_extended_master_secret=False)
    sess = tmp_path / "sess.pem"
    extra = [] if tickets else ["-no_ticket"]
    for round_, option in (("first", "-sess_out"), ("second", "-sess_in")):
        with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
            args = s_client_args(pki, None, option, str(sess), *extra)
            with openssl_client(server.port, *args, version="-tls1_2") as proc:
                proc.wait_for(NEW)
                proc.wait_for(b"Extended master secret: no")
                proc.write(f"{round_}\n".encode())
                proc.wait_for(f"echo:{round_}".encode())
                proc.write(b"Q\n")
                assert proc.wait() == 0
        assert server.fs is not None and not server.fs.conn.info.resumed
        assert REUSED.search(proc.output) is None


@pytest.mark.filterwarnings("ignore::ferrotls.errors.InsecureProtocolWarning")  # relaxed server
@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_s_client_session_without_ems_resumed_with_ems_gets_a_full_handshake(
    backend: Any, pki: PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tickets: bool
) -> None:
    """RFC 7627 section 5.3: s_client makes a session without EMS (``Options =
    -ExtendedMasterSecret``), then offers it (``-sess_in``) with EMS on: the server
    MUST NOT resume it and does a full handshake, with EMS."""
    conf = tmp_path / "no-ems.cnf"
    conf.write_text(_NO_EMS_CONF)
    sc = server_config(backend, pki, ticket_count=1 if tickets else 0,
                       ticket_keys=TicketKeyManager(), session_id_cache=SessionIdCache(),
                       require_extended_master_secret=False)
    sess = tmp_path / "sess.pem"
    extra = [] if tickets else ["-no_ticket"]
    for round_, option, ems in (("first", "-sess_out", b"no"), ("second", "-sess_in", b"yes")):
        if ems == b"no":
            monkeypatch.setenv("OPENSSL_CONF", str(conf))
        else:
            monkeypatch.delenv("OPENSSL_CONF")
        with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
            args = s_client_args(pki, None, option, str(sess), *extra)
            with openssl_client(server.port, *args, version="-tls1_2") as proc:
                proc.wait_for(NEW)
                proc.wait_for(b"Extended master secret: " + ems)
                proc.write(f"{round_}\n".encode())
                proc.wait_for(f"echo:{round_}".encode())
                proc.write(b"Q\n")
                assert proc.wait() == 0
        assert server.fs is not None and not server.fs.conn.info.resumed
        assert REUSED.search(proc.output) is None
        hello = _client_hello_of(server.fs)
        if round_ == "second":  # it did offer the session
            offered = hello.get(ext.SessionTicket)
            assert (offered is not None and offered.ticket) if tickets else hello.legacy_session_id


@pytest.mark.filterwarnings("ignore::ferrotls.errors.InsecureProtocolWarning")  # relaxed server
@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_s_client_ems_session_resumed_without_ems_is_refused(
    backend: Any, pki: PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tickets: bool
) -> None:
    """RFC 7627 section 5.3: a session made with EMS, offered by a ClientHello without
    EMS (s_client ``-sess_in`` with ``Options = -ExtendedMasterSecret``): the server
    MUST abort, even when EMS is relaxed (handshake_failure, as OpenSSL's server)."""
    conf = tmp_path / "no-ems.cnf"
    conf.write_text(_NO_EMS_CONF)
    sc = server_config(backend, pki, ticket_count=1 if tickets else 0,
                       ticket_keys=TicketKeyManager(), session_id_cache=SessionIdCache(),
                       require_extended_master_secret=False)
    sess = tmp_path / "sess.pem"
    extra = [] if tickets else ["-no_ticket"]
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        with openssl_client(server.port, *s_client_args(pki, None, "-sess_out", str(sess), *extra),
                            version="-tls1_2") as proc:
            proc.wait_for(NEW)
            proc.wait_for(b"Extended master secret: yes")
            proc.write(b"Q\n")
            assert proc.wait() == 0
    monkeypatch.setenv("OPENSSL_CONF", str(conf))
    with FerroServer(lambda: ServerConnection(sc), echo_handler, expect_error=True) as server:
        args = s_client_args(pki, None, "-sess_in", str(sess), *extra)
        with openssl_client(server.port, *args, version="-tls1_2") as proc:
            proc.wait_for(b"alert handshake failure")
            proc.wait()
    assert isinstance(server.error, HandshakeFailure)
    assert "extended_master_secret" in str(server.error)


@pytest.mark.filterwarnings("ignore::ferrotls.errors.InsecureProtocolWarning")  # relaxed client
@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_ferrotls_client_does_not_offer_a_session_without_ems_to_s_server(
    backend: Any, pki: PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tickets: bool
) -> None:
    """RFC 7627 section 5.3 on the client: s_server without EMS (``Options =
    -ExtendedMasterSecret``) and a relaxed ferrotls client: the session is not kept
    (the client SHOULD NOT offer it), so each connection is a new, full handshake;
    s_server, which would resume it, counts no cache hit."""
    conf = tmp_path / "no-ems.cnf"
    conf.write_text(_NO_EMS_CONF)
    monkeypatch.setenv("OPENSSL_CONF", str(conf))
    extra = [] if tickets else ["-no_ticket"]
    args = s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, *extra)
    cache = SessionCache()
    cfg = client_config(backend, pki, session_cache=cache, require_extended_master_secret=False)
    with openssl_server(*args, version="-tls1_2", naccept=2) as (server, port):
        for i in range(2):
            fs = connect(ClientConnection(cfg, SERVER_NAME), port)
            info = fs.handshake()
            assert not info.resumed
            assert len(cache) == 0 and fs.conn.session is None
            converse(server, fs, str(i))
            fs.close()
            fs.wait_closed()
            fs.shutdown()
        assert server.wait() == 0
    assert b"Reused session-id" not in server.output
    # the same client, EMS on at s_server: the session is kept and resumed
    monkeypatch.delenv("OPENSSL_CONF")
    with openssl_server(*args, version="-tls1_2", naccept=2) as (server, port):
        for i in range(2):
            fs = connect(ClientConnection(cfg, SERVER_NAME), port)
            assert fs.handshake().resumed == (i > 0)
            converse(server, fs, str(i))
            fs.close()
            fs.wait_closed()
            fs.shutdown()
        assert server.wait() == 0
    assert b"Reused session-id" in server.output


def _client_hello_of(fs: FerroSocket) -> Any:
    """The ClientHello a FerroServer's connection received."""
    from ferrotls.messages import ClientHello

    (hello, *_), _ = plain_messages(bytes(fs.raw_in))
    assert hello[0] == 1
    return ClientHello.from_bytes(hello[4:])


# --------------------------------------------------------------------------- client certificates


@pytest.mark.parametrize("leaf_name", ["client_p256", "client_rsa"])
def test_client_certificate_to_s_server(backend: Any, pki: PKI, leaf_name: str) -> None:
    leaf = getattr(pki, leaf_name)
    args = s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                         "-CAfile", str(pki.ca_pem), "-Verify", "1", "-verify_return_error")
    with openssl_server(*args, version="-tls1_2") as (server, port):
        cfg = client_config(backend, pki, certificate=leaf.certified)
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        fs.handshake()
        converse(server, fs)
        server.wait_for(b"verify return:1")
        close(server, fs)


def test_client_certificate_pkcs1_to_s_server(backend: Any, pki: PKI) -> None:
    """s_server asks for RSA PKCS#1 v1.5 only (``-client_sigalgs``): ferrotls signs
    its TLS 1.2 CertificateVerify with it."""
    args = s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "-CAfile", str(pki.ca_pem),
                         "-Verify", "1", "-verify_return_error", "-client_sigalgs", "RSA+SHA256")
    with openssl_server(*args, version="-tls1_2") as (server, port):
        cfg = client_config(backend, pki, certificate=pki.client_rsa.certified)
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        fs.handshake()
        converse(server, fs)
        server.wait_for(b"verify return:1")
        close(server, fs)
    messages, _ = plain_messages(bytes(fs.raw_out))  # ClientHello .. CertificateVerify
    (cv,) = [m for m in messages if m[0] == 15]
    assert int.from_bytes(cv[4:6], "big") == 0x0401  # rsa_pkcs1_sha256


def test_client_without_certificate_refused_by_s_server(backend: Any, pki: PKI) -> None:
    args = s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                         "-CAfile", str(pki.ca_pem), "-Verify", "1", "-verify_return_error")
    with openssl_server(*args, version="-tls1_2") as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        with pytest.raises(AlertReceived) as exc:
            fs.handshake()
        assert exc.value.description == 40  # handshake_failure, TLS 1.2's choice
        server.wait_for(b"peer did not return a certificate")
        fs.shutdown()


@pytest.mark.parametrize("leaf_name,sigalgs,scheme", [
    ("client_p256", None, 0x0403),
    ("client_rsa", None, 0x0804),
    ("client_rsa", "RSA+SHA256:ECDSA+SHA256", 0x0401),
    ("client_rsa", "RSA+SHA512:ECDSA+SHA256", 0x0601),
])
def test_s_client_certificate_to_ferrotls(
    backend: Any, pki: PKI, leaf_name: str, sigalgs: str | None, scheme: int
) -> None:
    """``s_client -cert`` to a server requiring client certificates.  With ``-sigalgs``
    s_client may sign its CertificateVerify only with RSA PKCS#1 v1.5 (ECDSA+SHA256 is
    there for our server's ServerKeyExchange); the scheme is read off the wire."""
    leaf = getattr(pki, leaf_name)
    sc = server_config(backend, pki, client_auth=ClientAuth.REQUIRED)
    extra = ["-cert", str(leaf.cert_pem), "-key", str(leaf.key_pem)]
    if sigalgs:
        extra += ["-sigalgs", sigalgs]
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        args = s_client_args(pki, None, *extra)
        with openssl_client(server.port, *args, version="-tls1_2") as proc:
            proc.wait_for(NEW)
            proc.write(b"with cert\n")
            proc.wait_for(b"echo:with cert")
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None
    assert server.fs.conn.info.peer_certificates[0] == leaf.issued.der_chain()[0]
    messages, _ = plain_messages(bytes(server.fs.raw_in))  # ClientHello .. CertificateVerify
    (cv,) = [m for m in messages if m[0] == 15]
    assert int.from_bytes(cv[4:6], "big") == scheme


def test_s_client_pkcs1_only_gets_no_pkcs1_when_not_configured(backend: Any, pki: PKI) -> None:
    """signature_schemes without RSA PKCS#1 v1.5: our CertificateRequest does not list
    it, so s_client, allowed only PKCS#1 for RSA (``-sigalgs``), has no scheme for its
    RSA certificate and sends none (client_auth OPTIONAL lets the handshake finish)."""
    from ferrotls.config import DEFAULT_SIGNATURE_SCHEMES

    no_pkcs1 = tuple(s for s in DEFAULT_SIGNATURE_SCHEMES if s not in (0x0401, 0x0501, 0x0601))
    sc = server_config(backend, pki, client_auth=ClientAuth.OPTIONAL, signature_schemes=no_pkcs1)
    leaf = pki.client_rsa
    extra = ["-cert", str(leaf.cert_pem), "-key", str(leaf.key_pem),
             "-sigalgs", "RSA+SHA256:RSA+SHA384:RSA+SHA512:ECDSA+SHA256"]
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        with openssl_client(server.port, *s_client_args(pki, None, *extra), version="-tls1_2") as proc:
            proc.wait_for(NEW)
            proc.write(b"no cert\n")
            proc.wait_for(b"echo:no cert")
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None
    assert server.fs.conn.info.peer_certificates == ()
    messages, _ = plain_messages(bytes(server.fs.raw_out))
    (request,) = [m for m in messages if m[0] == 13]
    from ferrotls.messages.tls12 import CertificateRequest12

    listed = CertificateRequest12.from_bytes(request[4:]).signature_algorithms
    assert list(listed) == [s for s in no_pkcs1 if s in (0x0403, 0x0503, 0x0603, 0x0807, 0x0808,
                                                         0x0804, 0x0805, 0x0806, 0x0809, 0x080A,
                                                         0x080B)]


def test_s_client_without_certificate_refused(backend: Any, pki: PKI) -> None:
    sc = server_config(backend, pki, client_auth=ClientAuth.REQUIRED)
    with FerroServer(lambda: ServerConnection(sc), echo_handler, expect_error=True) as server:
        with openssl_client(server.port, *s_client_args(pki), version="-tls1_2") as proc:
            proc.wait_for(b"alert handshake failure")
            proc.wait()
    assert server.error is not None and getattr(server.error, "description", None) == 40


# --------------------------------------------------------------------------- exporters, reneg.


def test_exporter_matches_s_client_keymatexport(backend: Any, pki: PKI) -> None:
    """RFC 5705 without a context (OpenSSL's ``-keymatexport``) on both ends."""
    label = "EXPERIMENTAL-ferrotls-interop"
    sc = server_config(backend, pki)
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        args = s_client_args(pki, None, "-keymatexport", label, "-keymatexportlen", "40")
        with openssl_client(server.port, *args, version="-tls1_2") as proc:
            m = proc.wait_for(re.compile(rb"Keying material: ([0-9A-F]+)"))
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None
    ours = server.fs.conn.export_keying_material(label.encode(), None, 40)
    assert ours.hex().upper() == m.group(1).decode()
    assert server.fs.conn.export_keying_material(label.encode(), b"", 40) != ours


def test_exporter_matches_s_server_keymatexport(backend: Any, pki: PKI) -> None:
    label = "EXPERIMENTAL-ferrotls-interop"
    args = s_server_args(pki, S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                         "-keymatexport", label, "-keymatexportlen", "20")
    with openssl_server(*args, version="-tls1_2") as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        fs.handshake()
        m = server.wait_for(re.compile(rb"Keying material: ([0-9A-F]+)"))
        ours = fs.conn.export_keying_material(label.encode(), None, 20)
        assert ours.hex().upper() == m.group(1).decode()
        converse(server, fs)
        close(server, fs)


def test_s_server_hello_request_gets_no_renegotiation(backend: Any, pki: PKI) -> None:
    """``R`` makes s_server send a HelloRequest; ferrotls answers with a no_renegotiation
    warning, which OpenSSL then turns into a fatal handshake_failure (its policy: a
    renegotiation it asked for must succeed)."""
    with openssl_server(*s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
                        version="-tls1_2") as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        fs.handshake()
        converse(server, fs)
        server.write(b"R\n")
        with pytest.raises(AlertReceived) as exc:
            fs.wait_for(lambda: False, "the server's answer")
        assert exc.value.description == 40
        server.wait_for(b"no renegotiation")
        fs.shutdown()


@pytest.mark.parametrize("fatal", [False, True])
def test_s_client_renegotiation_refused(backend: Any, pki: PKI, fatal: bool) -> None:
    """``R`` makes s_client send a renegotiating ClientHello: a no_renegotiation warning
    (which s_client reports and gives up on) or, with fatal_on_renegotiation, a fatal
    handshake_failure."""
    sc = server_config(backend, pki, fatal_on_renegotiation=fatal)
    with FerroServer(lambda: ServerConnection(sc), echo_handler, expect_error=True) as server:
        with openssl_client(server.port, *s_client_args(pki), version="-tls1_2") as proc:
            proc.wait_for(NEW)
            proc.write(b"before\n")
            proc.wait_for(b"echo:before")
            proc.write(b"R\n")
            if fatal:
                proc.wait_for(b"alert handshake failure")
            else:
                proc.wait_for(b"no renegotiation")
            proc.wait()
    assert server.error is not None
    if fatal:
        assert getattr(server.error, "description", None) == 40
    else:  # our warning went out; OpenSSL answered with its fatal handshake_failure
        assert isinstance(server.error, AlertReceived) and server.error.description == 40


# --------------------------------------------------------------------------- ALPN, SNI


def test_alpn_with_s_server(backend: Any, pki: PKI) -> None:
    args = s_server_args(pki, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "-alpn", "http/1.1")
    with openssl_server(*args, version="-tls1_2") as (server, port):
        cfg = client_config(backend, pki, alpn_protocols=("h2", "http/1.1"))
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        assert fs.handshake().alpn_protocol == "http/1.1"
        converse(server, fs)
        close(server, fs)


def test_sni_with_s_server(backend: Any, pki: PKI) -> None:
    """The default certificate is for another name; ``-cert2`` serves SNI "localhost"."""
    args = ["-cert", str(pki.server_other.cert_pem), "-key", str(pki.server_other.key_pem),
            "-cert2", str(pki.server_p256.cert_pem), "-key2", str(pki.server_p256.key_pem),
            "-servername", SERVER_NAME]
    with openssl_server(*args, version="-tls1_2") as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        info = fs.handshake()
        assert info.peer_certificates[0] == pki.server_p256.issued.der_chain()[0]
        server.wait_for(b"Hostname in TLS extension")
        converse(server, fs)
        close(server, fs)


@pytest.mark.parametrize("version", ["-tls1_2", ""], ids=["s_server-1.2", "s_server-1.2-1.3"])
def test_s_server_warning_unrecognized_name_is_tolerated(
    backend: Any, pki: PKI, version: str
) -> None:
    """``-servername`` names another host: for "localhost" s_server keeps its default
    certificate and sends a *warning* unrecognized_name before its ServerHello (RFC
    6066 allows either level; OpenSSL suppresses it in TLS 1.3).  A TLS 1.2 client
    goes on (RFC 5246 7.2) and counts it."""
    leaf = pki.server_p256
    args = ["-cert", str(leaf.cert_pem), "-key", str(leaf.key_pem),
            "-cert2", str(leaf.cert_pem), "-key2", str(leaf.key_pem),
            "-servername", "other.example"]
    with openssl_server(*args, version=version) as (server, port):
        cfg = client_config(backend, pki, maximum_version=TLS12)
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        info = fs.handshake()
        assert info.version == "TLSv1.2"
        # the warning came first, before the ServerHello
        assert bytes(fs.raw_in).startswith(b"\x15\x03\x03\x00\x02\x01\x70")
        assert fs.conn.warning_alerts_received == 1 and fs.conn.last_warning_alert == 112
        converse(server, fs)
        close(server, fs)


def test_s_server_fatal_unrecognized_name_still_fails(backend: Any, pki: PKI) -> None:
    leaf = pki.server_p256
    args = ["-cert", str(leaf.cert_pem), "-key", str(leaf.key_pem), "-cert2", str(leaf.cert_pem),
            "-key2", str(leaf.key_pem), "-servername", "other.example", "-servername_fatal"]
    with openssl_server(*args, version="-tls1_2") as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        with pytest.raises(AlertReceived) as exc:
            fs.handshake()
        assert exc.value.description == 112
        fs.shutdown()


def test_alpn_and_sni_from_s_client(backend: Any, pki: PKI) -> None:
    sc = server_config(backend, pki, alpn_protocols=("h2", "http/1.1"),
                       certificates=(pki.server_other.certified, pki.server_p256.certified))
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        with openssl_client(server.port, *s_client_args(pki, None, "-alpn", "http/1.1,h2"),
                            version="-tls1_2") as proc:
            proc.wait_for(b"ALPN protocol: h2")
            proc.wait_for(VERIFIED)  # the certificate for "localhost", picked by SNI
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None
    info = server.fs.conn.info
    assert (info.alpn_protocol, info.server_name) == ("h2", SERVER_NAME)


def test_s_client_curves_pick_the_ecdsa_certificate(backend: Any, pki: PKI) -> None:
    """RFC 8422 section 5.1: ``s_client -curves X25519:P-256`` can verify ECDSA on
    P-256 only; our server with a P-384 and a P-256 certificate serves the P-256 one."""
    certs = (pki.server_p384.certified, pki.server_p256.certified)
    sc = server_config(backend, pki, certificates=certs)
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        args = s_client_args(pki, None, "-curves", "X25519:P-256")
        with openssl_client(server.port, *args, version="-tls1_2") as proc:
            proc.wait_for(NEW)
            proc.wait_for(VERIFIED)
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None
    assert server.fs.conn.info.peer_certificates == ()
    messages, _ = plain_messages(bytes(server.fs.raw_out))
    (cert,) = [m for m in messages if m[0] == 11]
    assert pki.server_p256.issued.der_chain()[0] in cert
