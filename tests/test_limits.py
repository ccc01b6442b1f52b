"""Limits on hostile peers (``ferrotls.limits.Limits``) and the extension placement rules
(``ferrotls.handshake.policy``): each limit hit and each misplaced extension ends the
connection with the right alert on the wire; unknown values are ignored where RFC 8446
says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from ferrotls import Limits
from ferrotls.config import CertifiedKey
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.errors import (
    CertificateUnknown,
    DecryptError,
    IllegalParameter,
    ProtocolError,
    RecordOverflow,
    UnexpectedMessage,
    UnsupportedExtension,
)
from ferrotls.events import ApplicationData, HandshakeComplete
from ferrotls.handshake.policy import ALLOWED, check_certificate, check_extensions
from ferrotls.messages import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    ClientHello,
    NewSessionTicket,
    ServerHello,
    decode_handshake_message,
    encode_handshake,
)
from ferrotls.messages import extensions as ext
from ferrotls.messages.enums import ExtensionType
from ferrotls.messages.extensions import Context, UnknownExtension
from ferrotls.record import ContentType
from helpers_tls import (
    CLIENT_SECRETS,
    SERVER_NAME,
    SERVER_SECRETS,
    ConnectionPair,
    KeyLog,
    client_config,
    edit_server_flight,
    read_alert,
    root_ca,
    server_config,
)

SUITE = 0x1301
GREASE = 0x0A0A


def _pair(backend: Any, client_kw: dict[str, Any] | None = None, server_kw: dict[str, Any] | None = None,
          ) -> tuple[ConnectionPair, KeyLog, KeyLog]:
    c_log, s_log = KeyLog(), KeyLog()
    pair = ConnectionPair(
        client_config(backend, cipher_suites=(SUITE,), key_log=c_log, **(client_kw or {})),
        server_config(backend, key_log=s_log, **(server_kw or {})),
    )
    return pair, c_log, s_log


def _expect(conn: Any, data: bytes, exc: type[ProtocolError], description: int, log: KeyLog,
            labels: tuple[str, ...]) -> None:
    with pytest.raises(exc) as info:
        conn.receive_data(data)
    assert type(info.value) is exc
    alert = read_alert(conn.data_to_send(), SUITE, log, labels)
    assert alert.payload == bytes((2, description))


def test_limits_defaults_and_validation() -> None:
    limits = Limits()
    assert limits.max_handshake_size == 1 << 17
    assert limits.max_empty_records == 32 and limits.max_key_updates == 32
    assert client_config(None).limits == limits
    with pytest.raises(ValueError):
        Limits(max_extensions=0)
    with pytest.raises(ValueError):
        Limits(max_key_updates=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_extensions = 3  # type: ignore[misc]


# --------------------------------------------------------------------------- sizes


def test_handshake_message_size_limit(backend: Any) -> None:
    client = ClientConnection(client_config(backend), SERVER_NAME)
    hello = client.data_to_send()
    server = ServerConnection(server_config(backend, limits=Limits(max_handshake_size=100)))
    with pytest.raises(IllegalParameter):
        server.receive_data(hello)
    assert server.data_to_send() == b"\x15\x03\x03\x00\x02\x02\x2f"


def test_record_header_bounds_the_buffer(backend: Any) -> None:
    """An over-long record fails on its header, before its body is buffered."""
    client = ClientConnection(client_config(backend), SERVER_NAME)
    server = ServerConnection(server_config(backend))
    server.receive_data(client.data_to_send())
    with pytest.raises(RecordOverflow):
        ServerConnection(server_config(backend)).receive_data(b"\x16\x03\x01\x40\x01")
    # A maximal plaintext record fed a byte at a time is held whole, never more.
    fresh = ServerConnection(server_config(backend))
    record = b"\x16\x03\x01\x40\x00" + b"\x01\x00\x3f\xfc" + bytes(0x4000 - 4)
    for i in range(len(record) - 1):
        fresh.receive_data(record[i : i + 1])
        assert fresh._records.buffered <= 5 + (1 << 14) + 256
    assert fresh._records.buffered == len(record) - 1


def _chain_pair(backend: Any, limits: Limits) -> tuple[ConnectionPair, KeyLog]:
    inter = root_ca().intermediate("ferrotls limits intermediate")
    leaf = inter.issue(SERVER_NAME, key_kind="p256", key_index=1)
    chain = [leaf.cert, *inter.intermediates]
    assert len(chain) == 2
    pair, c_log, _ = _pair(
        backend,
        client_kw={"limits": limits},
        server_kw={"certificates": (CertifiedKey(chain, leaf.key),)},
    )
    return pair, c_log


def test_certificate_chain_length_limit(backend: Any) -> None:
    pair, c_log = _chain_pair(backend, Limits(max_certificate_chain_length=1))
    pair.server.receive_data(pair.client.data_to_send())
    _expect(pair.client, pair.server.data_to_send(), CertificateUnknown, 46, c_log, CLIENT_SECRETS)


def test_certificate_chain_size_limit(backend: Any) -> None:
    pair, c_log = _chain_pair(backend, Limits(max_certificate_chain_size=300))
    pair.server.receive_data(pair.client.data_to_send())
    _expect(pair.client, pair.server.data_to_send(), IllegalParameter, 47, c_log, CLIENT_SECRETS)


def test_chain_within_limits_verifies(backend: Any) -> None:
    pair, _ = _chain_pair(backend, Limits(max_certificate_chain_length=2))
    pair.handshake()


def test_extension_count_limit(backend: Any) -> None:
    """Responses are counted (a ServerHello has two extensions here); the
    ClientHello is not (see test_conformance.py: hundreds of unknown extensions)."""
    seen: list[Any] = []

    def keep(hello: Any) -> Any:
        seen.append(hello)
        return hello

    client = ClientConnection(
        client_config(backend, limits=Limits(max_extensions=1), client_hello_hook=keep), SERVER_NAME
    )
    hello = client.data_to_send()
    assert len(seen[0].extensions) > 1
    server = ServerConnection(server_config(backend, limits=Limits(max_extensions=1)))
    server.receive_data(hello)  # the ClientHello's count is not limited
    with pytest.raises(IllegalParameter, match="exceeds the limit of 1"):
        client.receive_data(server.data_to_send())
    assert client.data_to_send()[-7:] == b"\x15\x03\x03\x00\x02\x02\x2f"


# --------------------------------------------------------------------------- floods


def _empty_app_record(conn: Any) -> bytes:
    conn._records.write(ContentType.APPLICATION_DATA, b"")
    return bytes(conn.data_to_send())


def test_consecutive_empty_records(backend: Any) -> None:
    pair, _, s_log = _pair(backend, server_kw={"limits": Limits(max_empty_records=4)})
    pair.handshake()
    for _ in range(3):
        for _ in range(4):
            pair.server.receive_data(_empty_app_record(pair.client))
        pair.client.send(b"x")  # real data resets the count
        pair.server.receive_data(pair.client.data_to_send())
    events = pair.server.events()
    assert [e.data for e in events if isinstance(e, ApplicationData)].count(b"x") == 3
    for _ in range(4):
        pair.server.receive_data(_empty_app_record(pair.client))
    _expect(pair.server, _empty_app_record(pair.client), UnexpectedMessage, 10, s_log, SERVER_SECRETS)


def test_change_cipher_spec_flood(backend: Any) -> None:
    client = ClientConnection(client_config(backend), SERVER_NAME)
    server = ServerConnection(server_config(backend))
    server.receive_data(client.data_to_send())
    server.data_to_send()
    ccs = b"\x14\x03\x03\x00\x01\x01"
    server.receive_data(ccs * 32)
    with pytest.raises(UnexpectedMessage):
        server.receive_data(ccs)


def test_user_canceled_flood(backend: Any) -> None:
    pair, _, _ = _pair(backend)
    pair.handshake()
    for _ in range(32):
        pair.client._send_alert(1, 90)
    pair.server.receive_data(pair.client.data_to_send())
    pair.client._send_alert(1, 90)
    with pytest.raises(UnexpectedMessage):
        pair.server.receive_data(pair.client.data_to_send())


def test_key_update_flood(backend: Any) -> None:
    pair, _, s_log = _pair(backend, server_kw={"limits": Limits(max_key_updates=3)})
    pair.handshake()
    for _ in range(3):
        pair.client.update_keys(request_peer_update=False)
    pair.server.receive_data(pair.client.data_to_send())
    pair.client.send(b"data")  # application data resets the window
    pair.server.receive_data(pair.client.data_to_send())
    for _ in range(3):
        pair.client.update_keys(request_peer_update=False)
    pair.server.receive_data(pair.client.data_to_send())
    pair.client.update_keys(request_peer_update=False)
    _expect(pair.server, pair.client.data_to_send(), UnexpectedMessage, 10, s_log, SERVER_SECRETS)


# --------------------------------------------------------------------------- extension placement


def test_allowed_table_matches_rfc8446() -> None:
    e = ExtensionType
    # Spot checks of RFC 8446 section 4.2's table.
    assert ALLOWED[e.KEY_SHARE] == {Context.CH, Context.SH, Context.HRR}
    assert ALLOWED[e.EARLY_DATA] == {Context.CH, Context.EE, Context.NST}
    assert ALLOWED[e.STATUS_REQUEST] == {Context.CH, Context.CR, Context.CT}
    assert ALLOWED[e.OID_FILTERS] == {Context.CR}
    assert ALLOWED[e.COOKIE] == {Context.CH, Context.HRR}
    # Every extension may appear in a ClientHello except oid_filters.
    assert [t for t, ctxs in ALLOWED.items() if Context.CH not in ctxs] == [e.OID_FILTERS]


@pytest.mark.parametrize(
    "ctx,ext_type,requested,error",
    [
        (Context.CH, ExtensionType.OID_FILTERS, None, IllegalParameter),
        (Context.CH, GREASE, None, None),
        (Context.CH, ExtensionType.EXTENDED_MASTER_SECRET, None, None),  # TLS 1.2 only: ignored
        (Context.CR, ExtensionType.KEY_SHARE, None, IllegalParameter),
        (Context.CR, GREASE, None, None),
        (Context.NST, ExtensionType.ALPN, None, IllegalParameter),
        (Context.NST, GREASE, None, None),
        (Context.SH, ExtensionType.ALPN, {16, 51, 43}, IllegalParameter),
        (Context.SH, GREASE, {51, 43}, UnsupportedExtension),
        (Context.HRR, ExtensionType.PRE_SHARED_KEY, {41}, IllegalParameter),
        (Context.EE, ExtensionType.SERVER_NAME, {43}, UnsupportedExtension),
        (Context.EE, ExtensionType.SERVER_NAME, {0}, None),
        (Context.CT, ExtensionType.STATUS_REQUEST, {13}, UnsupportedExtension),
        (Context.CT, ExtensionType.KEY_SHARE, {51}, IllegalParameter),
    ],
)
def test_check_extensions(
    ctx: Context, ext_type: int, requested: set[int] | None, error: type[Exception] | None
) -> None:
    block = [UnknownExtension(ext_type, b"")]
    if error is None:
        check_extensions(block, ctx, Limits(), requested)
    else:
        with pytest.raises(error):
            check_extensions(block, ctx, Limits(), requested)


def test_check_certificate_entry_extensions() -> None:
    entry = CertificateEntry(cert_data=b"x", extensions=[UnknownExtension(5, b"")])
    with pytest.raises(UnsupportedExtension):
        check_certificate(Certificate(certificate_list=[entry]), Limits(), {13})
    check_certificate(Certificate(certificate_list=[entry]), Limits(), {5, 13})


def _edit_flight(backend: Any, edit: Callable[[list[bytes]], list[bytes]]) -> tuple[Any, bytes, KeyLog]:
    pair, c_log, s_log = _pair(backend)
    pair.server.receive_data(pair.client.data_to_send())
    flight = edit_server_flight(pair.server.data_to_send(), SUITE, s_log, edit)
    return pair.client, flight, c_log


def _with_request(*extra: ext.Extension) -> Callable[[list[bytes]], list[bytes]]:
    request = CertificateRequest(extensions=[ext.SignatureAlgorithms([0x0403]), *extra])
    return lambda m: [m[0], encode_handshake(request), *m[1:]]


def test_certificate_request_with_misplaced_extension(backend: Any) -> None:
    client, flight, c_log = _edit_flight(backend, _with_request(UnknownExtension(51, b"\x00\x1d")))
    _expect(client, flight, IllegalParameter, 47, c_log, CLIENT_SECRETS)


def test_certificate_request_with_unknown_extension_is_ignored(backend: Any) -> None:
    # The client gets past the CertificateRequest; the inserted message then breaks the
    # server's signature over the transcript.
    client, flight, c_log = _edit_flight(backend, _with_request(UnknownExtension(GREASE, b"")))
    _expect(client, flight, DecryptError, 51, c_log, CLIENT_SECRETS)


def _edit_certificate(edit: Callable[[Certificate], Certificate]) -> Callable[[list[bytes]], list[bytes]]:
    def run(m: list[bytes]) -> list[bytes]:
        cert = decode_handshake_message(m[1])
        assert isinstance(cert, Certificate)
        return [m[0], encode_handshake(edit(cert)), *m[2:]]

    return run


@pytest.mark.parametrize(
    "added,exc,description",
    [
        (UnknownExtension(5, b"\x01\x00\x00\x00\x00"), UnsupportedExtension, 110),  # not requested
        (UnknownExtension(GREASE, b""), UnsupportedExtension, 110),
        (UnknownExtension(51, b""), IllegalParameter, 47),  # key_share: never in Certificate
    ],
)
def test_server_certificate_entry_extensions(
    backend: Any, added: ext.Extension, exc: type[ProtocolError], description: int
) -> None:
    def edit(cert: Certificate) -> Certificate:
        first = dataclasses.replace(cert.certificate_list[0], extensions=[added])
        return dataclasses.replace(cert, certificate_list=[first, *cert.certificate_list[1:]])

    client, flight, c_log = _edit_flight(backend, _edit_certificate(edit))
    _expect(client, flight, exc, description, c_log, CLIENT_SECRETS)


def _server_sends(pair: ConnectionPair, message: Any) -> bytes:
    pair.server._records.write(ContentType.HANDSHAKE, encode_handshake(message))
    return bytes(pair.server.data_to_send())


@pytest.mark.parametrize(
    "added,error",
    [(UnknownExtension(GREASE, b"ab"), None), (UnknownExtension(16, b""), IllegalParameter)],
)
def test_new_session_ticket_extensions(
    backend: Any, added: ext.Extension, error: type[ProtocolError] | None
) -> None:
    pair, c_log, _ = _pair(backend)
    pair.handshake()
    ticket = NewSessionTicket(
        ticket_lifetime=60, ticket_age_add=1, ticket_nonce=b"n", ticket=b"t", extensions=[added]
    )
    data = _server_sends(pair, ticket)
    if error is None:
        pair.client.receive_data(data)
    else:
        _expect(pair.client, data, error, 47, c_log, CLIENT_SECRETS)


@pytest.mark.parametrize("added", [UnknownExtension(16, b"\x00\x03\x02h2"), UnknownExtension(GREASE, b"")])
def test_server_hello_extensions(backend: Any, added: ext.Extension) -> None:
    """ALPN (offered, but only for EncryptedExtensions) in a ServerHello: illegal_parameter;
    a GREASE extension (never offered): unsupported_extension."""
    pair, _c_log, s_log = _pair(backend, client_kw={"alpn_protocols": ("h2",)})
    pair.server.receive_data(pair.client.data_to_send())

    def edit_sh(body: bytes) -> bytes:
        sh = decode_handshake_message(body)
        assert isinstance(sh, ServerHello)
        return encode_handshake(dataclasses.replace(sh, extensions=[*sh.extensions, added]))

    flight = edit_server_flight(pair.server.data_to_send(), SUITE, s_log, lambda m: m, edit_sh)
    exc, description = (IllegalParameter, 47) if added.ext_type == 16 else (UnsupportedExtension, 110)
    with pytest.raises(exc):
        pair.client.receive_data(flight)
    assert pair.client.data_to_send().endswith(bytes((2, description)))


# --------------------------------------------------------------------------- unknown values are ignored


def test_unknown_values_in_client_hello_are_ignored(backend: Any) -> None:
    """GREASE (RFC 8701) suites, groups, key shares, schemes, versions and extensions."""

    def grease(hello: ClientHello) -> ClientHello:
        out: list[ext.Extension] = [UnknownExtension(GREASE, b"")]
        for e in hello.extensions:
            if isinstance(e, ext.SupportedGroups):
                e = ext.SupportedGroups([0x1A1A, *e.groups])
            elif isinstance(e, ext.KeyShareClientHello):
                e = ext.KeyShareClientHello([ext.KeyShareEntry(0x1A1A, b"\x00"), *e.client_shares])
            elif isinstance(e, ext.SignatureAlgorithms):
                e = ext.SignatureAlgorithms([0x0A0A, *e.schemes])
            elif isinstance(e, ext.SupportedVersionsClientHello):
                e = ext.SupportedVersionsClientHello([0x2A2A, *e.versions])
            out.append(e)
        out.append(UnknownExtension(0x3A3A, b"\x00"))
        return dataclasses.replace(hello, cipher_suites=[0x4A4A, *hello.cipher_suites], extensions=out)

    pair, _, _ = _pair(backend, client_kw={"client_hello_hook": grease})
    c, _s = pair.handshake()
    assert isinstance(c, HandshakeComplete) and c.cipher_suite == SUITE
