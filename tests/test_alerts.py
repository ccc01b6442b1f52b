"""Negative tables: each malformed or out-of-order input, the exception receive_data
raises and the exact alert written to the wire (aioquic ``test_client_unexpected_message``
style).

Alerts written after the sender has write keys are encrypted; they are opened with
the sender's secrets taken from its ``key_log`` (pyca/cryptography as the oracle).
Server flights are edited by decrypting them with the server's handshake secret,
changing the handshake messages and re-encrypting (``helpers_tls.edit_server_flight``);
ClientHellos through ``client_hello_hook``; EncryptedExtensions through
``encrypted_extensions_hook``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from certs import CLIENT_AUTH, DAY, NOW, TestCA
from ferrotls import errors
from ferrotls.config import CertifiedKey
from ferrotls.connection import ClientConnection, ConnectionState, ServerConnection
from ferrotls.errors import (
    AlertDescription,
    AlertReceived,
    BadCertificate,
    BadRecordMac,
    CertificateExpired,
    DecodeError,
    DecryptError,
    HandshakeFailure,
    IllegalParameter,
    MissingExtension,
    ProtocolError,
    ProtocolVersionError,
    RecordOverflow,
    TruncationError,
    UnexpectedMessage,
    UnknownCA,
    UnsupportedCertificate,
    UnsupportedExtension,
    UsageError,
)
from ferrotls.events import ConnectionClosed
from ferrotls.messages import ServerHello, decode_handshake_message, encode_handshake
from ferrotls.messages import extensions as ext
from helpers_tls import (
    CLIENT_SECRETS,
    CT_HANDSHAKE,
    SERVER_NAME,
    SERVER_SECRETS,
    ConnectionPair,
    KeyLog,
    client_config,
    edit_server_flight,
    open_record,
    read_alert,
    root_ca,
    seal_record,
    server_config,
    split_records,
)

SUITE = 0x1301
FATAL = 2


def _alert(description: int) -> bytes:
    return bytes((FATAL, description))


def _plain_alert(description: int) -> bytes:
    return b"\x15\x03\x03\x00\x02" + _alert(description)


# --------------------------------------------------------------------------- the alert classes


def test_each_protocol_error_has_a_distinct_description() -> None:
    classes = [
        c
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, ProtocolError) and c is not ProtocolError
    ]
    descriptions = [c.description for c in classes]
    assert len(set(descriptions)) == len(descriptions)
    for c in classes:
        assert errors.error_for_alert(c.description) is c
        assert c.description in AlertDescription.__members__.values()


# --------------------------------------------------------------------------- client side: edited server flights


@dataclasses.dataclass
class ClientCase:
    client: ClientConnection
    server: ServerConnection
    flight: bytes
    client_log: KeyLog


def _client_case(
    backend: Any,
    edit: Callable[[list[bytes]], list[bytes]] = lambda m: m,
    edit_sh: Callable[[ServerHello], ServerHello] | None = None,
    kinds: tuple[str, ...] = ("p256",),
    server_kw: dict[str, Any] | None = None,
    client_kw: dict[str, Any] | None = None,
) -> ClientCase:
    c_log, s_log = KeyLog(), KeyLog()
    # TLS 1.3 alerts: a TLS 1.3-only client (a ServerHello without supported_versions
    # would otherwise be read as TLS 1.2; tests/test_tls12.py covers that)
    client_kw = {"minimum_version": 0x0304, **(client_kw or {})}
    client = ClientConnection(
        client_config(backend, cipher_suites=(SUITE,), key_log=c_log, **client_kw),
        SERVER_NAME,
    )
    server = ServerConnection(server_config(backend, kinds, key_log=s_log, **(server_kw or {})))
    server.receive_data(client.data_to_send())
    sh_edit = None
    if edit_sh is not None:

        def sh_edit(body: bytes) -> bytes:
            sh = decode_handshake_message(body)
            assert isinstance(sh, ServerHello)
            return encode_handshake(edit_sh(sh))

    flight = edit_server_flight(server.data_to_send(), SUITE, s_log, edit, sh_edit)
    return ClientCase(client, server, flight, c_log)


def _flip_last(message: bytes) -> bytes:
    return message[:-1] + bytes([message[-1] ^ 0x01])


def _without_ext(sh: ServerHello, ext_type: int) -> ServerHello:
    return dataclasses.replace(sh, extensions=[e for e in sh.extensions if e.ext_type != ext_type])


SUPPORTED_VERSIONS, KEY_SHARE = 43, 51

# (id, edit of the protected messages [EE, Certificate, CertificateVerify, Finished],
#  edit of the ServerHello, server certificate kinds, exception, alert description)
CLIENT_TABLE: list[Any] = [
    ("finished_instead_of_ee", lambda m: [m[3]], None, ("p256",), UnexpectedMessage, 10),
    (
        "certificate_before_ee",
        lambda m: [m[1], m[0], m[2], m[3]],
        None,
        ("p256",),
        UnexpectedMessage,
        10,
    ),
    (
        "finished_before_certificate_verify",
        lambda m: [m[0], m[1], m[3]],
        None,
        ("p256",),
        UnexpectedMessage,
        10,
    ),
    (
        "second_encrypted_extensions",
        lambda m: [m[0], m[0], *m[1:]],
        None,
        ("p256",),
        UnexpectedMessage,
        10,
    ),
    (
        "client_hello_from_server",
        lambda m: [bytes.fromhex("01000000")],
        None,
        ("p256",),
        UnexpectedMessage,
        10,
    ),
    ("tampered_finished", lambda m: [*m[:3], _flip_last(m[3])], None, ("p256",), DecryptError, 51),
    (
        "bad_signature_ed25519",
        lambda m: [m[0], m[1], _flip_last(m[2]), m[3]],
        None,
        ("ed25519",),
        DecryptError,
        51,
    ),
    (
        "bad_signature_rsa",
        lambda m: [m[0], m[1], _flip_last(m[2]), m[3]],
        None,
        ("rsa2048",),
        DecryptError,
        51,
    ),
    # p256 certificate, CertificateVerify claiming ecdsa_secp384r1_sha384: scheme does not fit the key
    (
        "signature_scheme_mismatch",
        lambda m: [m[0], m[1], m[2][:4] + b"\x05\x03" + m[2][6:], m[3]],
        None,
        ("p256",),
        IllegalParameter,
        47,
    ),
    (
        "empty_certificate",
        lambda m: [m[0], bytes.fromhex("0b00000400000000"), *m[2:]],
        None,
        ("p256",),
        DecodeError,
        50,
    ),
    (
        "truncated_finished",  # cannot be parsed: decode_error, not decrypt_error (issue #11)
        lambda m: [*m[:3], b"\x14\x00\x00\x1f" + m[3][4:-1]],
        None,
        ("p256",),
        DecodeError,
        50,
    ),
    (
        "garbage_certificate_der",
        lambda m: [m[0], bytes.fromhex("0b00000a00000006000001ff0000"), *m[2:]],
        None,
        ("p256",),
        BadCertificate,
        42,
    ),
    # ServerHello edits (the client stops before the protected part)
    (
        "sh_suite_not_offered",
        lambda m: m,
        lambda sh: dataclasses.replace(sh, cipher_suite=0x1302),
        ("p256",),
        IllegalParameter,
        47,
    ),
    (
        "sh_unknown_suite",
        lambda m: m,
        lambda sh: dataclasses.replace(sh, cipher_suite=0x00FF),
        ("p256",),
        IllegalParameter,
        47,
    ),
    (
        "sh_wrong_session_id_echo",
        lambda m: m,
        lambda sh: dataclasses.replace(sh, legacy_session_id_echo=bytes(32)),
        ("p256",),
        IllegalParameter,
        47,
    ),
    (
        "sh_without_supported_versions",
        lambda m: m,
        lambda sh: _without_ext(sh, SUPPORTED_VERSIONS),
        ("p256",),
        ProtocolVersionError,
        70,
    ),
    (
        "sh_downgrade_sentinel",
        lambda m: m,
        lambda sh: dataclasses.replace(
            _without_ext(sh, SUPPORTED_VERSIONS), random=sh.random[:24] + b"DOWNGRD\x01"
        ),
        ("p256",),
        IllegalParameter,
        47,
    ),
    (
        "sh_selects_tls12",
        lambda m: m,
        lambda sh: dataclasses.replace(
            _without_ext(sh, SUPPORTED_VERSIONS),
            extensions=[
                *_without_ext(sh, SUPPORTED_VERSIONS).extensions,
                ext.SupportedVersionsServerHello(0x0303),
            ],
        ),
        ("p256",),
        IllegalParameter,
        47,
    ),
    (
        "sh_without_key_share",
        lambda m: m,
        lambda sh: _without_ext(sh, KEY_SHARE),
        ("p256",),
        MissingExtension,
        109,
    ),
    (
        "sh_compression",
        lambda m: m,
        lambda sh: dataclasses.replace(sh, legacy_compression_method=1),
        ("p256",),
        IllegalParameter,
        47,
    ),
    (
        "sh_unoffered_extension",
        lambda m: m,
        lambda sh: dataclasses.replace(
            sh, extensions=[*sh.extensions, ext.UnknownExtension(0x1234, b"")]
        ),
        ("p256",),
        UnsupportedExtension,
        110,
    ),
]


@pytest.mark.parametrize(
    "edit,edit_sh,kinds,exc_type,description",
    [pytest.param(*row[1:], id=row[0]) for row in CLIENT_TABLE],
)
def test_client_rejects_server_flight(
    backend: Any,
    edit: Callable[[list[bytes]], list[bytes]],
    edit_sh: Callable[[ServerHello], ServerHello] | None,
    kinds: tuple[str, ...],
    exc_type: type[ProtocolError],
    description: int,
) -> None:
    case = _client_case(backend, edit, edit_sh, kinds)
    with pytest.raises(exc_type) as info:
        case.client.receive_data(case.flight)
    assert type(info.value) is exc_type and info.value.description == description
    _check_client_alert(case, description)


def _check_client_alert(case: ClientCase, description: int) -> None:
    wire = case.client.data_to_send()
    alert = read_alert(wire, SUITE, case.client_log, CLIENT_SECRETS)
    assert alert.payload == _alert(description)
    if not alert.encrypted:
        assert wire == _plain_alert(description)
    assert case.client.state is ConnectionState.ERROR
    # the server reads the alert and raises AlertReceived with the same description
    with pytest.raises(AlertReceived) as received:
        case.server.receive_data(wire)
    assert received.value.description == description
    assert case.server.state is ConnectionState.ERROR
    # in ERROR every call raises UsageError
    with pytest.raises(UsageError):
        case.client.receive_data(case.flight)
    with pytest.raises(UsageError):
        case.client.send(b"x")


@pytest.mark.parametrize(
    "added,exc_type,description",
    [
        pytest.param(ext.ALPN([b"h2"]), UnsupportedExtension, 110, id="unoffered_alpn"),
        pytest.param(
            ext.UnknownExtension(0x4A4A, b"grease"),
            UnsupportedExtension,
            110,
            id="unknown_extension",
        ),
        pytest.param(
            ext.SupportedVersionsServerHello(0x0304), IllegalParameter, 47, id="supported_versions"
        ),
    ],
)
def test_client_rejects_encrypted_extensions(
    backend: Any, added: Any, exc_type: type[ProtocolError], description: int
) -> None:
    def hook(ee: Any) -> Any:
        return dataclasses.replace(ee, extensions=[*ee.extensions, added])

    case = _client_case(backend, server_kw={"encrypted_extensions_hook": hook})
    with pytest.raises(exc_type):
        case.client.receive_data(case.flight)
    _check_client_alert(case, description)


def test_client_rejects_alpn_it_did_not_offer(backend: Any) -> None:
    def hook(ee: Any) -> Any:
        return dataclasses.replace(ee, extensions=[ext.ALPN([b"spdy/1"])])

    case = _client_case(
        backend,
        server_kw={"encrypted_extensions_hook": hook},
        client_kw={"alpn_protocols": ("h2",)},
    )
    with pytest.raises(IllegalParameter):
        case.client.receive_data(case.flight)
    _check_client_alert(case, 47)


# --------------------------------------------------------------------------- certificates


def _expired() -> CertifiedKey:
    leaf = root_ca().issue(
        SERVER_NAME, not_before=NOW - 60 * DAY, not_after=NOW - 30 * DAY, key_index=1
    )
    return CertifiedKey(leaf.chain, leaf.key)


def _unknown_ca() -> CertifiedKey:
    leaf = TestCA("somebody else's root", key_index=2).issue(SERVER_NAME, key_index=1)
    return CertifiedKey(leaf.chain, leaf.key)


def _client_auth_only() -> CertifiedKey:
    leaf = root_ca().issue(SERVER_NAME, eku=(CLIENT_AUTH,), key_index=1)
    return CertifiedKey(leaf.chain, leaf.key)


def _wrong_host() -> CertifiedKey:
    leaf = root_ca().issue("other.example", key_index=1)
    return CertifiedKey(leaf.chain, leaf.key)


@pytest.mark.parametrize(
    "make,exc_type,description",
    [
        pytest.param(_expired, CertificateExpired, 45, id="expired"),
        pytest.param(_wrong_host, BadCertificate, 42, id="wrong_host"),
        pytest.param(_unknown_ca, UnknownCA, 48, id="unknown_ca"),
        pytest.param(_client_auth_only, UnsupportedCertificate, 43, id="client_auth_eku"),
    ],
)
def test_client_rejects_bad_certificate(
    backend: Any, make: Callable[[], CertifiedKey], exc_type: type[ProtocolError], description: int
) -> None:
    case = _client_case(backend, server_kw={"certificates": (make(),)})
    with pytest.raises(exc_type):
        case.client.receive_data(case.flight)
    _check_client_alert(case, description)


def test_server_rejects_untrusted_client_certificate(backend: Any) -> None:
    from ferrotls.config import ClientAuth
    from helpers_tls import verifier

    s_log = KeyLog()
    leaf = TestCA("untrusted client root", key_index=2).issue("client.example", key_index=1)
    pair = ConnectionPair(
        client_config(
            backend, certificate=CertifiedKey(leaf.chain, leaf.key), cipher_suites=(SUITE,)
        ),
        server_config(
            backend, client_auth=ClientAuth.REQUIRED, client_verifier=verifier(), key_log=s_log
        ),
    )
    pair.server.receive_data(pair.client.data_to_send())
    pair.client.receive_data(pair.server.data_to_send())
    with pytest.raises(UnknownCA):
        pair.server.receive_data(pair.client.data_to_send())
    alert = read_alert(pair.server.data_to_send(), SUITE, s_log, SERVER_SECRETS)
    assert alert.payload == _alert(48)
    assert alert.encrypted and alert.secret_label == "SERVER_TRAFFIC_SECRET_0"


# --------------------------------------------------------------------------- server side


@dataclasses.dataclass
class ServerCase:
    server: ServerConnection
    client: ClientConnection | None
    server_log: KeyLog
    client_log: KeyLog


def _fresh_server(backend: Any, **kw: Any) -> ServerCase:
    log = KeyLog()
    return ServerCase(
        ServerConnection(server_config(backend, key_log=log, **kw)), None, log, KeyLog()
    )


def _server_after_hello(backend: Any) -> ServerCase:
    """The server has answered a ClientHello (it holds handshake and application keys)."""
    case = _fresh_server(backend)
    c_log = KeyLog()
    client = ClientConnection(
        client_config(backend, cipher_suites=(SUITE,), key_log=c_log), SERVER_NAME
    )
    case.server.receive_data(client.data_to_send())
    client.receive_data(case.server.data_to_send())
    return ServerCase(case.server, client, case.server_log, c_log)


def _client_finished_record(case: ServerCase) -> tuple[bytes, bytes]:
    """(bytes before the client's protected Finished record, that record)."""
    assert case.client is not None
    records = split_records(case.client.data_to_send())
    assert records[-1][0] == 23
    return b"".join(r for _, r in records[:-1]), records[-1][1]


def _tampered_finished(case: ServerCase) -> bytes:
    prefix, record = _client_finished_record(case)
    secret = case.client_log.secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
    inner_type, content = open_record(SUITE, secret, 0, record)
    assert inner_type == CT_HANDSHAKE and content[0] == 20
    return prefix + seal_record(SUITE, secret, 0, CT_HANDSHAKE, _flip_last(content))


def _bad_mac(case: ServerCase) -> bytes:
    prefix, record = _client_finished_record(case)
    return prefix + _flip_last(record)


def _key_update_value(case: ServerCase) -> bytes:
    prefix, record = _client_finished_record(case)
    secret = case.client_log.secret("CLIENT_TRAFFIC_SECRET_0")
    return (
        prefix + record + seal_record(SUITE, secret, 0, CT_HANDSHAKE, bytes.fromhex("1800000105"))
    )


def _app_data_in_handshake_type(case: ServerCase) -> bytes:
    # a protected record that holds application data where the client's Finished belongs
    _, _record = _client_finished_record(case)
    secret = case.client_log.secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
    return seal_record(SUITE, secret, 0, 23, b"too early")


def _unprotected_handshake(case: ServerCase) -> bytes:
    _client_finished_record(case)
    return b"\x16\x03\x03\x00\x04\x14\x00\x00\x00"


# (id, setup, bytes to feed, exception, description, encrypted?)
SERVER_TABLE: list[Any] = [
    (
        "app_data_before_handshake",
        _fresh_server,
        lambda c: b"\x17\x03\x03\x00\x05hello",
        UnexpectedMessage,
        10,
        False,
    ),
    (
        "ccs_before_client_hello",
        _fresh_server,
        lambda c: b"\x14\x03\x03\x00\x01\x01",
        UnexpectedMessage,
        10,
        False,
    ),
    (
        "garbage_content_type",
        _fresh_server,
        lambda c: b"\x63\x03\x03\x00\x01\x00",
        UnexpectedMessage,
        10,
        False,
    ),
    (
        "plaintext_record_overflow",
        _fresh_server,
        lambda c: b"\x16\x03\x03\x40\x01",
        RecordOverflow,
        22,
        False,
    ),
    ("not_tls", _fresh_server, lambda c: b"GET / HTTP/1.1\r\n\r\n", UnexpectedMessage, 10, False),
    (
        "empty_handshake_record",
        _fresh_server,
        lambda c: b"\x16\x03\x03\x00\x00",
        DecodeError,
        50,
        False,
    ),
    (
        "bad_alert_length",
        _fresh_server,
        lambda c: b"\x15\x03\x03\x00\x03\x02\x28\x00",
        DecodeError,
        50,
        False,
    ),
    (
        "server_hello_to_server",
        _fresh_server,
        lambda c: b"\x16\x03\x03\x00\x04\x02\x00\x00\x00",
        UnexpectedMessage,
        10,
        False,
    ),
    (
        "ccs_wrong_body",
        _server_after_hello,
        lambda c: b"\x14\x03\x03\x00\x01\x02",
        UnexpectedMessage,
        10,
        True,
    ),
    (
        "protected_record_overflow",
        _server_after_hello,
        lambda c: b"\x17\x03\x03\x41\x01",
        RecordOverflow,
        22,
        True,
    ),
    ("tampered_client_finished", _server_after_hello, _tampered_finished, DecryptError, 51, True),
    ("bad_record_mac", _server_after_hello, _bad_mac, BadRecordMac, 20, True),
    ("key_update_bad_value", _server_after_hello, _key_update_value, IllegalParameter, 47, True),
    (
        "app_data_instead_of_finished",
        _server_after_hello,
        _app_data_in_handshake_type,
        UnexpectedMessage,
        10,
        True,
    ),
    (
        "unprotected_handshake_after_keys",
        _server_after_hello,
        _unprotected_handshake,
        UnexpectedMessage,
        10,
        True,
    ),
]


@pytest.mark.parametrize(
    "setup,feed,exc_type,description,encrypted",
    [pytest.param(*row[1:], id=row[0]) for row in SERVER_TABLE],
)
def test_server_rejects(
    backend: Any,
    setup: Callable[[Any], ServerCase],
    feed: Callable[[ServerCase], bytes],
    exc_type: type[ProtocolError],
    description: int,
    encrypted: bool,
) -> None:
    case = setup(backend)
    data = feed(case)
    with pytest.raises(exc_type) as info:
        case.server.receive_data(data)
    assert type(info.value) is exc_type
    wire = case.server.data_to_send()
    alert = read_alert(wire, SUITE, case.server_log, SERVER_SECRETS)
    assert alert.payload == _alert(description)
    assert alert.encrypted is encrypted
    if not encrypted:
        assert wire == _plain_alert(description)
    else:
        assert len(split_records(wire)) == 1
    assert case.server.state is ConnectionState.ERROR
    with pytest.raises(UsageError):
        case.server.receive_data(data)
    if case.client is not None:
        with pytest.raises(AlertReceived) as received:
            case.client.receive_data(wire)
        assert received.value.description == description


def test_bad_record_mac_message_is_fixed(backend: Any) -> None:
    """Every deprotection failure says the same thing (no oracle, RFC 8446 section 5.2)."""
    messages = set()
    for mutate in (lambda r: _flip_last(r), lambda r: r[:5] + bytes([r[5] ^ 1]) + r[6:]):
        case = _server_after_hello(backend)
        prefix, record = _client_finished_record(case)
        with pytest.raises(BadRecordMac) as info:
            case.server.receive_data(prefix + mutate(record))
        messages.add(str(info.value))
    assert len(messages) == 1


# --------------------------------------------------------------------------- ClientHello edits


def _drop(ext_type: int) -> Callable[[Any], Any]:
    def hook(hello: Any) -> Any:
        return dataclasses.replace(
            hello, extensions=[e for e in hello.extensions if e.ext_type != ext_type]
        )

    return hook


@pytest.mark.parametrize(
    "hook,exc_type,description",
    [
        pytest.param(
            _drop(SUPPORTED_VERSIONS), ProtocolVersionError, 70, id="no_supported_versions"
        ),
        pytest.param(_drop(13), MissingExtension, 109, id="no_signature_algorithms"),
        pytest.param(_drop(KEY_SHARE), MissingExtension, 109, id="no_key_share"),
        pytest.param(
            lambda h: dataclasses.replace(h, cipher_suites=[0x00FF, 0x1304]),
            HandshakeFailure,
            40,
            id="no_common_suite",
        ),
        pytest.param(
            lambda h: dataclasses.replace(h, legacy_compression_methods=b"\x01\x00"),
            IllegalParameter,
            47,
            id="compression",
        ),
    ],
)
def test_server_rejects_client_hello(
    backend: Any, hook: Callable[[Any], Any], exc_type: type[ProtocolError], description: int
) -> None:
    client = ClientConnection(client_config(backend, client_hello_hook=hook), SERVER_NAME)
    # a TLS 1.3-only server (else a ClientHello without TLS 1.3 gets TLS 1.2: test_tls12.py)
    server = ServerConnection(server_config(backend, minimum_version=0x0304))
    with pytest.raises(exc_type):
        server.receive_data(client.data_to_send())
    wire = server.data_to_send()
    assert wire == _plain_alert(description)
    with pytest.raises(AlertReceived) as received:
        client.receive_data(wire)
    assert received.value.description == description


def test_no_common_group(backend: Any) -> None:
    client = ClientConnection(
        client_config(backend, groups=(0x001D,), key_share_groups=(0x001D,)), SERVER_NAME
    )
    server = ServerConnection(server_config(backend, groups=(0x0017,)))
    with pytest.raises(HandshakeFailure):
        server.receive_data(client.data_to_send())
    assert server.data_to_send() == _plain_alert(40)


# --------------------------------------------------------------------------- alerts received, truncation, misuse


@pytest.mark.parametrize("description", [10, 40, 80, 120, 0xEE])
def test_alert_received(backend: Any, description: int) -> None:
    server = ServerConnection(server_config(backend))
    with pytest.raises(AlertReceived) as info:
        server.receive_data(b"\x15\x03\x03\x00\x02\x02" + bytes([description]))
    assert int(info.value.description) == description
    assert server.data_to_send() == b""  # no alert answers an alert
    assert server.state is ConnectionState.ERROR
    with pytest.raises(UsageError):
        server.receive_data(b"\x15\x03\x03\x00\x02\x02\x28")


def test_encrypted_alert_received_after_handshake(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend), server_config(backend))
    pair.handshake()
    pair.server._send_alert(FATAL, 80)  # internal: make the server emit a fatal internal_error
    with pytest.raises(AlertReceived) as info:
        pair.client.receive_data(pair.server.data_to_send())
    assert info.value.description == 80


def test_user_canceled_is_ignored(backend: Any) -> None:
    server = ServerConnection(server_config(backend))
    server.receive_data(b"\x15\x03\x03\x00\x02\x01\x5a")
    assert server.state is ConnectionState.HANDSHAKING and server.events() == []


@pytest.mark.parametrize("when", ["handshake", "established"])
def test_truncation(backend: Any, when: str) -> None:
    pair = ConnectionPair(client_config(backend), server_config(backend))
    if when == "established":
        pair.handshake()
    else:
        pair.server.receive_data(pair.client.data_to_send())
    with pytest.raises(TruncationError):
        pair.client.receive_data(b"")
    assert pair.client.state is ConnectionState.ERROR
    assert pair.client.data_to_send() == b""  # nothing to say to a closed transport
    with pytest.raises(UsageError):
        pair.client.receive_data(b"\x17\x03\x03\x00\x01\x00")
    with pytest.raises(UsageError):
        pair.client.send(b"data")


def test_eof_after_close_notify_is_clean(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend), server_config(backend))
    pair.handshake()
    pair.server.close()
    pair.pump()
    assert pair.client.events() == [ConnectionClosed()]
    pair.client.receive_data(b"")  # no TruncationError
    assert pair.client.state is not ConnectionState.ERROR


def test_failed_connection_refuses_everything(backend: Any) -> None:
    server = ServerConnection(server_config(backend))
    with pytest.raises(UnexpectedMessage):
        server.receive_data(b"\x17\x03\x03\x00\x01\x00")
    calls: list[Callable[[], None]] = [
        lambda: server.receive_data(b"\x16"),
        lambda: server.receive_data(b""),
        lambda: server.send(b"x"),
    ]
    for call in calls:
        with pytest.raises(UsageError):
            call()
    server.close()  # no-op in ERROR: nothing more is written
    assert server.data_to_send() == _plain_alert(10)
    assert server.data_to_send() == b""
