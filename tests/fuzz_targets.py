"""Fuzz targets shared by the hypothesis invariant tests, the atheris harnesses
(``fuzz/python/``) and ``fuzz/make_corpus.py``.

Every target takes bytes and either returns or raises one of ``ALLOWED``; anything
else (IndexError, struct.error, UnicodeDecodeError, ValueError, TypeError,
RecursionError, an assertion about buffer sizes) is a finding.

A *deterministic* handshake (fixed rng, fixed X25519 keys, Ed25519 certificates from
fixed seeds, a fixed clock; client authentication on, so CertificateRequest and the
client's Certificate/CertificateVerify are on the wire) is recorded once per process
(``transcript()``): it is byte-identical in every run, so corpus files stay valid and
a fresh client or server can be driven to any handshake state by replaying a prefix
of the peer's messages.  ``Step`` lists hold the peer's messages as *plaintext*
(content type, payload, secret label); replay re-seals them with pyca/cryptography
(``helpers_tls.seal_record``), and so can the fuzz input, which then reaches the
handshake parsers behind the record protection instead of dying at bad_record_mac.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ferrotls.backend import load_backend
from ferrotls.config import CertifiedKey, ClientAuth, ClientConfig, ServerConfig
from ferrotls.connection import ClientConnection, Connection, ServerConnection
from ferrotls.errors import AlertReceived, ProtocolError, TruncationError
from ferrotls.messages.codec import Reader
from ferrotls.messages.enums import HandshakeType
from ferrotls.messages.extensions import Context, decode_extensions
from ferrotls.messages.handshake import decode_handshake, encode_handshake
from ferrotls.dtls_record import DTLS_1_2, DTLS_1_3, DatagramRecordLayer
from ferrotls.record import StreamRecordLayer as RecordLayer
from ferrotls.x509 import DefaultVerifier, InsecureNoVerification, TrustStore, VerifiedChain
from helpers_tls import open_record, seal_record, split_handshake, split_records

__all__ = [
    "ALLOWED",
    "Step",
    "Transcript",
    "check_invariants",
    "client_config",
    "drive",
    "fresh",
    "server_config",
    "target_connection",
    "target_deframer",
    "target_extensions",
    "target_handshake",
    "transcript",
]

ALLOWED: tuple[type[BaseException], ...] = (ProtocolError, AlertReceived, TruncationError)
"""The only exceptions bytes from the wire may cause."""

SERVER_NAME = "fuzz.example"
X25519 = 0x001D
NOW = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
CT_CCS, CT_ALERT, CT_HANDSHAKE, CT_APPDATA = 20, 21, 22, 23
HANDSHAKE_TYPES = sorted({int(t) for t in HandshakeType}) + [0xFE]  # + one unknown type
CONTEXTS = list(Context)


class Rng:
    """SHA-256 in counter mode from a label: a deterministic ``rng`` for configs."""

    def __init__(self, label: bytes) -> None:
        self.label = label
        self.counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self.label + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        return out[:n]


def _key(seed: str) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@functools.cache
def _pki() -> tuple[x509.Certificate, CertifiedKey, CertifiedKey]:
    """(root, server key, client key): Ed25519 throughout, so every signature is deterministic."""
    ca_key = _key("fuzz root")
    start, end = datetime.datetime(2020, 1, 1), datetime.datetime(2100, 1, 1)
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("ferrotls fuzz root"))
        .issuer_name(_name("ferrotls fuzz root"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, None)
    )

    def leaf(seed: str, serial: int) -> CertifiedKey:
        k = _key(seed)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(SERVER_NAME))
            .issuer_name(root.subject)
            .public_key(k.public_key())
            .serial_number(serial)
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .sign(ca_key, None)
        )
        return CertifiedKey([cert], k)

    return root, leaf("fuzz server", 2), leaf("fuzz client", 3)


class _Verifier:
    """The recorded chains are Ed25519, which the WebPKI profile forbids: they are only
    parsed (as InsecureNoVerification does).  Any other chain (a fuzzed one) goes
    through DefaultVerifier first, whose error mapping must raise ProtocolErrors only."""

    def __init__(self) -> None:
        root, server, client = _pki()
        self.known = {server.chain_der, client.chain_der}
        self.default = DefaultVerifier(TrustStore.from_certificates([root]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.insecure = InsecureNoVerification()

    def verify_server_chain(
        self, chain: Sequence[bytes], server_name: str | None, now: datetime.datetime
    ) -> VerifiedChain:
        if tuple(chain) not in self.known:
            self.default.verify_server_chain(chain, server_name, now)
        return self.insecure.verify_server_chain(chain, server_name, now)

    def verify_client_chain(self, chain: Sequence[bytes], now: datetime.datetime) -> VerifiedChain:
        if tuple(chain) not in self.known:
            self.default.verify_client_chain(chain, now)
        return self.insecure.verify_client_chain(chain, now)


@functools.cache
def _verifier() -> _Verifier:
    return _Verifier()


def _clock() -> float:
    return NOW.timestamp()


def client_config(backend: Any = "python", **kw: Any) -> ClientConfig:
    kw.setdefault("certificate", _pki()[2])
    return ClientConfig(
        backend=backend,
        groups=(X25519,),
        key_share_groups=(X25519,),
        key_share_private_keys={X25519: hashlib.sha256(b"fuzz client x25519").digest()},
        rng=Rng(b"client"),
        clock=_clock,
        verifier=_verifier(),
        alpn_protocols=("h2", "http/1.1"),
        **kw,
    )


def server_config(backend: Any = "python", **kw: Any) -> ServerConfig:
    kw.setdefault("client_auth", ClientAuth.REQUIRED)
    return ServerConfig(
        backend=backend,
        groups=(X25519,),
        key_share_private_keys={X25519: hashlib.sha256(b"fuzz server x25519").digest()},
        rng=Rng(b"server"),
        clock=_clock,
        certificates=(_pki()[1],),
        client_verifier=_verifier(),
        alpn_protocols=("h2",),
        **kw,
    )


# --------------------------------------------------------------------------- the recorded handshake


@dataclass(frozen=True)
class Step:
    """One record a peer sent, as plaintext: ``label`` names the key-log secret that
    protects it (None: sent in the clear)."""

    content_type: int
    payload: bytes
    label: str | None


@dataclass(frozen=True)
class Transcript:
    suite: int
    secrets: dict[str, bytes]
    to_client: list[Step]
    """The server's records, one handshake message per step."""
    to_server: list[Step]
    wire_to_client: list[bytes]
    wire_to_server: list[bytes]


class _Log:
    def __init__(self) -> None:
        self.secrets: dict[str, bytes] = {}

    def __call__(self, line: str) -> None:
        label, _, secret = line.split(" ")
        self.secrets[label] = bytes.fromhex(secret)


_ORDER = {
    True: ("SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"),
    False: ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0"),
}


def _steps(flights: Sequence[bytes], suite: int, secrets: dict[str, bytes], server: bool) -> list[Step]:
    steps: list[Step] = []
    seq = {label: 0 for label in _ORDER[server]}
    for flight in flights:
        for content_type, record in split_records(flight):
            if content_type != CT_APPDATA:
                if content_type == CT_HANDSHAKE:
                    steps += [Step(CT_HANDSHAKE, m, None) for m in split_handshake(record[5:])]
                else:
                    steps.append(Step(content_type, record[5:], None))
                continue
            for label in _ORDER[server]:
                try:
                    inner, content = open_record(suite, secrets[label], seq[label], record)
                except (InvalidTag, KeyError):
                    continue
                seq[label] += 1
                if inner == CT_HANDSHAKE:
                    steps += [Step(CT_HANDSHAKE, m, label) for m in split_handshake(content)]
                else:
                    steps.append(Step(inner, content, label))
                break
            else:
                raise AssertionError("a recorded record opens with none of the secrets")
    return steps


@functools.cache
def transcript(backend: str = "python") -> Transcript:
    """Client-authenticated handshake, then application data both ways and a KeyUpdate
    from the client (answered by the server): the last records under logged keys."""
    log = _Log()
    client = ClientConnection(client_config(backend, key_log=log), SERVER_NAME)
    server = ServerConnection(server_config(backend, key_log=log))
    to_server: list[bytes] = []
    to_client: list[bytes] = []

    def pump() -> None:
        for _ in range(10):
            data = client.data_to_send()
            if data:
                to_server.append(data)
                server.receive_data(data)
            back = server.data_to_send()
            if back:
                to_client.append(back)
                client.receive_data(back)
            if not data and not back:
                return

    pump()
    assert client.handshake_complete and server.handshake_complete
    client.send(b"GET / HTTP/1.1\r\n\r\n")
    server.send(b"HTTP/1.1 200 OK\r\n\r\nhello")
    pump()
    client.update_keys(request_peer_update=True)  # the server answers with its own
    pump()
    info = client.info
    assert info is not None
    suite = info.cipher_suite
    return Transcript(
        suite=suite,
        secrets=dict(log.secrets),
        to_client=_steps(to_client, suite, log.secrets, server=True),
        to_server=_steps(to_server, suite, log.secrets, server=False),
        wire_to_client=to_client,
        wire_to_server=to_server,
    )


# --------------------------------------------------------------------------- driving a connection


class Driver:
    """A fresh connection of one side fed a prefix of the recorded peer steps."""

    def __init__(self, side: str, backend: str = "python", **config_kw: Any) -> None:
        self.t = transcript(backend)
        self.side = side
        if side == "client":
            self.conn: Connection = ClientConnection(client_config(backend, **config_kw), SERVER_NAME)
            self.steps = self.t.to_client
        else:
            self.conn = ServerConnection(server_config(backend, **config_kw))
            self.steps = self.t.to_server
        self.conn.data_to_send()
        self.seq: dict[str, int] = {}
        self.label: str | None = None
        self.position = 0

    def seal(self, content_type: int, payload: bytes, label: str | None) -> bytes:
        if label is None:
            version = b"\x03\x01" if self.side == "server" and self.position == 0 else b"\x03\x03"
            return bytes((content_type,)) + version + len(payload).to_bytes(2, "big") + payload
        seq = self.seq.get(label, 0)
        self.seq[label] = seq + 1
        return seal_record(self.t.suite, self.t.secrets[label], seq, content_type, payload)

    def replay(self, n: int) -> None:
        """Feed the first ``n`` recorded steps (each must be accepted)."""
        for step in self.steps[self.position : n]:
            self.conn.receive_data(self.seal(step.content_type, step.payload, step.label))
            self.label = step.label
            self.position += 1
        self.conn.events()
        self.conn.data_to_send()

    def current_label(self) -> str | None:
        """The key the next recorded step is protected with (the last one at the end)."""
        if self.position < len(self.steps):
            return self.steps[self.position].label
        return self.label


def fresh(side: str, state: int, backend: str = "python") -> Driver:
    driver = Driver(side, backend)
    driver.replay(state)
    return driver


def check_invariants(conn: Connection) -> None:
    """What no input may break: the deframer holds at most one incomplete record and the
    handshake reassembly buffer at most one incomplete message."""
    records = conn._records
    assert records.buffered <= 5 + (1 << 14) + 256, records.buffered
    assert len(conn._handshake_buffer) <= conn.config.limits.max_handshake_size + 4


def drive(conn: Connection, chunks: Sequence[bytes]) -> BaseException | None:
    """Feed ``chunks``; return the allowed exception that ended it (others propagate)."""
    try:
        for chunk in chunks:
            conn.receive_data(chunk)
            conn.data_to_send()
            conn.events()
            check_invariants(conn)
    except ALLOWED as exc:
        conn.data_to_send()  # the alert must be writable
        return exc
    return None


# --------------------------------------------------------------------------- targets


def target_connection(data: bytes, backend: str = "python") -> None:
    """Whole connection.  Byte 0: side (bit 0), mode (bits 1-2); byte 1: state (mod the
    number of recorded steps + 1); byte 2: content type for sealed modes; rest: payload.

    Modes: 0 raw bytes after the replayed prefix; 1 the payload sealed under the current
    key (plaintext record before keys) as one record of the chosen content type;
    2 the payload split into handshake records of 1..7 bytes (reassembly paths);
    3 the payload replaces the next recorded step's payload, then the rest of the
    recorded steps follow.
    """
    if len(data) < 3:
        return
    side = "client" if data[0] & 1 else "server"
    mode = (data[0] >> 1) & 3
    driver = Driver(side, backend)
    state = data[1] % (len(driver.steps) + 1)
    driver.replay(state)
    payload = data[3:]
    conn = driver.conn
    label = driver.current_label()
    if mode == 0:
        chunks = [payload]
    elif mode == 1:
        chunks = [driver.seal(data[2], payload, label)]
    elif mode == 2:
        size = 1 + data[2] % 7
        chunks = [
            driver.seal(CT_HANDSHAKE, payload[i : i + size], label)
            for i in range(0, len(payload), size)
        ] or [driver.seal(CT_HANDSHAKE, b"", label)]
    else:
        chunks = []
        for i, step in enumerate(driver.steps[state:]):
            body = payload if i == 0 else step.payload
            chunks.append(driver.seal(step.content_type, body, step.label))
    drive(conn, chunks)


def target_deframer(data: bytes) -> None:
    """RecordLayer.read_records on raw bytes: first without keys, then (byte 0 odd) with
    a read protector installed (python backend, fixed key), fed in two pieces."""
    if not data:
        return
    layer = RecordLayer()
    if data[0] & 1:
        backend = load_backend("python")
        layer.read_protector = backend.record_protector(0x1301, bytes(16), bytes(12))
    cut = data[1] if len(data) > 1 else 0
    try:
        for piece in (data[2 : 2 + cut], data[2 + cut :]):
            layer.feed(piece)
            while layer.read_records():
                pass
            assert layer.buffered <= 5 + (1 << 14) + 256
    except ProtocolError:
        pass


DATAGRAM_KEY = b"\x42" * 16
DATAGRAM_IV = b"\x24" * 12
DATAGRAM_SN = b"\x5a" * 16
DATAGRAM_CID = b"\xc1\xd2"


def datagram_layer(data0: int) -> DatagramRecordLayer:
    """The receiver of ``target_datagram``: byte 0 bit 0 picks DTLS 1.3 (epochs 2 and 3,
    AES-128-GCM) or DTLS 1.2 (epoch 1, AES-128-CCM_8), bit 1 a connection ID; python backend."""
    backend = load_backend("python")
    cid = DATAGRAM_CID if data0 & 2 else b""
    if data0 & 1:
        layer = DatagramRecordLayer(DTLS_1_3)
        for epoch in (2, 3):
            layer.install_read_protector(
                backend.dtls13_record_protector(0x1301, DATAGRAM_KEY, DATAGRAM_IV, DATAGRAM_SN, epoch, connection_id=cid)
            )
    else:
        layer = DatagramRecordLayer(DTLS_1_2)
        layer.install_read_protector(
            backend.dtls12_record_protector(0xC0AE, DATAGRAM_KEY, DATAGRAM_IV[:4], 1, connection_id=cid)
        )
    layer.connection_id = cid
    return layer


def target_datagram(data: bytes) -> None:
    """DatagramRecordLayer.feed on arbitrary datagrams: byte 0 picks the receiver
    (``datagram_layer``), byte 1 where the input is cut into two datagrams.  Nothing
    may be raised; every record reported belongs to an installed epoch or epoch 0;
    what is kept for later stays bounded."""
    if len(data) < 2:
        return
    layer = datagram_layer(data[0])
    epochs = {0, *layer.read_epochs}
    cut = 2 + data[1]
    for datagram in (data[2:cut], data[cut:]):
        layer.feed(datagram)
        for record in layer.read_dtls_records():
            assert record.epoch in epochs, record
            assert 0 <= record.sequence < 1 << 48
            assert len(record.payload) <= 1 << 14
    assert layer.buffered <= layer.max_stashed * 65536
    assert layer.dropped.total >= 0


def target_handshake(data: bytes) -> None:
    """decode_handshake for every type (byte 0 picks it); a decoded message re-encodes to
    the same bytes (STYLE.md: every body has exactly one encoding)."""
    if not data:
        return
    msg_type = HANDSHAKE_TYPES[data[0] % len(HANDSHAKE_TYPES)]
    body = data[1:]
    try:
        message = decode_handshake(msg_type, body)
    except ProtocolError:
        return
    framed = encode_handshake(message)
    assert framed[4:] == body, (msg_type, body.hex(), framed[4:].hex())


def target_extensions(data: bytes) -> None:
    """decode_extensions in each context (byte 0 picks it), as a block of a message."""
    if not data:
        return
    ctx = CONTEXTS[data[0] % len(CONTEXTS)]
    try:
        decode_extensions(Reader(data[1:]), ctx)
    except ProtocolError:
        pass


_DTLS_PSK = None


def _dtls_psk() -> Any:
    global _DTLS_PSK
    if _DTLS_PSK is None:
        from ferrotls.psk import ExternalPsk

        _DTLS_PSK = ExternalPsk(b"fuzz-device", bytes(range(32)))
    return _DTLS_PSK


@functools.cache
def dtls_client_hello() -> bytes:
    """A real DTLS 1.3 ClientHello datagram (deterministic: fixed randomness and key share)."""
    from ferrotls.dtls import DTLSClientConnection

    config = client_config(external_psks=(_dtls_psk(),))
    (hello,) = DTLSClientConnection(config, "localhost").datagrams_to_send()
    return hello


def target_dtls_connection(data: bytes) -> None:
    """DTLSServerConnection.receive_datagram on arbitrary datagrams, after (byte 0 odd)
    a real ClientHello: only ProtocolError / AlertReceived may come out, and a
    connection that failed refuses more input with UsageError only.  Byte 1 cuts the
    rest into two datagrams."""
    from ferrotls.dtls import DTLSServerConnection
    from ferrotls.errors import UsageError

    if len(data) < 2:
        return
    psk = _dtls_psk()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        conn = DTLSServerConnection(server_config(psk_callback=lambda i: psk if i == psk.identity else None))
    datagrams = [dtls_client_hello()] if data[0] & 1 else []
    cut = 2 + data[1]
    datagrams += [data[2:cut], data[cut:]]
    failed = False
    for i, datagram in enumerate(datagrams):
        try:
            conn.receive_datagram(datagram, float(i))
            conn.handle_timeout(float(i) + 0.5)
        except (ProtocolError, AlertReceived):
            failed = True
        except UsageError:
            assert failed, "UsageError from a connection that had not failed"
        conn.datagrams_to_send()
        conn.events()
    assert conn.dropped.total >= 0


_DTLS12_SUITES = (0xC0A8, 0xC02B)  # TLS_PSK_WITH_AES_128_CCM_8, ECDHE-ECDSA-AES128-GCM-SHA256
_DTLS12_CLIENT_CID = b"\x07\x07"
_DTLS12_SERVER_CID = b"srv-cid"


def _dtls12_pair(cids: bool, both: bool) -> tuple[Any, Any]:
    """A deterministic DTLS 1.2 client (PSK, CCM_8 first) and server (DTLS 1.2 only, or
    both versions with ``both``), with connection IDs both ways when ``cids``."""
    from ferrotls.dtls import DTLSClientConnection, DTLSConfig, DTLSServerConnection

    psk = _dtls_psk()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = DTLSClientConnection(
            client_config(external_psks=(psk,), tls12_cipher_suites=_DTLS12_SUITES), "localhost",
            dtls=DTLSConfig(versions=(DTLS_1_2,), connection_id=_DTLS12_CLIENT_CID if cids else None))
        server = DTLSServerConnection(
            server_config(psk_callback=lambda i: psk if i == psk.identity else None, client_auth=ClientAuth.NONE,
                          tls12_cipher_suites=_DTLS12_SUITES),
            dtls=DTLSConfig(versions=(DTLS_1_3, DTLS_1_2) if both else (DTLS_1_2,)),
            connection_id=_DTLS12_SERVER_CID if cids else None)
    return client, server


@functools.cache
def dtls12_client_flights(cids: bool, both: bool) -> tuple[bytes, ...]:
    """The client's datagrams of a real DTLS 1.2 handshake with :func:`_dtls12_pair`
    (ClientHello, then ClientKeyExchange / ChangeCipherSpec / Finished, then one
    application datagram); deterministic, so a fresh server accepts them again."""
    client, server = _dtls12_pair(cids, both)
    out: list[bytes] = []
    for _ in range(6):
        sent = client.datagrams_to_send()
        out += sent
        for d in sent:
            server.receive_datagram(d, 0.0)
        back = server.datagrams_to_send()
        for d in back:
            client.receive_datagram(d, 0.0)
        if client.handshake_complete and not back:
            break
    assert client.handshake_complete and server.handshake_complete and server.version == "DTLSv1.2"
    client.send(b"reading 42")
    out += client.datagrams_to_send()
    return tuple(out)


def target_dtls12_connection(data: bytes) -> None:
    """A DTLS 1.2 DTLSServerConnection's receive_datagram on arbitrary datagrams.
    Byte 0: bit 0 -- first the real ClientHello; bit 1 (with bit 0) -- then the rest
    of the real client's handshake and a datagram of application data, so the input
    meets an established connection (epoch 1); bit 2 -- the server speaks DTLS 1.3
    too (the version is open until the ClientHello); bit 3 -- connection IDs both
    ways (tls12_cid records).  Byte 1 cuts the rest into two datagrams.  Only
    ProtocolError / AlertReceived may come out; a failed connection refuses more
    input with UsageError only."""
    from ferrotls.errors import UsageError

    if len(data) < 2:
        return
    flags = data[0]
    cids, both = bool(flags & 8), bool(flags & 4)
    _, conn = _dtls12_pair(cids, both)
    datagrams: list[bytes] = []
    if flags & 1:
        real = dtls12_client_flights(cids, both)
        datagrams += real if flags & 2 else real[:1]
    cut = 2 + data[1]
    datagrams += [data[2:cut], data[cut:]]
    failed = False
    for i, datagram in enumerate(datagrams):
        try:
            conn.receive_datagram(datagram, float(i))
            conn.handle_timeout(float(i) + 0.5)
        except (ProtocolError, AlertReceived):
            failed = True
        except UsageError:
            assert failed, "UsageError from a connection that had not failed"
        conn.datagrams_to_send()
        conn.events()
    if flags & 3 == 3 and not failed:
        assert conn.handshake_complete and conn.version == "DTLSv1.2"
    assert conn.dropped.total >= 0


TARGETS: dict[str, Callable[[bytes], None]] = {
    "deframer": target_deframer,
    "datagram": target_datagram,
    "handshake": target_handshake,
    "extensions": target_extensions,
    "connection": target_connection,
    "dtls_connection": target_dtls_connection,
    "dtls12_connection": target_dtls12_connection,
}
