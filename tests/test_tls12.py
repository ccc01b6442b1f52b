"""TLS 1.2 (RFC 5246 with RFC 7627, 5746, 7507, 5077, 8449, 5705) in memory, both backends.

Client and server are ferrotls on both ends (ConnectionPair / helpers_tls12.Stepper).
Whatever a test reads off the wire is checked with independent oracles: the PRF,
the key block, the exporter and the record AEADs of ``helpers_tls12`` (stdlib hmac
and pyca/cryptography), keyed from the SSLKEYLOGFILE line.  Interop with peers
someone else wrote is in tests/interop/test_tls12_*.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import warnings
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from ferrotls.config import TLS12, TLS13, ClientAuth
from ferrotls.connection import ClientConnection, ConnectionState, ServerConnection
from ferrotls.errors import (
    AlertReceived,
    DecodeError,
    DecryptError,
    HandshakeFailure,
    IllegalParameter,
    InappropriateFallback,
    InsecureProtocolWarning,
    NoApplicationProtocol,
    ProtocolVersionError,
    UnexpectedMessage,
    UnknownPSKIdentity,
    UnsupportedExtension,
    UsageError,
)
from ferrotls.events import ApplicationData, HandshakeComplete, SessionTicket
from ferrotls.messages import ClientHello
from ferrotls.messages import extensions as ext
from ferrotls.messages.enums import ExtensionType
from ferrotls.messages.handshake import ServerHello, encode_handshake
from ferrotls.messages.tls12 import (
    Certificate12,
    CertificateRequest12,
    ClientKeyExchange,
    HelloRequest,
    KeyExchange,
    NewSessionTicket12,
    ServerECDHParams,
    ServerHelloDone,
    ServerKeyExchange,
    decode_handshake12,
)
from ferrotls.psk import ExternalPsk
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite
from ferrotls.tickets import SessionCache, SessionIdCache, TicketKeyManager
from helpers_tls import (
    SERVER_NAME,
    ConnectionPair,
    KeyLog,
    certified,
    client_config,
    issued,
    server_config,
    split_records,
    verifier,
)
from helpers_tls12 import (
    CT_ALERT,
    CT_APPDATA,
    CT_CCS,
    CT_HANDSHAKE,
    DOWNGRADE_TLS12,
    FATAL,
    HS_CERTIFICATE,
    HS_CERTIFICATE_REQUEST,
    HS_CERTIFICATE_VERIFY,
    HS_CLIENT_HELLO,
    HS_CLIENT_KEY_EXCHANGE,
    HS_FINISHED,
    HS_HELLO_REQUEST,
    HS_NEW_SESSION_TICKET,
    HS_SERVER_HELLO,
    HS_SERVER_HELLO_DONE,
    HS_SERVER_KEY_EXCHANGE,
    WARNING,
    Keys12,
    Stepper,
    alert,
    alert_of,
    edit_body,
    edit_messages,
    exporter,
    frame,
    message,
    plain_messages,
    prf,
    replace_body,
    server_hello_random,
)

S = Tls12CipherSuite
GCM128 = S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
PSK = ExternalPsk(b"device-17", bytes(range(32)))

# alert descriptions
UNEXPECTED_MESSAGE, HANDSHAKE_FAILURE, ILLEGAL_PARAMETER = 10, 40, 47
DECODE_ERROR, DECRYPT_ERROR, PROTOCOL_VERSION = 50, 51, 70
INAPPROPRIATE_FALLBACK, NO_RENEGOTIATION, UNSUPPORTED_EXTENSION = 86, 100, 110
UNKNOWN_PSK_IDENTITY, NO_APPLICATION_PROTOCOL = 115, 120


def c12(backend: Any, **kw: Any) -> Any:
    """A client config speaking TLS 1.2 at most (unless the test says otherwise)."""
    kw.setdefault("maximum_version", TLS12)
    return client_config(backend, **kw)


def s12(backend: Any, kinds: tuple[str, ...] = ("p256",), **kw: Any) -> Any:
    """A server config; TLS 1.3-capable unless the test says otherwise."""
    return server_config(backend, kinds, **kw)


def psk_lookup(identity: bytes) -> ExternalPsk | None:
    return PSK if identity == PSK.identity else None


def keys_of(pair: Any, log: KeyLog, suite: int | None = None) -> Keys12:
    suite = suite if suite is not None else pair.client.info.cipher_suite
    return Keys12.from_keylog(suite, log, server_hello_random(pair.s2c[0]))


def exchange(pair: ConnectionPair, size: int = 100) -> None:
    """Application data both ways arrives intact."""
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    pair.client.send(data)
    pair.pump()
    assert b"".join(e.data for e in pair.server.events() if isinstance(e, ApplicationData)) == data
    pair.server.send(data[::-1])
    pair.pump()
    got = b"".join(e.data for e in pair.client.events() if isinstance(e, ApplicationData))
    assert got == data[::-1]


# --------------------------------------------------------------------------- every suite

#: (suite, server certificate kind or "psk", the ServerKeyExchange scheme a default client gets)
SUITE_CASES = [
    (code, kind, scheme)
    for code, info in TLS12_SUITES.items()
    for kind, scheme in (
        # TLS 1.2 ECDSA is not bound to the curve: a P-384 key signs with the client's
        # first ECDSA scheme, ecdsa_secp256r1_sha256 (RFC 8422 section 5.10)
        [("p256", 0x0403), ("p384", 0x0403), ("ed25519", 0x0807)] if info.auth == "ECDSA"
        else [("rsa2048", 0x0804)] if info.auth == "RSA"
        else [("psk", None)]
    )
]


@pytest.mark.parametrize(
    "suite,kind,scheme", SUITE_CASES,
    ids=[f"{TLS12_SUITES[c].openssl_name}-{k}" for c, k, _ in SUITE_CASES],
)
def test_every_suite(backend: Any, suite: int, kind: str, scheme: int | None) -> None:
    info = TLS12_SUITES[suite]
    log = KeyLog()
    psk_kw: dict[str, Any] = {"external_psks": (PSK,)} if kind == "psk" else {}
    cc = client_config(backend, tls12_cipher_suites=(suite,), key_log=log, **psk_kw)  # 1.3-capable
    sc = server_config(
        backend, ("p256",) if kind == "psk" else (kind,), maximum_version=TLS12,
        tls12_cipher_suites=(suite,), psk_callback=psk_lookup if kind == "psk" else None,
    )
    pair = ConnectionPair(cc, sc)
    c, s = pair.handshake()
    for info_ in (c, s):
        assert info_.version == "TLSv1.2"
        assert info_.cipher_suite == suite
        assert info_.signature_scheme == scheme
        assert info_.resumed is False
    assert c.psk_identity == s.psk_identity == (PSK.identity if kind == "psk" else None)
    if info.kx == "PSK":
        assert c.group is None and s.group is None
    else:
        assert c.group == s.group == 0x001D  # X25519: both sides' first TLS 1.2 group
    assert c.peer_certificates == (() if kind == "psk" else tuple(issued(kind).der_chain()))
    # what a PSK server sends: no Certificate; ServerKeyExchange only for ECDHE_PSK
    types = [m[0] for m in plain_messages(pair.s2c[0])[0]]
    expected = [HS_SERVER_HELLO]
    if info.kx == "ECDHE":
        expected.append(HS_CERTIFICATE)
    if info.kx != "PSK":
        expected.append(HS_SERVER_KEY_EXCHANGE)
    assert types == [*expected, HS_SERVER_HELLO_DONE]
    # the record format, independently: the server's first application-data record
    # opens with keys from the key log (seq 1: its Finished was seq 0)
    pair.server.send(b"oracle check")
    keys = keys_of(pair, log, suite)
    (content_type, record), = split_records(pair.server.data_to_send())
    assert content_type == CT_APPDATA
    assert keys.open(False, 1, record) == (CT_APPDATA, b"oracle check")
    assert len(record) == 5 + info.record_iv_len + len(b"oracle check") + info.tag_len
    if info.record_iv_len:  # GCM/CCM: the explicit nonce is the sequence number
        assert record[5:13] == (1).to_bytes(8, "big")
    pair.client.receive_data(record)
    assert pair.client.events() == [ApplicationData(b"oracle check")]
    exchange(pair, 3000)


def test_default_client_and_server_pick_tls12_suite_by_certificate(backend: Any) -> None:
    """A server with an RSA and an ECDSA certificate serves ECDHE_RSA to a client
    that offers only RSA suites, and the default suites otherwise."""
    sc = s12(backend, ("rsa2048", "p256"), maximum_version=TLS12)
    c, _ = ConnectionPair(c12(backend), sc).handshake()
    assert c.cipher_suite == S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    rsa_only = (S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,)
    c, _ = ConnectionPair(c12(backend, tls12_cipher_suites=rsa_only), sc).handshake()
    assert c.cipher_suite == rsa_only[0] and c.signature_scheme == 0x0804


def test_no_common_tls12_suite_is_handshake_failure(backend: Any) -> None:
    """An RSA-only server and an ECDSA-only client."""
    pair = Stepper(c12(backend, tls12_cipher_suites=(GCM128,)), s12(backend, ("rsa2048",)))
    with pytest.raises(HandshakeFailure):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def test_server_key_exchange_with_pkcs1(backend: Any) -> None:
    """RSA PKCS#1 v1.5 is allowed in a TLS 1.2 ServerKeyExchange (not in TLS 1.3)."""
    cc = c12(backend, signature_schemes=(0x0401,))  # + the other PKCS#1 hashes
    c, s = ConnectionPair(cc, s12(backend, ("rsa2048",))).handshake()
    assert c.signature_scheme == s.signature_scheme == 0x0401


@pytest.mark.parametrize("group", [0x001D, 0x0017, 0x0018], ids=["x25519", "p256", "p384"])
def test_ecdhe_groups(backend: Any, group: int) -> None:
    c, s = ConnectionPair(c12(backend), s12(backend, groups=(group,))).handshake()
    assert c.group == s.group == group


# --------------------------------------------------------------------------- versions

RANGES = {"1.2": (TLS12, TLS12), "1.2-1.3": (TLS12, TLS13), "1.3": (TLS13, TLS13)}


@pytest.mark.parametrize("client_range", list(RANGES))
@pytest.mark.parametrize("server_range", list(RANGES))
def test_version_matrix(backend: Any, client_range: str, server_range: str) -> None:
    cmin, cmax = RANGES[client_range]
    smin, smax = RANGES[server_range]
    pair = Stepper(
        client_config(backend, minimum_version=cmin, maximum_version=cmax),
        server_config(backend, minimum_version=smin, maximum_version=smax),
    )
    hello = pair.client.data_to_send()
    if cmax < smin or smax < cmin:
        with pytest.raises(ProtocolVersionError):
            pair.to_server(hello)
        wire = pair.server.data_to_send()
        assert alert_of(wire) == alert(FATAL, PROTOCOL_VERSION)
        with pytest.raises(AlertReceived) as exc:
            pair.client.receive_data(wire)
        assert exc.value.description == PROTOCOL_VERSION
        return
    expected = "TLSv1.3" if cmax == smax == TLS13 else "TLSv1.2"
    first = flight = pair.to_server(hello)
    while flight:
        flight = pair.to_client(flight)
        flight = pair.to_server(flight) if flight else b""
    assert pair.client.info.version == pair.server.info.version == expected
    if expected == "TLSv1.2":
        # RFC 8446 section 4.1.3: only a TLS 1.3-capable server marks its random
        assert (server_hello_random(first)[-8:] == DOWNGRADE_TLS12) == (smax == TLS13)


def _transcript(*flights: bytes) -> bytes:
    """The plaintext handshake messages at the start of each flight, concatenated."""
    return b"".join(m for flight in flights for m in plain_messages(flight)[0])


def _client_hello(data: bytes) -> ClientHello:
    (hello_msg,), rest = plain_messages(data)
    assert rest == b"" and hello_msg[0] == HS_CLIENT_HELLO
    hello = ClientHello.from_bytes(hello_msg[4:])
    return hello


def _reframe_hello(hello: ClientHello) -> bytes:
    return frame([encode_handshake(hello)], version=0x0301)


def test_tls13_capable_server_marks_its_random_when_it_negotiates_tls12(backend: Any) -> None:
    pair = ConnectionPair(c12(backend), s12(backend))  # client 1.2 only: it does not check
    c, _ = pair.handshake()
    assert c.version == "TLSv1.2"
    assert server_hello_random(pair.s2c[0])[-8:] == DOWNGRADE_TLS12


def test_tls12_only_server_does_not_mark_its_random(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend), s12(backend, maximum_version=TLS12))
    c, _ = pair.handshake()  # a TLS 1.3-capable client accepts TLS 1.2 from it
    assert c.version == "TLSv1.2"
    assert server_hello_random(pair.s2c[0])[-8:] != DOWNGRADE_TLS12


def test_tls13_capable_client_aborts_on_the_downgrade_sentinel(backend: Any) -> None:
    """An attacker strips supported_versions from a TLS 1.3-capable client's
    ClientHello: the TLS 1.3-capable server answers TLS 1.2 with the sentinel and
    the client aborts with illegal_parameter (RFC 8446 section 4.1.3)."""
    pair = Stepper(client_config(backend), s12(backend))
    hello = _client_hello(pair.client.data_to_send())
    hello.extensions = [
        e for e in hello.extensions if e.ext_type != ExtensionType.SUPPORTED_VERSIONS
    ]
    flight = pair.to_server(_reframe_hello(hello))
    assert server_hello_random(flight)[-8:] == DOWNGRADE_TLS12
    with pytest.raises(IllegalParameter, match="downgrade"):
        pair.client.receive_data(flight)
    assert alert_of(pair.client.data_to_send()) == alert(FATAL, ILLEGAL_PARAMETER)


def test_tls13_only_client_refuses_a_tls12_server(backend: Any) -> None:
    pair = Stepper(
        client_config(backend, minimum_version=TLS13), s12(backend, maximum_version=TLS12)
    )
    with pytest.raises(ProtocolVersionError):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, PROTOCOL_VERSION)


def _add_fallback_scsv(hello: ClientHello) -> ClientHello:
    hello.cipher_suites.append(0x5600)
    return hello


def test_fallback_scsv_to_a_tls13_capable_server(backend: Any) -> None:
    """RFC 7507: a client falling back to TLS 1.2 while the server has TLS 1.3."""
    pair = Stepper(c12(backend, client_hello_hook=_add_fallback_scsv), s12(backend))
    with pytest.raises(InappropriateFallback):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, INAPPROPRIATE_FALLBACK)


def test_fallback_scsv_is_fine_when_tls12_is_the_servers_best(backend: Any) -> None:
    cc = c12(backend, client_hello_hook=_add_fallback_scsv)
    pair = ConnectionPair(cc, s12(backend, maximum_version=TLS12))
    c, _ = pair.handshake()
    assert c.version == "TLSv1.2"


def test_fallback_scsv_with_tls13_offered_is_ignored(backend: Any) -> None:
    cc = client_config(backend, client_hello_hook=_add_fallback_scsv)
    pair = ConnectionPair(cc, s12(backend))
    c, _ = pair.handshake()
    assert c.version == "TLSv1.3"


# --------------------------------------------------------------------------- EMS (RFC 7627)


def _drop_ems(hello: ClientHello) -> ClientHello:
    hello.extensions = [
        e for e in hello.extensions if e.ext_type != ExtensionType.EXTENDED_MASTER_SECRET
    ]
    return hello


def _edit_server_hello(flight: bytes, edit: Any) -> bytes:
    def on_sh(body: bytes) -> bytes:
        sh = ServerHello.from_bytes(body)
        edit(sh)
        return sh.to_bytes()

    return edit_messages(flight, lambda ms: replace_body(ms, HS_SERVER_HELLO, on_sh))


def _sh_editor(edit: Any) -> Any:
    return lambda flight: _edit_server_hello(flight, edit)


def _without(ext_type: int) -> Any:
    def edit(sh: ServerHello) -> None:
        assert any(e.ext_type == ext_type for e in sh.extensions)
        sh.extensions = [e for e in sh.extensions if e.ext_type != ext_type]

    return edit


def test_server_requires_ems(backend: Any) -> None:
    pair = Stepper(c12(backend, client_hello_hook=_drop_ems), s12(backend))
    with pytest.raises(HandshakeFailure, match="extended_master_secret"):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def test_client_requires_ems(backend: Any) -> None:
    """A server (relaxed) that goes on without EMS: the client refuses."""
    pair = Stepper(
        c12(backend, client_hello_hook=_drop_ems),
        s12(backend, require_extended_master_secret=False),
    )
    with pytest.warns(InsecureProtocolWarning):
        flight = pair.to_server(pair.client.data_to_send())
    with pytest.raises(HandshakeFailure, match="extended_master_secret"):
        pair.client.receive_data(flight)
    assert alert_of(pair.client.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def test_client_requires_ems_in_the_server_hello(backend: Any) -> None:
    pair = Stepper(c12(backend), s12(backend))
    flight = _edit_server_hello(pair.to_server(pair.client.data_to_send()), _without(0x0017))
    with pytest.raises(HandshakeFailure):
        pair.client.receive_data(flight)
    assert alert_of(pair.client.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def test_ems_relaxed_works_with_a_warning(backend: Any) -> None:
    log = KeyLog()
    cc = c12(
        backend, client_hello_hook=_drop_ems, require_extended_master_secret=False, key_log=log
    )
    pair = ConnectionPair(cc, s12(backend, require_extended_master_secret=False))
    with pytest.warns(InsecureProtocolWarning) as caught:
        pair.handshake()
    # one from each side
    assert len([w for w in caught if issubclass(w.category, InsecureProtocolWarning)]) == 2
    sh = ServerHello.from_bytes(plain_messages(pair.s2c[0])[0][0][4:])
    assert not sh.has(ExtensionType.EXTENDED_MASTER_SECRET)
    exchange(pair)


def test_ems_master_secret_is_over_the_session_hash(backend: Any) -> None:
    """RFC 7627 section 4, for a plain PSK suite, where the pre-master secret is
    known: master = PRF(pms, "extended master secret", Hash(ClientHello ..
    ClientKeyExchange)), checked against the key log."""
    suite = S.TLS_PSK_WITH_AES_128_GCM_SHA256
    log = KeyLog()
    cc = c12(backend, tls12_cipher_suites=(suite,), external_psks=(PSK,), key_log=log)
    pair = Stepper(cc, s12(backend, tls12_cipher_suites=(suite,), psk_callback=psk_lookup))
    hello, flight1, flight2, _ = pair.full()
    transcript = _transcript(hello, flight1, flight2)
    n = len(PSK.key).to_bytes(2, "big")
    pms = n + bytes(len(PSK.key)) + n + PSK.key  # RFC 4279 section 2
    master = prf("sha256", pms, b"extended master secret", hashlib.sha256(transcript).digest(), 48)
    (_, _, logged), = log.entries()
    assert logged == master


def _x25519_keys_with_leading_zero() -> tuple[bytes, bytes, bytes]:
    """(client private, server private, shared) with shared[0] == 0 (about 1 in 256)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    client = bytes(range(1, 33))
    client_key = X25519PrivateKey.from_private_bytes(client)
    for i in range(100_000):
        server = hashlib.sha256(b"server %d" % i).digest()
        shared = X25519PrivateKey.from_private_bytes(server).exchange(client_key.public_key())
        if shared[0] == 0:
            return client, server, shared
    raise AssertionError("no X25519 key pair with a leading zero byte found")


def test_ecdhe_premaster_secret_keeps_its_leading_zero_bytes(backend: Any) -> None:
    """What tlsfuzzer's test-ecdhe-padded-shared-secret checks (its probes offer CBC
    suites only): the ECDHE pre-master secret is the whole X25519 output, leading
    zero bytes included (RFC 8422 section 5.10, RFC 7748 section 6.1), unlike a
    TLS 1.2 FFDHE secret.  Fixed keys give a shared secret starting with 0x00; the
    logged master secret is the EMS PRF over all 32 bytes, not over the stripped
    value."""
    client, server, shared = _x25519_keys_with_leading_zero()
    log = KeyLog()
    x25519 = 0x001D
    cc = c12(backend, key_log=log, groups=(x25519, 0x0017), key_share_private_keys={x25519: client},
             tls12_cipher_suites=(GCM128,))
    sc = s12(backend, groups=(x25519,), key_share_private_keys={x25519: server})
    pair = Stepper(cc, sc)
    hello, flight1, flight2, _ = pair.full()
    session_hash = hashlib.sha256(_transcript(hello, flight1, flight2)).digest()
    (_, _, logged), = log.entries()
    assert len(shared) == 32 and shared[0] == 0
    assert logged == prf("sha256", shared, b"extended master secret", session_hash, 48)
    assert logged != prf("sha256", shared.lstrip(b"\0"), b"extended master secret", session_hash, 48)


# --------------------------------------------------------------------------- renegotiation


def _established(backend: Any, **server_kw: Any) -> tuple[ConnectionPair, Keys12]:
    log = KeyLog()
    pair = ConnectionPair(c12(backend, key_log=log), s12(backend, **server_kw))
    pair.handshake()
    return pair, keys_of(pair, log)


def test_renegotiation_info_is_exchanged(backend: Any) -> None:
    pair = ConnectionPair(c12(backend), s12(backend))
    pair.handshake()
    hello = _client_hello(pair.c2s[0])
    reneg = hello.get(ext.RenegotiationInfo)
    assert reneg is not None and reneg.renegotiated_connection == b""
    sh = ServerHello.from_bytes(plain_messages(pair.s2c[0])[0][0][4:])
    assert sh.get(ext.RenegotiationInfo) == ext.RenegotiationInfo(b"")


def test_hello_request_gets_a_no_renegotiation_warning(backend: Any) -> None:
    pair, keys = _established(backend)
    # the server's Finished was its record 0
    pair.client.receive_data(keys.seal(False, 1, CT_HANDSHAKE, message(HS_HELLO_REQUEST, b"")))
    (content_type, record), = split_records(pair.client.data_to_send())
    assert keys.open(True, 1, record) == (CT_ALERT, alert(WARNING, NO_RENEGOTIATION))
    # the connection goes on: the client reads and writes at the next sequence numbers
    assert pair.client.state is ConnectionState.ESTABLISHED
    pair.client.receive_data(keys.seal(False, 2, CT_APPDATA, b"after"))
    assert pair.client.events() == [ApplicationData(b"after")]
    pair.client.send(b"still here")
    (_, record), = split_records(pair.client.data_to_send())
    assert keys.open(True, 2, record) == (CT_APPDATA, b"still here")


def test_hello_request_is_fatal_with_fatal_on_renegotiation(backend: Any) -> None:
    log = KeyLog()
    pair = ConnectionPair(c12(backend, key_log=log, fatal_on_renegotiation=True), s12(backend))
    pair.handshake()
    keys = keys_of(pair, log)
    with pytest.raises(HandshakeFailure, match="renegotiate"):
        pair.client.receive_data(keys.seal(False, 1, CT_HANDSHAKE, message(HS_HELLO_REQUEST, b"")))
    (_, record), = split_records(pair.client.data_to_send())
    assert keys.open(True, 1, record) == (CT_ALERT, alert(FATAL, HANDSHAKE_FAILURE))
    assert pair.client.state is ConnectionState.ERROR


def _renegotiating_hello(keys: Keys12) -> bytes:
    hello = ClientHello(
        random=bytes(32), cipher_suites=[GCM128],
        extensions=[ext.RenegotiationInfo(bytes(12)), ext.ExtendedMasterSecret()],
    )
    return encode_handshake(hello)


@pytest.mark.parametrize("fatal", [False, True])
def test_client_hello_after_the_handshake(backend: Any, fatal: bool) -> None:
    pair, keys = _established(backend, fatal_on_renegotiation=fatal)
    record = keys.seal(True, 1, CT_HANDSHAKE, _renegotiating_hello(keys))  # client Finished was 0
    if fatal:
        with pytest.raises(HandshakeFailure):
            pair.server.receive_data(record)
        (_, out), = split_records(pair.server.data_to_send())
        assert keys.open(False, 1, out) == (CT_ALERT, alert(FATAL, HANDSHAKE_FAILURE))
        return
    pair.server.receive_data(record)
    (_, out), = split_records(pair.server.data_to_send())
    assert keys.open(False, 1, out) == (CT_ALERT, alert(WARNING, NO_RENEGOTIATION))
    pair.server.receive_data(keys.seal(True, 2, CT_APPDATA, b"go on"))
    assert pair.server.events() == [ApplicationData(b"go on")]


def test_hello_request_to_a_server_is_unexpected(backend: Any) -> None:
    pair, keys = _established(backend)
    with pytest.raises(UnexpectedMessage):
        pair.server.receive_data(keys.seal(True, 1, CT_HANDSHAKE, message(HS_HELLO_REQUEST, b"")))
    (_, out), = split_records(pair.server.data_to_send())
    assert keys.open(False, 1, out) == (CT_ALERT, alert(FATAL, UNEXPECTED_MESSAGE))


def test_renegotiation_info_not_empty_in_server_hello(backend: Any) -> None:
    pair = Stepper(c12(backend), s12(backend))

    def edit(sh: ServerHello) -> None:
        sh.extensions = [
            ext.RenegotiationInfo(bytes(24)) if isinstance(e, ext.RenegotiationInfo) else e
            for e in sh.extensions
        ]

    flight = _edit_server_hello(pair.to_server(pair.client.data_to_send()), edit)
    with pytest.raises(HandshakeFailure, match="renegotiation_info"):
        pair.client.receive_data(flight)
    assert alert_of(pair.client.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def test_renegotiation_info_not_empty_in_client_hello(backend: Any) -> None:
    def hook(hello: ClientHello) -> ClientHello:
        hello.extensions = [
            ext.RenegotiationInfo(bytes(12)) if isinstance(e, ext.RenegotiationInfo) else e
            for e in hello.extensions
        ]
        return hello

    pair = Stepper(c12(backend, client_hello_hook=hook), s12(backend))
    with pytest.raises(HandshakeFailure):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def test_key_update_is_refused_in_tls12(backend: Any) -> None:
    pair, _ = _established(backend)
    with pytest.raises(UsageError, match="KeyUpdate"):
        pair.client.update_keys()


def test_renegotiation_requests_are_bounded(backend: Any) -> None:
    """A peer that asks again at every refusal (``gnutls-cli -e`` does): after
    Limits.max_renegotiation_requests (3) refusals without application data in
    between, the next request is a fatal handshake_failure.  Application data starts
    the count again."""
    pair, keys = _established(backend)
    seq_in, seq_out = 1, 1  # both Finished messages were record 0

    def renegotiate() -> None:
        nonlocal seq_in
        pair.server.receive_data(keys.seal(True, seq_in, CT_HANDSHAKE, _renegotiating_hello(keys)))
        seq_in += 1

    for _ in range(3):
        for _ in range(3):
            renegotiate()
            (_, out), = split_records(pair.server.data_to_send())
            assert keys.open(False, seq_out, out) == (CT_ALERT, alert(WARNING, NO_RENEGOTIATION))
            seq_out += 1
        pair.server.receive_data(keys.seal(True, seq_in, CT_APPDATA, b"progress"))
        seq_in += 1
        assert pair.server.events() == [ApplicationData(b"progress")]
    for _ in range(3):
        renegotiate()
        seq_out += 1
    pair.server.data_to_send()
    with pytest.raises(HandshakeFailure, match="more than 3 times"):
        renegotiate()
    (_, out), = split_records(pair.server.data_to_send())
    assert keys.open(False, seq_out, out) == (CT_ALERT, alert(FATAL, HANDSHAKE_FAILURE))
    assert pair.server.state is ConnectionState.ERROR


def test_hello_requests_to_a_client_are_bounded(backend: Any) -> None:
    from ferrotls.limits import Limits

    log = KeyLog()
    pair = ConnectionPair(c12(backend, key_log=log, limits=Limits(max_renegotiation_requests=1)),
                          s12(backend))
    pair.handshake()
    keys = keys_of(pair, log)
    hello_request = message(HS_HELLO_REQUEST, b"")
    pair.client.receive_data(keys.seal(False, 1, CT_HANDSHAKE, hello_request))
    (_, out), = split_records(pair.client.data_to_send())
    assert keys.open(True, 1, out) == (CT_ALERT, alert(WARNING, NO_RENEGOTIATION))
    with pytest.raises(HandshakeFailure, match="renegotiate more than 1 times"):
        pair.client.receive_data(keys.seal(False, 2, CT_HANDSHAKE, hello_request))
    (_, out), = split_records(pair.client.data_to_send())
    assert keys.open(True, 2, out) == (CT_ALERT, alert(FATAL, HANDSHAKE_FAILURE))


# ----------------------------------------------------------------------- HelloRequest mid-handshake


def _with_hello_requests(flight: bytes, positions: set[int], count: int = 1) -> bytes:
    """The server's flight with ``count`` HelloRequests before each message at ``positions``."""
    def edit(messages: list[bytes]) -> list[bytes]:
        out: list[bytes] = []
        for i, m in enumerate(messages):
            if i in positions:
                out += [message(HS_HELLO_REQUEST, b"")] * count
            out.append(m)
        if len(messages) in positions:
            out += [message(HS_HELLO_REQUEST, b"")] * count
        return out

    return edit_messages(flight, edit)


@pytest.mark.parametrize(
    "position", [1, 2, 3, 4], ids=["after-SH", "after-Cert", "after-SKE", "after-CR"]
)
def test_hello_request_during_the_handshake_is_ignored(backend: Any, position: int) -> None:
    """RFC 5246 7.4.1.1: a client that is negotiating ignores a HelloRequest (as OpenSSL
    does); it is in no transcript, so both Finished messages still verify."""
    pair = _auth_stepper(backend, ClientAuth.OPTIONAL, None)
    flight1 = pair.to_server(pair.client.data_to_send())
    assert [m[0] for m in plain_messages(flight1)[0]] == [
        HS_SERVER_HELLO, HS_CERTIFICATE, HS_SERVER_KEY_EXCHANGE, HS_CERTIFICATE_REQUEST,
        HS_SERVER_HELLO_DONE,
    ]
    flight2 = pair.to_client(_with_hello_requests(flight1, {position}))
    assert pair.to_client(pair.to_server(flight2)) == b""
    assert pair.client.info.version == pair.server.info.version == "TLSv1.2"
    assert pair.client.state is ConnectionState.ESTABLISHED


def test_hello_request_in_its_own_record_during_the_handshake(backend: Any) -> None:
    pair = Stepper(c12(backend), s12(backend))
    flight1 = pair.to_server(pair.client.data_to_send())
    messages, _ = plain_messages(flight1)
    wire = frame(messages[:2]) + frame([message(HS_HELLO_REQUEST, b"")]) + frame(messages[2:])
    pair.to_client(pair.to_server(pair.to_client(wire)))
    assert pair.client.handshake_complete and pair.server.handshake_complete


def test_malformed_hello_request_during_the_handshake_is_decode_error(backend: Any) -> None:
    pair = Stepper(c12(backend), s12(backend))
    flight1 = pair.to_server(pair.client.data_to_send())

    def edit(messages: list[bytes]) -> list[bytes]:
        return [messages[0], message(HS_HELLO_REQUEST, b"\x00"), *messages[1:]]

    with pytest.raises(DecodeError):
        pair.client.receive_data(edit_messages(flight1, edit))
    assert alert_of(pair.client.data_to_send()) == alert(FATAL, DECODE_ERROR)


def test_hello_request_flood_during_the_handshake(backend: Any) -> None:
    """Ignored messages are counted like empty records (Limits.max_empty_records)."""
    pair = Stepper(c12(backend), s12(backend))
    flight1 = pair.to_server(pair.client.data_to_send())
    with pytest.raises(UnexpectedMessage, match="ignored"):
        pair.client.receive_data(_with_hello_requests(flight1, {1}, count=33))
    assert alert_of(pair.client.data_to_send()) == alert(FATAL, UNEXPECTED_MESSAGE)


@pytest.mark.parametrize("where", ["resumed-after-SH", "before-server-ccs"])
def test_hello_request_where_the_rest_is_fixed_is_unexpected(backend: Any, where: str) -> None:
    """After the client's Finished (or after a resuming ServerHello) the server's
    messages are fixed: [NewSessionTicket] ChangeCipherSpec Finished."""
    log = KeyLog()
    if where == "resumed-after-SH":
        cache = SessionCache()
        sc = s12(backend, ticket_count=0)
        _first(backend, c12(backend, session_cache=cache), sc)
        pair = Stepper(c12(backend, session_cache=cache), sc)
        flight = pair.to_server(pair.client.data_to_send())
        flight = _with_hello_requests(flight, {1})
    else:
        pair = Stepper(c12(backend, key_log=log), s12(backend, ticket_count=0))
        flight1 = pair.to_server(pair.client.data_to_send())
        flight2 = pair.to_client(flight1)
        flight = frame([message(HS_HELLO_REQUEST, b"")]) + pair.to_server(flight2)
    with pytest.raises(UnexpectedMessage, match="HELLO_REQUEST"):
        pair.client.receive_data(flight)
    if where == "resumed-after-SH":
        assert alert_of(pair.client.data_to_send()) == alert(FATAL, UNEXPECTED_MESSAGE)
    else:  # the client has sent its Finished: the alert is protected (record 1)
        suite = ServerHello.from_bytes(plain_messages(flight1)[0][0][4:]).cipher_suite
        keys = Keys12.from_keylog(suite, log, server_hello_random(flight1))
        (_, out), = split_records(pair.client.data_to_send())
        assert keys.open(True, 1, out) == (CT_ALERT, alert(FATAL, UNEXPECTED_MESSAGE))


def test_hello_request_to_a_server_during_the_handshake_is_unexpected(backend: Any) -> None:
    pair = Stepper(c12(backend), s12(backend))
    pair.to_server(pair.client.data_to_send())
    with pytest.raises(UnexpectedMessage):
        pair.server.receive_data(frame([message(HS_HELLO_REQUEST, b"")]))
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, UNEXPECTED_MESSAGE)


# ------------------------------------------------------------------ warning alerts (RFC 5246 7.2)


def test_warning_alert_is_tolerated_in_tls12(backend: Any) -> None:
    """RFC 5246 section 7.2: after a warning the connection can go on; it is counted."""
    pair, keys = _established(backend)
    assert pair.client.warning_alerts_received == 0 and pair.client.last_warning_alert is None
    unrecognized_name = alert(WARNING, 112)
    pair.client.receive_data(keys.seal(False, 1, CT_ALERT, unrecognized_name))
    assert pair.client.state is ConnectionState.ESTABLISHED and pair.client.events() == []
    assert pair.client.warning_alerts_received == 1 and pair.client.last_warning_alert == 112
    assert pair.client.data_to_send() == b""  # no answer
    pair.client.receive_data(keys.seal(False, 2, CT_APPDATA, b"after"))
    assert pair.client.events() == [ApplicationData(b"after")]
    # and the server side: a no_renegotiation warning from the client
    pair.server.receive_data(keys.seal(True, 1, CT_ALERT, alert(WARNING, NO_RENEGOTIATION)))
    assert pair.server.state is ConnectionState.ESTABLISHED
    assert pair.server.last_warning_alert == NO_RENEGOTIATION
    pair.server.receive_data(keys.seal(True, 2, CT_APPDATA, b"go on"))
    assert pair.server.events() == [ApplicationData(b"go on")]


@pytest.mark.parametrize("description", [10, 20, 40, 47, 50, 70, 80, 110, 120])
def test_warning_alert_that_is_always_fatal_ends_the_connection(
    backend: Any, description: int
) -> None:
    """unexpected_message, bad_record_mac, handshake_failure, ... are fatal by
    definition (RFC 5246 7.2.2, RFC 6066, RFC 7301), whatever level they carry."""
    pair, keys = _established(backend)
    with pytest.raises(AlertReceived) as exc:
        pair.client.receive_data(keys.seal(False, 1, CT_ALERT, alert(WARNING, description)))
    assert exc.value.description == description
    assert pair.client.state is ConnectionState.ERROR
    assert pair.client.data_to_send() == b""


def test_warning_alert_flood_is_unexpected_message(backend: Any) -> None:
    """More than Limits.max_warning_alerts (4) in a row, with no handshake message or
    application data between them, is a flood (as OpenSSL's limit of 5)."""
    pair, keys = _established(backend)
    seq = 1
    for _ in range(2):  # 4 warnings, then data: fine
        pair.client.receive_data(b"".join(
            keys.seal(False, seq + i, CT_ALERT, alert(WARNING, 112)) for i in range(4)
        ))
        seq += 4
        pair.client.receive_data(keys.seal(False, seq, CT_APPDATA, b"x"))
        seq += 1
        assert pair.client.events() == [ApplicationData(b"x")]
    flood = b"".join(keys.seal(False, seq + i, CT_ALERT, alert(WARNING, 44)) for i in range(5))
    with pytest.raises(UnexpectedMessage, match="warning alerts"):
        pair.client.receive_data(flood)
    (_, out), = split_records(pair.client.data_to_send())
    assert keys.open(True, 1, out) == (CT_ALERT, alert(FATAL, UNEXPECTED_MESSAGE))
    assert pair.client.warning_alerts_received == 12


def test_warning_unrecognized_name_before_the_server_hello(backend: Any) -> None:
    """An OpenSSL server without a certificate for the name sends a warning
    unrecognized_name before its ServerHello (tests/interop shows it): a client that
    may speak TLS 1.2 goes on (a TLS 1.3 server never sends warnings)."""
    warning = frame([alert(WARNING, 112)], content_type=CT_ALERT)
    pair = Stepper(client_config(backend), s12(backend, maximum_version=TLS12))
    flight1 = pair.to_server(pair.client.data_to_send())
    pair.to_client(pair.to_server(pair.to_client(warning + flight1)))
    assert pair.client.info.version == "TLSv1.2"
    assert pair.client.last_warning_alert == 112


def test_warning_alert_is_fatal_to_a_tls13_only_client(backend: Any) -> None:
    warning = frame([alert(WARNING, 112)], content_type=CT_ALERT)
    client = ClientConnection(client_config(backend, minimum_version=TLS13), SERVER_NAME)
    client.data_to_send()
    with pytest.raises(AlertReceived) as exc:
        client.receive_data(warning)
    assert exc.value.description == 112


def test_warning_alert_is_fatal_in_tls13(backend: Any) -> None:
    """RFC 8446 section 6: in TLS 1.3 every alert but close_notify and user_canceled
    ends the connection, whatever its level -- also for endpoints that could speak
    TLS 1.2."""
    from helpers_tls import seal_record

    log = KeyLog()
    pair = ConnectionPair(client_config(backend, cipher_suites=(0x1301,), key_log=log),
                          server_config(backend))
    c, _ = pair.handshake()
    assert c.version == "TLSv1.3"
    secret = log.secret("SERVER_TRAFFIC_SECRET_0")
    with pytest.raises(AlertReceived) as exc:
        pair.client.receive_data(seal_record(0x1301, secret, 0, CT_ALERT, alert(WARNING, 112)))
    assert exc.value.description == 112
    assert pair.client.state is ConnectionState.ERROR


# ------------------------------------------------------------ no signature_algorithms (RFC 9155)


def _sigalgs_hook(schemes: list[int] | None) -> Any:
    """A ClientHello hook: signature_algorithms removed (None) or replaced."""
    def hook(hello: ClientHello) -> ClientHello:
        hello.extensions = [
            e for e in hello.extensions if e.ext_type != ExtensionType.SIGNATURE_ALGORITHMS
        ]
        if schemes is not None:
            hello.extensions.append(ext.SignatureAlgorithms(schemes))
        return hello

    return hook


def test_client_hello_without_signature_algorithms_is_handshake_failure(backend: Any) -> None:
    """RFC 5246 7.4.1.4.1 would default to SHA-1 signatures; ferrotls does not sign
    with SHA-1, so a certificate suite cannot be served (RFC 9155): a handshake_failure
    that says why."""
    pair = Stepper(c12(backend, client_hello_hook=_sigalgs_hook(None)), s12(backend))
    with pytest.raises(HandshakeFailure, match="no signature_algorithms.*SHA-1.*RFC 9155"):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def test_client_hello_with_only_sha1_signature_algorithms_is_handshake_failure(backend: Any) -> None:
    hook = _sigalgs_hook([0x0201, 0x0203, 0x0101])  # rsa_pkcs1_sha1, ecdsa_sha1, rsa md5
    pair = Stepper(c12(backend, client_hello_hook=hook), s12(backend, ("p256", "rsa2048")))
    with pytest.raises(HandshakeFailure, match="SHA-1 and MD5"):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def test_psk_suite_needs_no_signature_algorithms(backend: Any) -> None:
    """Without signatures (PSK suites) the extension is not needed (RFC 9155): the
    server passes over its preferred certificate suite and serves the PSK one."""
    psk_suite = S.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
    suites = (GCM128, psk_suite)
    cc = c12(backend, tls12_cipher_suites=suites, external_psks=(PSK,),
             client_hello_hook=_sigalgs_hook(None))
    sc = s12(backend, tls12_cipher_suites=suites, psk_callback=psk_lookup)
    c, s = ConnectionPair(cc, sc).handshake()
    assert c.cipher_suite == s.cipher_suite == psk_suite
    assert s.psk_identity == PSK.identity
    # with the extension, the server's first choice
    c, _ = ConnectionPair(c12(backend, tls12_cipher_suites=suites, external_psks=(PSK,)), sc).handshake()
    assert c.cipher_suite == GCM128


# --------------------------------------------------------------------------- client certificates


def _verify_signature(cert_der: bytes, scheme: int, signature: bytes, data: bytes) -> None:
    """Check a TLS 1.2 signature with pyca/cryptography (raises InvalidSignature)."""
    key = x509.load_der_x509_certificate(cert_der).public_key()
    hash_of = {0x04: hashes.SHA256(), 0x05: hashes.SHA384(), 0x06: hashes.SHA512()}
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hash_of[scheme >> 8]))
    elif isinstance(key, rsa.RSAPublicKey):
        if scheme >> 8 == 0x08:  # rsa_pss_rsae_sha256/384/512
            h = {0x04: hashes.SHA256(), 0x05: hashes.SHA384(), 0x06: hashes.SHA512()}[scheme & 0xFF]
            key.verify(signature, data, padding.PSS(padding.MGF1(h), h.digest_size), h)
        else:
            key.verify(signature, data, padding.PKCS1v15(), hash_of[scheme >> 8])
    else:
        raise AssertionError(f"unexpected key {key!r}")


def _auth_stepper(backend: Any, mode: ClientAuth, kind: str | None, **server_kw: Any) -> Stepper:
    cert = certified(kind, "client.example") if kind else None
    return Stepper(
        c12(backend, certificate=cert),
        s12(backend, client_auth=mode, client_verifier=verifier(), **server_kw),
    )


@pytest.mark.parametrize("mode", [ClientAuth.NONE, ClientAuth.OPTIONAL, ClientAuth.REQUIRED])
@pytest.mark.parametrize("with_cert", [False, True])
def test_client_auth_modes(backend: Any, mode: ClientAuth, with_cert: bool) -> None:
    pair = _auth_stepper(backend, mode, "p256" if with_cert else None)
    flight1 = pair.to_server(pair.client.data_to_send())
    sent_types = [m[0] for m in plain_messages(flight1)[0]]
    assert (HS_CERTIFICATE_REQUEST in sent_types) == (mode is not ClientAuth.NONE)
    flight2 = pair.to_client(flight1)
    client_types = [m[0] for m in plain_messages(flight2)[0]]
    if mode is ClientAuth.NONE:
        assert client_types == [HS_CLIENT_KEY_EXCHANGE]
    elif with_cert:
        assert client_types == [HS_CERTIFICATE, HS_CLIENT_KEY_EXCHANGE, HS_CERTIFICATE_VERIFY]
    else:  # an empty Certificate (RFC 5246 7.4.6), no CertificateVerify
        assert client_types == [HS_CERTIFICATE, HS_CLIENT_KEY_EXCHANGE]
        assert plain_messages(flight2)[0][0] == message(HS_CERTIFICATE, b"\x00\x00\x00")
    if mode is ClientAuth.REQUIRED and not with_cert:
        with pytest.raises(HandshakeFailure, match="client certificate"):
            pair.server.receive_data(flight2)
        assert alert_of(pair.server.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)
        return
    pair.to_client(pair.to_server(flight2))
    sent = with_cert and mode is not ClientAuth.NONE
    assert pair.server.info.peer_certificates == (
        tuple(issued("p256", "client.example").der_chain()) if sent else ()
    )
    assert pair.client.handshake_complete


@pytest.mark.parametrize(
    "kind,server_schemes,scheme",
    [
        ("p256", None, 0x0403),
        ("p384", None, 0x0403),  # the client's first ECDSA scheme (not bound to the curve)
        ("ed25519", None, 0x0807),
        ("rsa2048", None, 0x0804),
        ("rsa2048", (0x0401,), 0x0401),  # PKCS#1 v1.5: allowed in a TLS 1.2 CertificateVerify
        ("p384", (0x0503,), 0x0503),
        ("p256", (0x0603,), 0x0603),  # TLS 1.2 ECDSA is not bound to the curve
    ],
)
def test_client_certificate_verify_schemes(
    backend: Any, kind: str, server_schemes: tuple[int, ...] | None, scheme: int
) -> None:
    kw = {"signature_schemes": server_schemes} if server_schemes else {}
    pair = _auth_stepper(backend, ClientAuth.REQUIRED, kind, **kw)
    hello, flight1, flight2, flight3 = pair.full()
    client_msgs = plain_messages(flight2)[0]
    cv = client_msgs[2]
    assert cv[0] == HS_CERTIFICATE_VERIFY
    assert int.from_bytes(cv[4:6], "big") == scheme
    signature = cv[8 : 8 + int.from_bytes(cv[6:8], "big")]
    # TLS 1.2 CertificateVerify signs every handshake message before it, whole
    signed = _transcript(hello, flight1) + b"".join(client_msgs[:2])
    _verify_signature(issued(kind, "client.example").der_chain()[0], scheme, signature, signed)
    assert pair.server.info.peer_certificates == tuple(issued(kind, "client.example").der_chain())


def test_bad_client_certificate_verify_is_decrypt_error(backend: Any) -> None:
    pair = _auth_stepper(backend, ClientAuth.REQUIRED, "p256")
    flight2 = pair.to_client(pair.to_server(pair.client.data_to_send()))

    def flip(body: bytes) -> bytes:
        return body[:-1] + bytes([body[-1] ^ 1])

    bad = edit_messages(flight2, lambda ms: replace_body(ms, HS_CERTIFICATE_VERIFY, flip))
    with pytest.raises(DecryptError):
        pair.server.receive_data(bad)
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, DECRYPT_ERROR)


def test_client_certificate_verify_with_sha1_is_illegal_parameter(backend: Any) -> None:
    pair = _auth_stepper(backend, ClientAuth.REQUIRED, "rsa2048")
    flight2 = pair.to_client(pair.to_server(pair.client.data_to_send()))
    bad = edit_body(HS_CERTIFICATE_VERIFY, lambda b: b"\x02\x01" + b[2:])(flight2)
    with pytest.raises(IllegalParameter):
        pair.server.receive_data(bad)
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, ILLEGAL_PARAMETER)


def test_client_certificate_from_an_unknown_ca(backend: Any) -> None:
    from certs import TestCA

    other = TestCA("someone else").issue("client.example", key_kind="p256", key_index=4)
    from ferrotls.config import CertifiedKey

    pair = Stepper(
        c12(backend, certificate=CertifiedKey(other.chain, other.key)),
        s12(backend, client_auth=ClientAuth.REQUIRED, client_verifier=verifier()),
    )
    flight2 = pair.to_client(pair.to_server(pair.client.data_to_send()))
    with pytest.raises(Exception) as exc:  # noqa: PT011 - the class is the verifier's choice
        pair.server.receive_data(flight2)
    wire = pair.server.data_to_send()
    description = exc.value.description  # type: ignore[attr-defined]
    assert alert_of(wire) == alert(FATAL, description)
    assert description in (42, 48)  # bad_certificate / unknown_ca


# --------------------------------------------------------------------------- resumption


def _first(backend: Any, cc: Any, sc: Any) -> tuple[HandshakeComplete, list[Any]]:
    pair = ConnectionPair(cc, sc)
    pair.pump()
    events = pair.client.events()
    assert isinstance(events[0], HandshakeComplete)
    assert not events[0].resumed
    pair.server.events()
    return events[0], events[1:]


def _again(cc: Any, sc: Any) -> tuple[ConnectionPair, HandshakeComplete, HandshakeComplete]:
    pair = ConnectionPair(cc, sc)
    pair.pump()
    c_events, s_events = pair.client.events(), pair.server.events()
    assert isinstance(c_events[0], HandshakeComplete) and isinstance(s_events[0], HandshakeComplete)
    return pair, c_events[0], s_events[0]


def _assert_abbreviated(pair: ConnectionPair, ticket: bool) -> None:
    """ServerHello [NewSessionTicket] CCS Finished: no Certificate, no key exchange."""
    messages, rest = plain_messages(pair.s2c[0])
    expected = [HS_SERVER_HELLO, *([HS_NEW_SESSION_TICKET] if ticket else [])]
    assert [m[0] for m in messages] == expected
    assert rest[0] == CT_CCS
    assert len(pair.c2s) == 2  # ClientHello, then CCS Finished


def test_resumption_by_ticket(backend: Any) -> None:
    cache = SessionCache()
    log = KeyLog()
    cc = c12(backend, session_cache=cache, key_log=log)
    sc = s12(backend, ticket_count=1, session_id_cache=None)
    first, rest = _first(backend, cc, sc)
    assert [type(e) for e in rest] == [SessionTicket]
    for _ in range(2):  # each resumption renews the ticket
        pair, c, s = _again(cc, sc)
        assert c.resumed and s.resumed
        assert c.cipher_suite == s.cipher_suite == first.cipher_suite
        assert c.peer_certificates == first.peer_certificates
        assert c.signature_scheme is None and c.group is None
        _assert_abbreviated(pair, ticket=True)
        exchange(pair)
    # the resumed sessions use the first master secret, with their own randoms
    masters = {e[2] for e in log.entries()}
    randoms = [e[1] for e in log.entries()]
    assert len(masters) == 1 and len(set(randoms)) == 3


def test_resumption_by_session_id(backend: Any) -> None:
    cache = SessionCache()
    cc = c12(backend, session_cache=cache)
    ids = SessionIdCache()
    sc = s12(backend, ticket_count=0, session_id_cache=ids)
    _, rest = _first(backend, cc, sc)
    assert rest == []  # no ticket: the session id goes to the cache only
    assert len(ids) == 1
    for _ in range(3):  # a session id stays valid for more than one resumption
        pair, c, s = _again(cc, sc)
        assert c.resumed and s.resumed
        _assert_abbreviated(pair, ticket=False)
        hello = _client_hello(pair.c2s[0])
        assert ids.get(hello.legacy_session_id, time.time()) is not None
        exchange(pair)


def test_resumption_with_the_session_from_the_event(backend: Any) -> None:
    """No session cache: the SessionTicket event's session, passed explicitly."""
    sc = s12(backend, ticket_count=1)
    cc = c12(backend)
    _, rest = _first(backend, cc, sc)
    (ticket,) = rest
    assert isinstance(ticket, SessionTicket)
    client = ClientConnection(cc, SERVER_NAME, session=ticket.session)  # type: ignore[arg-type]
    server = ServerConnection(sc)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    assert client.info.resumed and server.info.resumed
    assert [type(e) for e in client.events()] == [HandshakeComplete, SessionTicket]  # renewed


def test_tls12_session_is_not_offered_to_a_tls13_only_client(backend: Any) -> None:
    cache = SessionCache()
    sc = s12(backend, ticket_count=1)
    _first(backend, c12(backend, session_cache=cache), sc)
    pair, c, s = _again(client_config(backend, session_cache=cache, minimum_version=TLS13), sc)
    assert c.version == "TLSv1.3" and not c.resumed


def test_expired_ticket_gets_a_full_handshake(backend: Any) -> None:
    now = [1_900_000_000.0]
    cache = SessionCache()
    cc = c12(backend, session_cache=cache)
    sc = s12(backend, ticket_count=1, ticket_lifetime=600, clock=lambda: now[0],
             ticket_keys=TicketKeyManager(rotation_interval=10**6))
    _first(backend, cc, sc)
    now[0] += 599
    _, c, _ = _again(cc, sc)
    assert c.resumed  # still inside the lifetime (and renewed)
    now[0] += 601
    _, c, s = _again(cc, sc)
    assert not c.resumed and not s.resumed


def test_expired_session_id_gets_a_full_handshake(backend: Any) -> None:
    now = [1_900_000_000.0]
    cache = SessionCache()
    cc = c12(backend, session_cache=cache)
    sc = s12(backend, ticket_lifetime=600, clock=lambda: now[0])
    _first(backend, cc, sc)
    now[0] += 601
    _, c, s = _again(cc, sc)
    assert not c.resumed and not s.resumed


def test_ticket_from_an_ems_session_without_ems_is_refused(backend: Any) -> None:
    """RFC 7627 section 5.3: the original session used EMS, the new ClientHello
    does not offer it: the server aborts (even with EMS relaxed)."""
    cache = SessionCache()
    sc = s12(backend, ticket_count=1, require_extended_master_secret=False)
    _first(backend, c12(backend, session_cache=cache), sc)
    pair = Stepper(c12(backend, session_cache=cache, client_hello_hook=_drop_ems,
                       require_extended_master_secret=False), sc)
    with pytest.raises(HandshakeFailure, match="extended_master_secret"), warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureProtocolWarning)
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def _relaxed_first(backend: Any, sc: Any) -> tuple[ConnectionPair, list[Any]]:
    """A first handshake without EMS (both sides relaxed); the pair and the client's
    events after HandshakeComplete."""
    cc = c12(backend, client_hello_hook=_drop_ems, require_extended_master_secret=False)
    pair = ConnectionPair(cc, sc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureProtocolWarning)
        pair.pump()
    events = pair.client.events()
    assert isinstance(events[0], HandshakeComplete) and not events[0].resumed
    return pair, events[1:]


def _offered_by_hand(pair: ConnectionPair, by: str) -> tuple[bytes, bytes]:
    """What the first handshake's server gave to resume it: (ticket, session id);
    ferrotls clients do not offer a session without EMS, so tests put it in the
    ClientHello themselves."""
    messages, _ = plain_messages(pair.s2c[0])
    sh = ServerHello.from_bytes(messages[0][4:])
    if by == "ticket":
        (nst,) = [m for m in plain_messages(pair.s2c[1])[0] if m[0] == HS_NEW_SESSION_TICKET]
        ticket = NewSessionTicket12.from_bytes(nst[4:]).ticket
        assert ticket
        return ticket, b""
    assert sh.legacy_session_id_echo
    return b"", sh.legacy_session_id_echo


def _offer_hook(ticket: bytes, session_id: bytes, *, ems: bool) -> Any:
    def hook(hello: ClientHello) -> ClientHello:
        if not ems:
            hello = _drop_ems(hello)
        hello.extensions = [e for e in hello.extensions if e.ext_type != ExtensionType.SESSION_TICKET]
        hello.extensions.append(ext.SessionTicket(ticket))
        if session_id:
            hello.legacy_session_id = session_id
        return hello

    return hook


@pytest.mark.parametrize("by", ["ticket", "session_id"])
def test_session_without_ems_is_not_resumed_with_ems(backend: Any, by: str) -> None:
    """RFC 7627 section 5.3: the original session had no EMS, the new ClientHello
    offers it and the session: the server MUST NOT resume; a full handshake (with
    EMS) instead."""
    sc = s12(backend, ticket_count=1 if by == "ticket" else 0, require_extended_master_secret=False)
    first, _ = _relaxed_first(backend, sc)
    ticket, session_id = _offered_by_hand(first, by)
    log = KeyLog()
    pair, c, s = _again(c12(backend, client_hello_hook=_offer_hook(ticket, session_id, ems=True),
                            key_log=log), sc)
    hello = _client_hello(pair.c2s[0])
    assert hello.has(ExtensionType.EXTENDED_MASTER_SECRET)
    assert hello.get(ext.SessionTicket) == ext.SessionTicket(ticket)
    assert hello.legacy_session_id == session_id or by == "ticket"
    assert not c.resumed and not s.resumed
    messages, _ = plain_messages(pair.s2c[0])
    assert [m[0] for m in messages][:2] == [HS_SERVER_HELLO, HS_CERTIFICATE]
    assert ServerHello.from_bytes(messages[0][4:]).has(ExtensionType.EXTENDED_MASTER_SECRET)
    assert ServerHello.from_bytes(messages[0][4:]).legacy_session_id_echo != session_id or by == "ticket"
    exchange(pair)


@pytest.mark.parametrize("by", ["ticket", "session_id"])
def test_session_without_ems_is_not_resumed_without_ems(backend: Any, by: str) -> None:
    """RFC 7627 section 5.3: neither the original session nor the new ClientHello has
    EMS (both sides relaxed).  The RFC says the server SHOULD abort; ferrotls does
    not resume (no legacy insecure resumption) and does a full handshake, which the
    relaxed setting exists for: the new session has a new master secret."""
    log = KeyLog()
    sc = s12(backend, ticket_count=1 if by == "ticket" else 0, require_extended_master_secret=False)
    first, _ = _relaxed_first(backend, sc)
    ticket, session_id = _offered_by_hand(first, by)
    cc = c12(backend, client_hello_hook=_offer_hook(ticket, session_id, ems=False),
             require_extended_master_secret=False, key_log=log)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureProtocolWarning)
        pair, c, s = _again(cc, sc)
    assert not c.resumed and not s.resumed
    hello = _client_hello(pair.c2s[0])
    assert not hello.has(ExtensionType.EXTENDED_MASTER_SECRET)
    assert hello.get(ext.SessionTicket) == ext.SessionTicket(ticket)  # it was offered
    assert hello.legacy_session_id == session_id or by == "ticket"
    assert [m[0] for m in plain_messages(pair.s2c[0])[0]][:2] == [HS_SERVER_HELLO, HS_CERTIFICATE]
    exchange(pair)


@pytest.mark.parametrize("by", ["ticket", "session_id"])
def test_client_keeps_no_session_without_ems(backend: Any, by: str) -> None:
    """RFC 7627 section 5.3 on the client: it SHOULD NOT offer a session made
    without EMS.  ferrotls does not cache one, its ticket event carries no session,
    ``ClientConnection.session`` is None, and the next handshake is a full one."""
    cache = SessionCache()
    sc = s12(backend, ticket_count=1 if by == "ticket" else 0, require_extended_master_secret=False)
    cc = c12(backend, session_cache=cache, client_hello_hook=_drop_ems,
             require_extended_master_secret=False)
    pair = ConnectionPair(cc, sc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureProtocolWarning)
        pair.pump()
        events = pair.client.events()
        assert not ServerHello.from_bytes(plain_messages(pair.s2c[0])[0][0][4:]).has(
            ExtensionType.EXTENDED_MASTER_SECRET)
        tickets = [e for e in events if isinstance(e, SessionTicket)]
        assert [t.session for t in tickets] == ([None] if by == "ticket" else [])
        assert len(cache) == 0 and pair.client.session is None
        pair, c, s = _again(cc, sc)
    assert not c.resumed and not s.resumed
    hello = _client_hello(pair.c2s[0])
    assert hello.get(ext.SessionTicket) == ext.SessionTicket(b"")


def test_client_does_not_offer_a_given_session_without_ems(backend: Any) -> None:
    """A session without EMS passed explicitly (say, from an external cache) is
    not offered either: an empty SessionTicket and a fresh session id."""
    from ferrotls.tickets import ClientSession

    session = ClientSession(
        ticket=b"T" * 40, psk=bytes(48), cipher_suite=GCM128, received_at=time.time(),
        lifetime=3600, age_add=0, server_name=SERVER_NAME, version=TLS12,
        session_id=b"", extended_master_secret=False,
    )
    client = ClientConnection(c12(backend), SERVER_NAME, session=session)
    hello = _client_hello(client.data_to_send())
    assert hello.get(ext.SessionTicket) == ext.SessionTicket(b"")
    with_ems = ClientConnection(c12(backend), SERVER_NAME,
                                session=dataclasses.replace(session, extended_master_secret=True))
    assert _client_hello(with_ems.data_to_send()).get(ext.SessionTicket) == ext.SessionTicket(session.ticket)


def test_client_refuses_resumption_that_changes_ems(backend: Any) -> None:
    """RFC 7627 section 5.3 on the client: resuming an EMS session, a ServerHello
    without EMS is handshake_failure, whatever require_extended_master_secret says."""
    cache = SessionCache()
    sc = s12(backend, ticket_count=1)
    _first(backend, c12(backend, session_cache=cache), sc)
    pair = Stepper(c12(backend, session_cache=cache, require_extended_master_secret=False), sc)
    flight = pair.to_server(pair.client.data_to_send())
    flight = _edit_server_hello(flight, _without(0x0017))
    with pytest.raises(HandshakeFailure), warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureProtocolWarning)
        pair.client.receive_data(flight)


@pytest.mark.parametrize("by", ["ticket", "session_id"])
def test_server_requiring_client_certs_does_not_resume_a_session_without_one(
    backend: Any, by: str
) -> None:
    """Issue #11's rule in TLS 1.2: a session made without client authentication
    (here by a server that did not ask, sharing ticket keys / session cache) is not
    resumed by a server that requires a client certificate."""
    keys, ids = TicketKeyManager(), SessionIdCache()
    tickets = 1 if by == "ticket" else 0
    open_server = s12(backend, ticket_count=tickets, ticket_keys=keys, session_id_cache=ids)
    strict = s12(backend, ticket_count=tickets, ticket_keys=keys, session_id_cache=ids,
                 client_auth=ClientAuth.REQUIRED, client_verifier=verifier())
    cache = SessionCache()
    cert = certified("p256", "client.example")
    _first(backend, c12(backend, session_cache=cache, certificate=cert), open_server)
    assert len(cache) == 1
    _, c, s = _again(c12(backend, session_cache=cache, certificate=cert), strict)
    assert not c.resumed and not s.resumed
    assert s.peer_certificates == tuple(issued("p256", "client.example").der_chain())
    # the session made with a client certificate resumes, and remembers the certificate
    _, c, s = _again(c12(backend, session_cache=cache, certificate=cert), strict)
    assert c.resumed and s.resumed
    assert s.peer_certificates[0] == issued("p256", "client.example").der_chain()[0]


def test_client_without_certificate_cannot_resume_into_a_strict_server(backend: Any) -> None:
    keys = TicketKeyManager()
    open_server = s12(backend, ticket_count=1, ticket_keys=keys)
    strict = s12(backend, ticket_count=1, ticket_keys=keys, client_auth=ClientAuth.REQUIRED,
                 client_verifier=verifier())
    cache = SessionCache()
    _first(backend, c12(backend, session_cache=cache), open_server)
    pair = Stepper(c12(backend, session_cache=cache), strict)
    flight2 = pair.to_client(pair.to_server(pair.client.data_to_send()))
    with pytest.raises(HandshakeFailure):
        pair.server.receive_data(flight2)


# --------------------------------------------------------------------------- extensions


def test_alpn(backend: Any) -> None:
    pair = ConnectionPair(
        c12(backend, alpn_protocols=("h2", "http/1.1")), s12(backend, alpn_protocols=("http/1.1",))
    )
    c, s = pair.handshake()
    assert c.alpn_protocol == s.alpn_protocol == "http/1.1"
    sh = ServerHello.from_bytes(plain_messages(pair.s2c[0])[0][0][4:])
    alpn = sh.get(ext.ALPN)
    assert alpn is not None and alpn.protocols == [b"http/1.1"]


def test_alpn_not_offered_by_the_server(backend: Any) -> None:
    c, s = ConnectionPair(c12(backend, alpn_protocols=("h2",)), s12(backend)).handshake()
    assert c.alpn_protocol is None and s.alpn_protocol is None


def test_alpn_mismatch_is_no_application_protocol(backend: Any) -> None:
    pair = Stepper(c12(backend, alpn_protocols=("h2",)), s12(backend, alpn_protocols=("http/1.1",)))
    with pytest.raises(NoApplicationProtocol):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, NO_APPLICATION_PROTOCOL)


def test_server_selecting_an_alpn_we_did_not_offer(backend: Any) -> None:
    pair = Stepper(c12(backend, alpn_protocols=("h2",)), s12(backend, alpn_protocols=("h2",)))

    def edit(sh: ServerHello) -> None:
        sh.extensions = [
            ext.ALPN([b"spdy/3"]) if e.ext_type == ExtensionType.ALPN else e for e in sh.extensions
        ]

    flight = _edit_server_hello(pair.to_server(pair.client.data_to_send()), edit)
    with pytest.raises(IllegalParameter, match="ALPN"):
        pair.client.receive_data(flight)


def test_sni(backend: Any) -> None:
    pair = ConnectionPair(c12(backend), s12(backend))
    c, s = pair.handshake()
    assert s.server_name == c.server_name == SERVER_NAME
    sni = _client_hello(pair.c2s[0]).get(ext.ServerName)
    assert sni is not None and sni.host_name == SERVER_NAME.encode()
    sh = ServerHello.from_bytes(plain_messages(pair.s2c[0])[0][0][4:])
    assert sh.has(ExtensionType.SERVER_NAME)  # acknowledged: the certificate matches


def test_sni_picks_the_certificate(backend: Any) -> None:
    sc = s12(backend, certificates=(certified("p256", "a.example"), certified("p384", "b.example")))
    for name, kind in (("a.example", "p256"), ("b.example", "p384")):
        c, s = ConnectionPair(c12(backend), sc, server_hostname=name).handshake()
        assert c.peer_certificates[0] == issued(kind, name).der_chain()[0]
        assert s.server_name == name


@pytest.mark.parametrize("limit", [64, 1000, 16384])
def test_record_size_limit(backend: Any, limit: int) -> None:
    """RFC 8449 in TLS 1.2: the limit counts the plaintext only (no content type),
    and records of exactly ``limit`` bytes are allowed."""
    pair = ConnectionPair(
        c12(backend, record_size_limit=limit), s12(backend, record_size_limit=limit)
    )
    c, s = pair.handshake()
    assert c.record_size_limit == s.record_size_limit == limit
    info = TLS12_SUITES[c.cipher_suite]
    overhead = 5 + info.record_iv_len + info.tag_len
    data = bytes(3 * limit + 7)
    for sender, receiver in ((pair.client, pair.server), (pair.server, pair.client)):
        sender.send(data)
        wire = sender.data_to_send()
        sizes = [len(r) - overhead for _, r in split_records(wire)]
        assert max(sizes) == limit and sum(sizes) == len(data)
        receiver.receive_data(wire)
        assert b"".join(e.data for e in receiver.events() if isinstance(e, ApplicationData)) == data


def test_record_size_limit_in_a_tls12_server_hello_is_at_most_2_14(backend: Any) -> None:
    """RFC 8449 section 4: 2^14 + 1 is TLS 1.3's maximum; a TLS 1.2 ServerHello says 2^14."""
    pair = ConnectionPair(
        c12(backend, record_size_limit=16385), s12(backend, record_size_limit=16385)
    )
    c, s = pair.handshake()
    sh = ServerHello.from_bytes(plain_messages(pair.s2c[0])[0][0][4:])
    assert sh.get(ext.RecordSizeLimit) == ext.RecordSizeLimit(16384)
    assert c.record_size_limit == 16384


def test_record_size_limit_larger_records_are_record_overflow(backend: Any) -> None:
    log = KeyLog()
    pair = ConnectionPair(
        c12(backend, record_size_limit=64, key_log=log), s12(backend, record_size_limit=64)
    )
    pair.handshake()
    keys = keys_of(pair, log)
    from ferrotls.errors import RecordOverflow

    with pytest.raises(RecordOverflow):
        pair.client.receive_data(keys.seal(False, 1, CT_APPDATA, bytes(65)))


# --------------------------------------------------------------------------- keys out


def test_exporters(backend: Any) -> None:
    log = KeyLog()
    pair = ConnectionPair(c12(backend, key_log=log), s12(backend))
    c, _ = pair.handshake()
    keys = keys_of(pair, log)
    label = b"EXPERIMENTAL ferrotls"
    for context in (None, b"", b"context"):
        ours = pair.client.export_keying_material(label, context, 42)
        assert pair.server.export_keying_material(label, context, 42) == ours
        hash_name = TLS12_SUITES[c.cipher_suite].hash_name
        assert ours == exporter(hash_name, keys.master, keys.client_random, keys.server_random,
                                label, context, 42)
    # RFC 5705: no context and an empty context differ in TLS 1.2
    export = pair.client.export_keying_material
    assert export(label, None, 32) != export(label, b"", 32)
    with pytest.raises(UsageError, match="reserved"):
        pair.client.export_keying_material(b"key expansion", None, 32)


def test_key_log_client_random_line(backend: Any) -> None:
    """One ``CLIENT_RANDOM <client_random> <master_secret>`` line on each side; the
    master secret derives the keys that open both Finished messages, whose
    verify_data are the PRF over the transcript (all independently of ferrotls)."""
    clog, slog = KeyLog(), KeyLog()
    pair = Stepper(c12(backend, key_log=clog), s12(backend, key_log=slog))
    hello, flight1, flight2, flight3 = pair.full()
    assert clog.lines == slog.lines
    (line,) = clog.lines
    label, random, master = line.split(" ")
    assert label == "CLIENT_RANDOM" and bytes.fromhex(random) == _client_hello(hello).random
    assert len(bytes.fromhex(master)) == 48
    suite = pair.client.info.cipher_suite
    keys = Keys12.from_keylog(suite, clog, server_hello_random(flight1))
    hash_name = TLS12_SUITES[suite].hash_name
    transcript = _transcript(hello, flight1, flight2)
    _, after_ccs = plain_messages(flight2)
    (ccs_type, _), (_, client_fin) = split_records(after_ccs)
    assert ccs_type == CT_CCS
    fin = keys.open(True, 0, client_fin)
    digest = hashlib.new(hash_name, transcript).digest()
    expected = prf(hash_name, keys.master, b"client finished", digest, 12)
    assert fin == (CT_HANDSHAKE, message(HS_FINISHED, expected))
    (ccs_type, _), (_, server_fin) = split_records(flight3)
    transcript += fin[1]
    digest = hashlib.new(hash_name, transcript).digest()
    expected = prf(hash_name, keys.master, b"server finished", digest, 12)
    assert keys.open(False, 0, server_fin) == (CT_HANDSHAKE, message(HS_FINISHED, expected))


def _completes(pair: ConnectionPair) -> tuple[HandshakeComplete, HandshakeComplete]:
    c, s = pair.client.events()[0], pair.server.events()[0]
    assert isinstance(c, HandshakeComplete) and isinstance(s, HandshakeComplete)
    return c, s


def test_handshake_stats(backend: Any) -> None:
    cache = SessionCache()
    cc = c12(backend, session_cache=cache)
    sc = s12(backend, ticket_count=1)
    pair = ConnectionPair(cc, sc)
    pair.pump()
    c, s = _completes(pair)
    for st in (c.stats, s.stats):
        assert st is not None
        assert [f.sender for f in st.flights] == ["client", "server", "client", "server"]
        assert st.round_trips == 2  # TLS 1.2: two round trips for a full handshake
        assert st.client_hello_size == len(pair.c2s[0])
        assert not st.hello_retry
    assert c.stats is not None and s.stats is not None
    sizes = [len(pair.c2s[0]), len(pair.s2c[0]), len(pair.c2s[1]), len(pair.s2c[1])]
    assert [f.size for f in c.stats.flights] == sizes
    assert c.stats.flights == s.stats.flights
    assert c.stats.bytes_sent == s.stats.bytes_received == sizes[0] + sizes[2]
    assert c.stats.bytes_received == s.stats.bytes_sent == sizes[1] + sizes[3]
    pair = ConnectionPair(cc, sc)
    pair.pump()
    c, s = _completes(pair)
    assert c.resumed
    for st in (c.stats, s.stats):
        assert st is not None
        assert [f.sender for f in st.flights] == ["client", "server", "client"]
        assert st.round_trips == 1


# --------------------------------------------------------------------------- PSK


def test_unknown_psk_identity(backend: Any) -> None:
    suite = S.TLS_PSK_WITH_AES_128_GCM_SHA256
    other = ExternalPsk(b"not-known", bytes(32))
    pair = Stepper(c12(backend, tls12_cipher_suites=(suite,), external_psks=(other,)),
                   s12(backend, tls12_cipher_suites=(suite,), psk_callback=psk_lookup))
    flight2 = pair.to_client(pair.to_server(pair.client.data_to_send()))
    with pytest.raises(UnknownPSKIdentity):
        pair.server.receive_data(flight2)
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, UNKNOWN_PSK_IDENTITY)


def test_wrong_psk_key_fails_at_finished(backend: Any) -> None:
    suite = S.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
    wrong = ExternalPsk(PSK.identity, bytes(32))
    pair = Stepper(c12(backend, tls12_cipher_suites=(suite,), external_psks=(wrong,)),
                   s12(backend, tls12_cipher_suites=(suite,), psk_callback=psk_lookup))
    flight2 = pair.to_client(pair.to_server(pair.client.data_to_send()))
    from ferrotls.errors import BadRecordMac

    with pytest.raises(BadRecordMac):  # the client's Finished does not even open
        pair.server.receive_data(flight2)


def test_without_a_hint_the_client_uses_its_first_psk(backend: Any) -> None:
    """Our server sends no identity hint, so the client offers its first PSK (the
    hint choosing among several is tested against openssl s_server -psk_hint)."""
    suite = S.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256
    decoy = ExternalPsk(b"decoy", bytes(32))
    pair = ConnectionPair(c12(backend, tls12_cipher_suites=(suite,), external_psks=(decoy, PSK)),
                          s12(backend, tls12_cipher_suites=(suite,), psk_callback=psk_lookup))
    # our server sends an empty hint: the client takes its first PSK, which is unknown
    with pytest.raises(UnknownPSKIdentity):
        pair.pump()


# --------------------------------------------------------------------------- alerts


def _finished_stepper(backend: Any) -> tuple[Stepper, KeyLog, bytes, bytes, bytes]:
    log = KeyLog()
    pair = Stepper(c12(backend, key_log=log, tls12_cipher_suites=(GCM128,)), s12(backend))
    hello = pair.client.data_to_send()
    flight1 = pair.to_server(hello)
    flight2 = pair.to_client(flight1)
    return pair, log, hello, flight1, flight2


@pytest.mark.parametrize("verify_data,error,description", [
    (bytes(11), DecodeError, DECODE_ERROR),
    (bytes(13), DecodeError, DECODE_ERROR),
    (bytes(12), DecryptError, DECRYPT_ERROR),
])
def test_bad_server_finished(
    backend: Any, verify_data: bytes, error: type, description: int
) -> None:
    pair, log, _, flight1, flight2 = _finished_stepper(backend)
    flight3 = pair.to_server(flight2)
    keys = Keys12.from_keylog(GCM128, log, server_hello_random(flight1))
    (ccs_type, ccs), (_, fin) = split_records(flight3)
    assert keys.open(False, 0, fin)[1][0] == HS_FINISHED
    with pytest.raises(error):
        fin = keys.seal(False, 0, CT_HANDSHAKE, message(HS_FINISHED, verify_data))
        pair.client.receive_data(ccs + fin)
    (_, out), = split_records(pair.client.data_to_send())  # the client's keys are on: encrypted
    assert keys.open(True, 1, out) == (CT_ALERT, alert(FATAL, description))


@pytest.mark.parametrize("verify_data,error,description", [
    (bytes(11), DecodeError, DECODE_ERROR),
    (bytes(12), DecryptError, DECRYPT_ERROR),
])
def test_bad_client_finished(
    backend: Any, verify_data: bytes, error: type, description: int
) -> None:
    pair, log, _, flight1, flight2 = _finished_stepper(backend)
    keys = Keys12.from_keylog(GCM128, log, server_hello_random(flight1))
    messages, after = plain_messages(flight2)
    (_, ccs), (_, fin) = split_records(after)
    fin = keys.seal(True, 0, CT_HANDSHAKE, message(HS_FINISHED, verify_data))
    bad = frame(messages) + ccs + fin
    with pytest.raises(error):
        pair.server.receive_data(bad)
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, description)  # no server keys yet


def _server_flight_error(
    backend: Any, edit: Any, error: Any, description: int, server_kw: dict[str, Any] | None = None,
    **client_kw: Any,
) -> None:
    pair = Stepper(c12(backend, **client_kw), s12(backend, **(server_kw or {})))
    flight = pair.to_server(pair.client.data_to_send())
    with pytest.raises(error):
        pair.client.receive_data(edit(flight))
    assert alert_of(pair.client.data_to_send()) == alert(FATAL, description)


def _drop(msg_type: int) -> Any:
    return lambda flight: edit_messages(flight, lambda ms: [m for m in ms if m[0] != msg_type])


@pytest.mark.parametrize("msg_type", [HS_CERTIFICATE, HS_SERVER_KEY_EXCHANGE])
def test_missing_server_message_is_unexpected(backend: Any, msg_type: int) -> None:
    _server_flight_error(backend, _drop(msg_type), UnexpectedMessage, UNEXPECTED_MESSAGE)


def test_server_hello_done_twice_is_unexpected(backend: Any) -> None:
    log = KeyLog()
    pair = Stepper(c12(backend, key_log=log, tls12_cipher_suites=(GCM128,)), s12(backend))
    flight1 = pair.to_server(pair.client.data_to_send())
    with pytest.raises(UnexpectedMessage):
        done = message(HS_SERVER_HELLO_DONE, b"")
        pair.client.receive_data(edit_messages(flight1, lambda ms: [*ms, done]))
    # the client had sent its flight (keys on) when the second one came: encrypted alert
    records = split_records(pair.client.data_to_send())
    assert [t for t, _ in records] == [CT_HANDSHAKE, CT_CCS, CT_HANDSHAKE, CT_ALERT]
    keys = Keys12.from_keylog(GCM128, log, server_hello_random(flight1))
    assert keys.open(True, 1, records[-1][1]) == (CT_ALERT, alert(FATAL, UNEXPECTED_MESSAGE))


def test_early_change_cipher_spec_is_unexpected(backend: Any) -> None:
    """CVE-2014-0224 style: a ChangeCipherSpec before the keys exist."""
    def early(flight: bytes) -> bytes:
        messages, _ = plain_messages(flight)
        return frame(messages[:2]) + b"\x14\x03\x03\x00\x01\x01" + frame(messages[2:])

    _server_flight_error(backend, early, UnexpectedMessage, UNEXPECTED_MESSAGE)


def test_server_finished_before_change_cipher_spec_is_unexpected(backend: Any) -> None:
    pair, _, _, _, flight2 = _finished_stepper(backend)
    flight3 = pair.to_server(flight2)
    (_, _), (_, fin) = split_records(flight3)
    with pytest.raises(UnexpectedMessage):
        pair.client.receive_data(fin)  # a protected Finished without the CCS: type 22 in the clear?


def test_client_skips_client_key_exchange(backend: Any) -> None:
    pair, _, _, _, flight2 = _finished_stepper(backend)
    _, after = plain_messages(flight2)
    with pytest.raises(UnexpectedMessage):
        pair.server.receive_data(after)  # CCS Finished without ClientKeyExchange
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, UNEXPECTED_MESSAGE)


def test_application_data_before_finished_is_unexpected(backend: Any) -> None:
    pair, _, _, _, _ = _finished_stepper(backend)
    with pytest.raises(UnexpectedMessage):
        pair.server.receive_data(b"\x17\x03\x03\x00\x05hello")
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, UNEXPECTED_MESSAGE)


def _flip_last(body: bytes) -> bytes:
    return body[:-1] + bytes([body[-1] ^ 0x40])


def test_bad_server_key_exchange_signature_is_decrypt_error(backend: Any) -> None:
    edit = edit_body(HS_SERVER_KEY_EXCHANGE, _flip_last)
    _server_flight_error(backend, edit, DecryptError, DECRYPT_ERROR)


def test_server_key_exchange_signature_over_other_randoms(backend: Any) -> None:
    """A ServerKeyExchange replayed from another handshake (other randoms) does not verify."""
    other = Stepper(c12(backend), s12(backend))
    old = [m for m in plain_messages(other.to_server(other.client.data_to_send()))[0]
           if m[0] == HS_SERVER_KEY_EXCHANGE][0]
    def edit(flight: bytes) -> bytes:
        return edit_messages(
            flight, lambda ms: [old if m[0] == HS_SERVER_KEY_EXCHANGE else m for m in ms]
        )

    _server_flight_error(backend, edit, DecryptError, DECRYPT_ERROR)


@pytest.mark.parametrize(
    "group", [0x0019, 0x001E, 0x0100, 0x11EC], ids=["p521", "x448", "ffdhe", "mlkem"]
)
def test_server_key_exchange_group_not_offered(backend: Any, group: int) -> None:
    edit = edit_body(HS_SERVER_KEY_EXCHANGE, lambda b: b[:1] + group.to_bytes(2, "big") + b[3:])
    _server_flight_error(backend, edit, IllegalParameter, ILLEGAL_PARAMETER)


def test_server_key_exchange_explicit_curve_is_illegal_parameter(backend: Any) -> None:
    edit = edit_body(HS_SERVER_KEY_EXCHANGE, lambda b: b"\x01" + b[1:])
    _server_flight_error(backend, edit, IllegalParameter, ILLEGAL_PARAMETER)


def test_server_key_exchange_scheme_not_offered(backend: Any) -> None:
    """ECDSA with SHA-1 (0x0203) is never offered."""
    def sha1(body: bytes) -> bytes:
        n = 4 + body[3]
        return body[:n] + b"\x02\x03" + body[n + 2 :]

    edit = edit_body(HS_SERVER_KEY_EXCHANGE, sha1)
    _server_flight_error(backend, edit, IllegalParameter, ILLEGAL_PARAMETER)


def test_server_key_exchange_trailing_bytes_is_decode_error(backend: Any) -> None:
    edit = edit_body(HS_SERVER_KEY_EXCHANGE, lambda b: b + b"\x00")
    _server_flight_error(backend, edit, DecodeError, DECODE_ERROR)


def _resigned_key_exchange(client_random: bytes, params: bytes) -> bytes:
    """A ServerKeyExchange with ``params``, signed (ecdsa_secp256r1_sha256) with the
    test server's own P-256 key: what a malicious server holding it could send."""
    data = client_random + bytes(32) + params
    key = issued("p256").key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    signed = b"\x04\x03" + len(signature).to_bytes(2, "big") + signature
    return message(HS_SERVER_KEY_EXCHANGE, params + signed)


@pytest.mark.parametrize("point", [bytes(31), bytes(33), bytes(32), (1).to_bytes(32, "little")],
                         ids=["short", "long", "zero", "low-order"])
def test_server_key_exchange_bad_x25519_point(backend: Any, point: bytes) -> None:
    """A properly signed ServerKeyExchange whose X25519 point is unusable."""
    pair = Stepper(c12(backend), s12(backend, groups=(0x001D,)))
    hello = _client_hello(pair.client.data_to_send())
    pair.server.receive_data(_reframe_hello(hello))
    flight = pair.server.data_to_send()

    def edit(messages: list[bytes]) -> list[bytes]:
        sh = ServerHello.from_bytes(messages[0][4:])
        sh.random = bytes(32)  # our re-signature covers a known server random
        params = b"\x03\x00\x1d" + bytes([len(point)]) + point
        ske = _resigned_key_exchange(hello.random, params)
        return [encode_handshake(sh), messages[1], ske, *messages[3:]]

    with pytest.raises(IllegalParameter):
        pair.client.receive_data(edit_messages(flight, edit))
    assert alert_of(pair.client.data_to_send()) == alert(FATAL, ILLEGAL_PARAMETER)


def test_server_key_exchange_bad_p256_point(backend: Any) -> None:
    pair = Stepper(c12(backend, groups=(0x0017,), key_share_groups=(0x0017,)), s12(backend))
    hello = _client_hello(pair.client.data_to_send())
    pair.server.receive_data(_reframe_hello(hello))
    flight = pair.server.data_to_send()
    point = b"\x04" + bytes(64)  # not on the curve

    def edit(messages: list[bytes]) -> list[bytes]:
        sh = ServerHello.from_bytes(messages[0][4:])
        sh.random = bytes(32)
        ske = _resigned_key_exchange(hello.random, b"\x03\x00\x17\x41" + point)
        return [encode_handshake(sh), messages[1], ske, *messages[3:]]

    with pytest.raises(IllegalParameter):
        pair.client.receive_data(edit_messages(flight, edit))
    assert alert_of(pair.client.data_to_send()) == alert(FATAL, ILLEGAL_PARAMETER)


def test_empty_server_certificate_is_decode_error(backend: Any) -> None:
    edit = edit_body(HS_CERTIFICATE, lambda b: b"\x00\x00\x00")
    _server_flight_error(backend, edit, DecodeError, DECODE_ERROR)


def test_server_certificate_trailing_byte_is_decode_error(backend: Any) -> None:
    edit = edit_body(HS_CERTIFICATE, lambda b: b + b"\x00")  # after certificate_list
    _server_flight_error(backend, edit, DecodeError, DECODE_ERROR)


def test_server_hello_suite_not_offered(backend: Any) -> None:
    def edit(sh: ServerHello) -> None:
        sh.cipher_suite = S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256

    _server_flight_error(backend, _sh_editor(edit), IllegalParameter, ILLEGAL_PARAMETER,
                         tls12_cipher_suites=(GCM128,))


def test_server_hello_tls13_suite_in_tls12(backend: Any) -> None:
    def edit(sh: ServerHello) -> None:
        sh.cipher_suite = 0x1301

    _server_flight_error(backend, _sh_editor(edit), IllegalParameter, ILLEGAL_PARAMETER,
                         {"maximum_version": TLS12}, maximum_version=TLS13)


def test_server_hello_compression_is_illegal_parameter(backend: Any) -> None:
    def edit(sh: ServerHello) -> None:
        sh.legacy_compression_method = 1

    _server_flight_error(backend, _sh_editor(edit), IllegalParameter, ILLEGAL_PARAMETER)


def test_server_hello_unrequested_extension(backend: Any) -> None:
    def edit(sh: ServerHello) -> None:
        sh.extensions.append(ext.UnknownExtension(0xFA0A, b""))

    _server_flight_error(backend, _sh_editor(edit), UnsupportedExtension,
                         UNSUPPORTED_EXTENSION)


def test_server_hello_with_a_tls13_extension(backend: Any) -> None:
    """key_share was offered (the client speaks TLS 1.3 too) but has no place in a
    TLS 1.2 ServerHello."""
    def edit(sh: ServerHello) -> None:
        sh.extensions.append(ext.UnknownExtension(ExtensionType.KEY_SHARE, b"\x00\x1d\x00\x01\x00"))

    _server_flight_error(backend, _sh_editor(edit), IllegalParameter, ILLEGAL_PARAMETER,
                         {"maximum_version": TLS12}, maximum_version=TLS13)


def test_server_hello_compressed_points_only(backend: Any) -> None:
    def edit(sh: ServerHello) -> None:
        sh.extensions = [
            ext.ECPointFormats([1]) if isinstance(e, ext.ECPointFormats) else e
            for e in sh.extensions
        ]

    _server_flight_error(backend, _sh_editor(edit), IllegalParameter, ILLEGAL_PARAMETER)


def test_client_hello_without_null_compression(backend: Any) -> None:
    def hook(hello: ClientHello) -> ClientHello:
        hello.legacy_compression_methods = b"\x01"
        return hello

    pair = Stepper(c12(backend, client_hello_hook=hook), s12(backend))
    with pytest.raises(IllegalParameter):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, ILLEGAL_PARAMETER)


def _client_key_exchange_error(backend: Any, edit_body: Any, error: Any, description: int) -> None:
    pair = Stepper(c12(backend), s12(backend))
    flight2 = pair.to_client(pair.to_server(pair.client.data_to_send()))
    bad = edit_messages(flight2, lambda ms: replace_body(ms, HS_CLIENT_KEY_EXCHANGE, edit_body))
    with pytest.raises(error):
        pair.server.receive_data(bad)
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, description)


def test_client_key_exchange_short_point(backend: Any) -> None:
    short = lambda b: b"\x1f" + b[1:32]  # noqa: E731
    _client_key_exchange_error(backend, short, IllegalParameter, ILLEGAL_PARAMETER)


def test_client_key_exchange_trailing_bytes(backend: Any) -> None:
    _client_key_exchange_error(backend, lambda b: b + b"\x00", DecodeError, DECODE_ERROR)


def test_client_key_exchange_empty(backend: Any) -> None:
    _client_key_exchange_error(backend, lambda b: b"", DecodeError, DECODE_ERROR)


def test_client_key_exchange_low_order_x25519_point(backend: Any) -> None:
    zero = lambda b: b"\x20" + bytes(32)  # noqa: E731
    _client_key_exchange_error(backend, zero, IllegalParameter, ILLEGAL_PARAMETER)


@pytest.mark.parametrize(
    "msg_type", [HS_NEW_SESSION_TICKET, HS_CERTIFICATE_REQUEST, HS_SERVER_HELLO]
)
def test_unexpected_post_handshake_message_to_client(backend: Any, msg_type: int) -> None:
    pair, keys = _established(backend)
    with pytest.raises(UnexpectedMessage):
        pair.client.receive_data(keys.seal(False, 1, CT_HANDSHAKE, message(msg_type, b"")))
    (_, out), = split_records(pair.client.data_to_send())
    assert keys.open(True, 1, out) == (CT_ALERT, alert(FATAL, UNEXPECTED_MESSAGE))


def test_hello_request_with_a_body_is_decode_error(backend: Any) -> None:
    pair, keys = _established(backend)
    with pytest.raises(DecodeError):
        request = message(HS_HELLO_REQUEST, b"\x00")
        pair.client.receive_data(keys.seal(False, 1, CT_HANDSHAKE, request))


def test_plaintext_change_cipher_spec_after_the_handshake(backend: Any) -> None:
    """After ChangeCipherSpec every TLS 1.2 record is protected: a plaintext one
    does not authenticate."""
    from ferrotls.errors import BadRecordMac

    pair, keys = _established(backend)
    with pytest.raises(BadRecordMac):
        pair.client.receive_data(b"\x14\x03\x03\x00\x01\x01")
    (_, out), = split_records(pair.client.data_to_send())
    assert keys.open(True, 1, out) == (CT_ALERT, alert(FATAL, 20))


def test_protected_change_cipher_spec_after_the_handshake_is_unexpected(backend: Any) -> None:
    pair, keys = _established(backend)
    with pytest.raises(UnexpectedMessage):
        pair.client.receive_data(keys.seal(False, 1, CT_CCS, b"\x01"))


# --------------------------------------------------------------------------- certificate curves


def test_ecdsa_certificate_on_a_curve_the_client_supports(backend: Any) -> None:
    """RFC 8422 section 5.1: in TLS 1.2 supported_groups names the curves of ECDSA
    certificates too; the server picks the P-256 one for a client without P-384."""
    sc = s12(backend, ("p384", "p256"))
    cc = c12(backend, groups=(0x001D, 0x0017), key_share_groups=(0x001D,))
    c, _ = ConnectionPair(cc, sc).handshake()
    assert c.peer_certificates[0] == issued("p256").der_chain()[0]
    c, _ = ConnectionPair(c12(backend), sc).handshake()  # P-384 offered: the first one
    assert c.peer_certificates[0] == issued("p384").der_chain()[0]


def test_no_ecdsa_certificate_on_the_clients_curves(backend: Any) -> None:
    cc = c12(backend, groups=(0x001D,), key_share_groups=(0x001D,))
    pair = Stepper(cc, s12(backend, ("p256",)))
    with pytest.raises(HandshakeFailure):
        pair.to_server(pair.client.data_to_send())
    assert alert_of(pair.server.data_to_send()) == alert(FATAL, HANDSHAKE_FAILURE)


def test_ed25519_certificate_needs_no_curve_in_supported_groups(backend: Any) -> None:
    cc = c12(backend, groups=(0x0017,), key_share_groups=(0x0017,))
    c, _ = ConnectionPair(cc, s12(backend, ("ed25519",))).handshake()
    assert c.signature_scheme == 0x0807


# --------------------------------------------------------------------------- across versions


def test_tls12_session_offered_to_a_server_that_now_speaks_tls13(backend: Any) -> None:
    """A TLS 1.2 ticket in the cache, the server upgraded to TLS 1.3: a full TLS 1.3
    handshake (the TLS 1.2 ticket is no TLS 1.3 PSK), and a TLS 1.3 ticket after it."""
    cache = SessionCache()
    keys = TicketKeyManager()
    _first(backend, client_config(backend, session_cache=cache),
           s12(backend, ticket_count=1, ticket_keys=keys, maximum_version=TLS12))
    sc = s12(backend, ticket_count=1, ticket_keys=keys)
    pair = ConnectionPair(client_config(backend, session_cache=cache), sc)
    pair.pump()
    events = pair.client.events()
    c, s = events[0], pair.server.events()[0]
    assert isinstance(c, HandshakeComplete) and isinstance(s, HandshakeComplete)
    assert c.version == s.version == "TLSv1.3" and not c.resumed
    assert [type(e) for e in events[1:]] == [SessionTicket]
    session = cache.peek(SERVER_NAME, time.time())
    assert session is not None and session.version == TLS13


def test_tls13_session_offered_to_a_server_that_now_speaks_only_tls12(backend: Any) -> None:
    cache = SessionCache()
    keys = TicketKeyManager()
    sc = s12(backend, ticket_count=1, ticket_keys=keys)
    _first(backend, client_config(backend, session_cache=cache), sc)
    pair = ConnectionPair(client_config(backend, session_cache=cache),
                          s12(backend, ticket_count=1, ticket_keys=keys, maximum_version=TLS12))
    pair.pump()
    c, s = _completes(pair)
    assert c.version == s.version == "TLSv1.2" and not c.resumed


# --------------------------------------------------------------------------- codecs

_POINT = bytes(range(1, 33))
#: (message, its body on the wire, written out by hand from RFC 5246 7.4, RFC 8422
#: 5.4/5.7, RFC 4279 2, RFC 5489 2 and RFC 5077 3.3)
CODEC_CASES: list[tuple[Any, bytes]] = [
    (HelloRequest(), b""),
    (ServerHelloDone(), b""),
    (Certificate12(certificate_list=[b"\x30\x01", b"\x30"]),
     bytes.fromhex("000009" "0000023001" "00000130")),
    (Certificate12(certificate_list=[]), b"\x00\x00\x00"),
    (CertificateRequest12(certificate_types=[1, 64], signature_algorithms=[0x0403, 0x0401],
                          certificate_authorities=[b"\x30\x00"]),
     bytes.fromhex("020140" "000404030401" "0004" "00023000")),
    (NewSessionTicket12(lifetime_hint=7200, ticket=b"tk"), bytes.fromhex("00001c200002") + b"tk"),
    (NewSessionTicket12(lifetime_hint=0, ticket=b""), bytes.fromhex("00000000" "0000")),
    (ServerKeyExchange.make(KeyExchange.ECDHE, params=ServerECDHParams(group=0x001D, public=_POINT),
                            algorithm=0x0403, signature=b"sig"),
     bytes.fromhex("03001d20") + _POINT + bytes.fromhex("04030003") + b"sig"),
    (ServerKeyExchange.make(KeyExchange.PSK, hint=b"hint"), b"\x00\x04hint"),
    (ServerKeyExchange.make(KeyExchange.ECDHE_PSK, hint=b"",
                            params=ServerECDHParams(group=0x0017, public=b"\x04")),
     bytes.fromhex("0000" "030017" "0104")),
    (ClientKeyExchange.make(KeyExchange.ECDHE, public=_POINT), b"\x20" + _POINT),
    (ClientKeyExchange.make(KeyExchange.PSK, identity=b"id"), b"\x00\x02id"),
    (ClientKeyExchange.make(KeyExchange.ECDHE_PSK, identity=b"id", public=b"\x04"),
     b"\x00\x02id\x01\x04"),
]


@pytest.mark.parametrize(
    "msg,body", CODEC_CASES, ids=lambda x: "" if isinstance(x, bytes) else type(x).__name__
)
def test_tls12_codec(msg: Any, body: bytes) -> None:
    assert msg.to_bytes() == body
    again = decode_handshake12(msg.MSG_TYPE, body)
    assert again == msg and again.to_bytes() == body


def test_tls12_key_exchange_parse() -> None:
    body = bytes.fromhex("03001d20") + _POINT + bytes.fromhex("04030003") + b"sig"
    ske = ServerKeyExchange(body=body)
    hint, params, algorithm, signature, signed = ske.parse(KeyExchange.ECDHE)
    assert (hint, algorithm, signature) == (None, 0x0403, b"sig")
    assert params == ServerECDHParams(group=0x001D, public=_POINT)
    assert signed == bytes.fromhex("03001d20") + _POINT  # what the signature covers
    cke = ClientKeyExchange(body=b"\x00\x02id\x01\x04")
    assert cke.parse(KeyExchange.ECDHE_PSK) == (b"id", b"\x04")


@pytest.mark.parametrize("msg_type,body", [
    (HS_HELLO_REQUEST, b"\x00"),  # must be empty
    (HS_SERVER_HELLO_DONE, b"\x00"),
    (HS_CERTIFICATE, b"\x00\x00\x04\x00\x00\x00"),  # an empty ASN.1Cert
    (HS_CERTIFICATE, b"\x00\x00\x05\x00\x00\x02\x30"),  # a certificate longer than the list
    (HS_CERTIFICATE_REQUEST, b"\x00\x00\x02\x04\x03\x00\x00"),  # no certificate_types
    (HS_CERTIFICATE_REQUEST, b"\x01\x01\x00\x00\x00\x00"),  # no signature algorithms
    (HS_CERTIFICATE_REQUEST, b"\x01\x01\x00\x02\x04\x03\x00\x02\x00\x00"),  # an empty name
    (HS_NEW_SESSION_TICKET, b"\x00\x00\x1c\x20\x00\x05abc"),
])
def test_tls12_codec_rejects(msg_type: int, body: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_handshake12(msg_type, body)


@pytest.mark.parametrize("kx,body", [
    (KeyExchange.ECDHE, b"\x03\x00\x1d\x00\x04\x03\x00\x00"),  # an empty point
    (KeyExchange.ECDHE, b"\x03\x00\x1d\x01\x04\x04\x03"),  # no signature length
    (KeyExchange.PSK, b"\x00\x05abc"),  # a hint longer than the message
])
def test_tls12_server_key_exchange_rejects(kx: KeyExchange, body: bytes) -> None:
    with pytest.raises(DecodeError):
        ServerKeyExchange(body=body).parse(kx)


@pytest.mark.parametrize("msg_type", [0, 5, 14, 20, 24])
def test_client_hello_of_another_fixed_size_type_is_unexpected(backend: Any, msg_type: int) -> None:
    """tlsfuzzer test-invalid-client-hello-w-record-overflow ("Client Hello type fuzz"):
    a ClientHello's body under the type of a small fixed-size message (HelloRequest,
    EndOfEarlyData, ServerHelloDone, Finished, KeyUpdate) is unexpected_message, as
    any type the server does not expect there -- not decode_error for being longer
    than that type can be."""
    client = ClientConnection(c12(backend), SERVER_NAME)
    (hello,), _ = plain_messages(client.data_to_send())
    server = ServerConnection(s12(backend))
    with pytest.raises(UnexpectedMessage, match=f"type {msg_type} is not expected"):
        server.receive_data(frame([bytes([msg_type]) + hello[1:]], version=0x0301))
    assert alert_of(server.data_to_send()) == alert(FATAL, UNEXPECTED_MESSAGE)


def test_oversized_server_hello_done_where_expected_is_still_decode_error(backend: Any) -> None:
    """The early length check stays for a type the state expects: a ServerHelloDone
    (empty by syntax) announcing 5 bytes is decode_error as its header arrives."""
    pair = Stepper(c12(backend), s12(backend))
    flight = pair.to_server(pair.client.data_to_send())
    long_done = message(HS_SERVER_HELLO_DONE, b"12345")
    edited = edit_messages(flight, lambda ms: [*ms[:-1], long_done])
    with pytest.raises(DecodeError, match="type 14 of 5 bytes"):
        pair.client.receive_data(edited)


@pytest.mark.parametrize("content_type", [24, 19, 255])
def test_protected_record_of_unknown_type_is_unexpected(backend: Any, content_type: int) -> None:
    """tlsfuzzer test-invalid-content-type "before Finished": after the client's
    ChangeCipherSpec, a protected record of a type TLS 1.2 does not define
    (heartbeat's 24 here) is unexpected_message at once (RFC 5246 section 6), not a
    record the server waits behind."""
    pair, log, _, flight1, flight2 = _finished_stepper(backend)
    keys = Keys12.from_keylog(GCM128, log, server_hello_random(flight1))
    records = split_records(flight2)
    assert [t for t, _ in records] == [CT_HANDSHAKE, CT_CCS, CT_HANDSHAKE]
    cke_and_ccs = b"".join(r for _, r in records[:2])
    odd = keys.seal(True, 0, content_type, b"hello server!\n")
    with pytest.raises(UnexpectedMessage, match=f"unknown content type {content_type}"):
        pair.server.receive_data(cke_and_ccs + odd)
    (out_type, out), = split_records(pair.server.data_to_send())  # the alert, in the clear
    assert out_type == CT_ALERT and out[5:] == alert(FATAL, UNEXPECTED_MESSAGE)
