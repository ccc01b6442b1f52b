"""TLSObject (wrap_bio) against ssl.SSLObject, scenario by scenario, in memory.

Each scenario runs twice: with an OpenSSL ``ssl.SSLObject`` client and with a
ferrotls ``TLSObject`` client, both against an OpenSSL server object (and once
with the roles swapped).  What every call returns or raises -- normalised to the
ssl exception class -- must be the same: that is the contract asyncio's sslproto,
uvloop and anyio are written against.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import ferrotls
import pytest
from eco_support import PKI, openssl_client, openssl_server

KINDS = (ssl.SSLZeroReturnError, ssl.SSLWantReadError, ssl.SSLWantWriteError, ssl.SSLEOFError,
         ssl.SSLCertVerificationError, ssl.SSLError, ValueError)


def kind(exc: BaseException) -> str:
    for cls in KINDS:
        if isinstance(exc, cls):
            return cls.__name__
    return type(exc).__name__


class Pair:
    """A client and a server object over four memory BIOs."""

    def __init__(self, client_ctx: Any, server_ctx: Any, host: str = "localhost") -> None:
        self.ci, self.co, self.si, self.so = (ssl.MemoryBIO() for _ in range(4))
        self.client = client_ctx.wrap_bio(self.ci, self.co, server_hostname=host)
        self.server = server_ctx.wrap_bio(self.si, self.so, server_side=True)

    def move(self) -> None:
        self.si.write(self.co.read())
        self.ci.write(self.so.read())

    def handshake(self) -> None:
        for _ in range(6):
            for obj in (self.client, self.server):
                try:
                    obj.do_handshake()
                except ssl.SSLWantReadError:
                    pass
            self.move()
        assert self.client.version() == self.server.version() == "TLSv1.3"


def call(fn: Callable[..., Any], *args: Any) -> str:
    try:
        value = fn(*args)
    except Exception as exc:  # noqa: BLE001 - recorded
        return kind(exc)
    return repr(value)


def contexts(pki: PKI, ferro_client: bool, ferro_server: bool) -> tuple[Any, Any]:
    client: Any = ferrotls.create_default_context(cafile=pki.ca_pem) if ferro_client else openssl_client(pki)
    if ferro_server:
        server: Any = ferrotls.Context(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(pki.server_pem)
    else:
        server = openssl_server(pki.server_pem)
    return client, server


def scenario_before_handshake(p: Pair) -> list[str]:
    c = p.client
    return [call(c.read, 1), call(c.write, b"x"), call(c.getpeercert), call(c.cipher),
            call(c.version), call(c.pending), call(c.unwrap)]


def scenario_data_and_close(p: Pair) -> list[str]:
    p.handshake()
    c, s = p.client, p.server
    out = [call(c.read, 10), call(c.pending)]
    s.write(b"hello world")
    p.move()
    out += [call(c.pending) != "0", call(c.read, 5), call(c.read, 100), call(c.read, 1)]
    out += [call(c.write, b"ping"), call(c.write, b"")]
    p.move()
    out += [call(s.read, 100)]
    out += [call(s.unwrap)]  # server sends close_notify, waits for the client's
    p.move()
    out += [call(c.read, 10), call(c.read, 10), call(c.write, b"after peer close")]
    out += [call(c.unwrap)]  # close_notify back; both closed now
    out += [call(c.read, 10), call(c.write, b"x")]
    p.move()
    out += [call(s.unwrap), call(s.read, 100)]
    return [str(x) for x in out]


def scenario_ragged_eof(p: Pair) -> list[str]:
    p.handshake()
    p.server.write(b"partial")
    p.move()
    p.ci.write_eof()
    c = p.client
    return [call(c.read, 100), call(c.read, 100), call(c.read, 100), call(c.write, b"x")]


def scenario_eof_in_handshake(p: Pair) -> list[str]:
    c = p.client
    out = [call(c.do_handshake)]
    p.ci.write_eof()
    return out + [call(c.do_handshake)]


def scenario_buffer_reads(p: Pair) -> list[str]:
    """read(n, buffer) until SSLWantReadError (how many per call is the library's
    business: ssl returns one record at most, ferrotls what it has)."""
    p.handshake()
    sent = bytes(range(200)) * 100
    p.server.write(sent)
    p.move()
    buf = bytearray(7000)
    got = bytearray()
    while True:
        try:
            n = p.client.read(len(buf) if got else 0, buf)
        except ssl.SSLWantReadError:
            break
        assert 0 < n <= len(buf)
        got += buf[:n]
    return [repr(bytes(got) == sent), call(p.client.read, 10)]


SCENARIOS = {
    "before_handshake": scenario_before_handshake,
    "data_and_close": scenario_data_and_close,
    "ragged_eof": scenario_ragged_eof,
    "eof_in_handshake": scenario_eof_in_handshake,
    "buffer_reads": scenario_buffer_reads,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_tlsobject_client_behaves_as_sslobject(name: str, pki: PKI) -> None:
    expected = SCENARIOS[name](Pair(*contexts(pki, False, False)))
    ours = SCENARIOS[name](Pair(*contexts(pki, True, False)))
    assert ours == expected


def test_tlsobject_server_behaves_as_sslobject(pki: PKI) -> None:
    def server_side(p: Pair) -> list[str]:
        s = p.server
        out = [call(s.read, 1), call(s.do_handshake)]
        p.handshake()
        p.client.write(b"from client")
        p.move()
        out += [call(s.read, 100), call(s.read, 100), call(s.write, b"back")]
        p.move()
        out += [call(p.client.read, 100), call(p.client.unwrap)]
        p.move()
        out += [call(s.read, 100), call(s.unwrap), call(s.read, 100)]
        return out

    assert server_side(Pair(*contexts(pki, False, True))) == server_side(Pair(*contexts(pki, False, False)))


@pytest.mark.parametrize(("host", "code"), [("wrong.test", 62), ("10.9.8.7", 64)])
def test_verification_failure_matches(pki: PKI, host: str, code: int) -> None:
    errors = []
    for ferro in (False, True):
        p = Pair(*contexts(pki, ferro, False), host=host)
        with pytest.raises(ssl.SSLCertVerificationError) as info:
            p.handshake()
        errors.append(info.value)
    ours, theirs = errors[1], errors[0]
    assert isinstance(ours, ferrotls.errors.BadCertificate)
    assert (ours.verify_code, ours.reason, ours.library) == (theirs.verify_code, theirs.reason, theirs.library)
    assert ours.verify_code == code
    assert ours.verify_message == theirs.verify_message


def test_session_resumption_through_wrap_bio(pki: PKI) -> None:
    """A session from a TLSObject resumes against OpenSSL; session_reused says so."""
    client, server = contexts(pki, True, False)
    first = Pair(client, server)
    first.handshake()
    first.server.write(b"x")
    first.move()
    assert first.client.read(1) == b"x"  # the tickets came with it
    session = first.client.session
    assert isinstance(session, ferrotls.Session) and session.has_ticket and session.timeout > 0
    assert not first.client.session_reused
    second = Pair(client, server)
    second.client = client.wrap_bio(second.ci, second.co, server_hostname="localhost", session=session)
    second.handshake()
    assert second.client.session_reused and second.server.session_reused
    assert client.session_stats()["hits"] == 1


def test_channel_binding_tls_exporter(pki: PKI) -> None:
    """RFC 9266: both ends compute the same 32 bytes; tls-unique is refused for TLS 1.3."""
    p = Pair(*contexts(pki, True, True))
    p.handshake()
    a = p.client.get_channel_binding("tls-exporter")
    b = p.server.get_channel_binding("tls-exporter")
    assert a == b and isinstance(a, bytes) and len(a) == 32
    with pytest.raises(ValueError, match="tls-unique"):
        p.client.get_channel_binding("tls-unique")
    assert isinstance(p.client, ssl.SSLObject) and p.client.compression() is None
    assert p.client.selected_alpn_protocol() is None and p.client.server_side is False
