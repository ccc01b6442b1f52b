"""RFC 8448 section 4 ("Resumed 0-RTT Handshake") replayed byte for byte, on each backend.

The section 3 trace is run first (our client against the trace's server records) and
its SessionTicket event gives the ClientSession (ticket, resumption PSK, age_add,
max_early_data_size 1024) that section 4 resumes; nothing of section 4's PSK is
injected.  As in tests/test_rfc8448_replay.py each side runs against the trace:

* the client gets the trace's random and X25519 key; ``client_hello_hook`` returns the
  trace's ClientHello (it carries a padding extension ours does not), after checking
  our key share, random and PSK identity/age are the trace's.  The *binder is computed
  by our client* over that ClientHello and must reproduce the trace's record.  It sends
  the trace's 0-RTT data and must produce the trace's early data, EndOfEarlyData,
  Finished and application records.
* the server gets the trace's random, X25519 key and EncryptedExtensions; the trace's
  ticket is opaque (the RFC's server sealed it), so a TicketKeyManager stand-in maps
  exactly that ticket to the section 3 session state.  It must verify the trace's
  binder, accept the 0-RTT data and produce the trace's ServerHello and
  EncryptedExtensions+Finished records.

Ticket age: the trace's obfuscated_ticket_age is age_add + 6, so the ClientHello is
sent 6 ms after the ticket arrived (on both clocks).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from ferrotls.backend.interface import Backend
from ferrotls.config import ClientConfig, ServerConfig
from ferrotls.connection import ClientConnection, ConnectionState, ServerConnection
from ferrotls.events import ApplicationData, ConnectionClosed, EarlyData, HandshakeComplete, SessionTicket
from ferrotls.messages import ClientHello, EncryptedExtensions, decode_handshake_message
from ferrotls.messages.extensions import KeyShareClientHello, PreSharedKeyClientHello
from ferrotls.tickets import ClientSession, SessionState, TicketKeyManager
from helpers_tls import X25519, KeyLog, certified, insecure_verifier, open_record
from test_rfc8448_replay import CLIENT_HELLO_RECORD as S3_CLIENT_HELLO_RECORD
from test_rfc8448_replay import FIXED_CLOCK, SERVER_HELLO_RECORD as S3_SERVER_HELLO_RECORD
from test_rfc8448_replay import _rng
from vectors import rfc8448_resumption as rfc
from vectors import rfc8448_simple as s3

TICKET_RECEIVED = FIXED_CLOCK  # section 3's NewSessionTicket arrives (client and server clocks)
HELLO_SENT = FIXED_CLOCK + 0.006  # obfuscated_ticket_age - ticket_age_add = 6 ms


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _section3_session(backend: Any) -> ClientSession:
    """Run our client through the section 3 trace and keep the ticket it is given."""
    trace_hello = decode_handshake_message(s3.CLIENT_HELLO)
    clock = Clock(TICKET_RECEIVED)
    config = ClientConfig(
        backend=backend,
        rng=_rng(S3_CLIENT_HELLO_RECORD[11:43]),
        key_share_private_keys={X25519: s3.CLIENT_X25519_PRIVATE},
        cipher_suites=(0x1301, 0x1303, 0x1302),
        key_share_groups=(X25519,),
        middlebox_compat=False,
        client_hello_hook=lambda _hello: trace_hello,
        verifier=insecure_verifier(),
        check_hostname=False,
        clock=clock,
    )
    client = ClientConnection(config, "server")
    client.data_to_send()
    client.receive_data(S3_SERVER_HELLO_RECORD)
    client.receive_data(s3.SERVER_HANDSHAKE_RECORD)
    client.data_to_send()
    client.receive_data(s3.NEW_SESSION_TICKET_RECORD)
    events = client.events()
    ticket = events[-1]
    assert isinstance(ticket, SessionTicket) and isinstance(ticket.session, ClientSession)
    session = ticket.session
    assert session.psk == rfc.RESUMPTION_PSK  # RFC 8446 4.6.1 resumption_psk()
    assert session.max_early_data == 1024 and session.lifetime == 30
    assert session.server_name == "server"
    return session


def _check_key_log(log: KeyLog) -> None:
    expected = {
        "CLIENT_EARLY_TRAFFIC_SECRET": rfc.CLIENT_EARLY_TRAFFIC,
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET": rfc.CLIENT_HS_TRAFFIC,
        "SERVER_HANDSHAKE_TRAFFIC_SECRET": rfc.SERVER_HS_TRAFFIC,
        "CLIENT_TRAFFIC_SECRET_0": rfc.CLIENT_AP_TRAFFIC,
        "SERVER_TRAFFIC_SECRET_0": rfc.SERVER_AP_TRAFFIC,
        "EXPORTER_SECRET": rfc.EXPORTER_MASTER,
    }
    assert log.lines == [f"{k} {rfc.CLIENT_RANDOM.hex()} {v.hex()}" for k, v in expected.items()]


def _check_info(info: HandshakeComplete) -> None:
    assert info.cipher_suite == rfc.SUITE and info.group == X25519
    assert info.resumed and info.early_data_accepted and info.early_data_rejected == 0
    assert info.psk_identity is None and info.signature_scheme is None


def test_client_replays_resumed_0rtt_trace(backend: Any) -> None:
    session = _section3_session(backend)
    trace_hello = decode_handshake_message(rfc.CLIENT_HELLO)
    assert isinstance(trace_hello, ClientHello)
    seen: list[ClientHello] = []

    def hook(hello: ClientHello) -> ClientHello:
        seen.append(hello)
        ours, theirs = hello.get(KeyShareClientHello), trace_hello.get(KeyShareClientHello)
        assert ours is not None and theirs is not None and ours.client_shares == theirs.client_shares
        assert hello.random == trace_hello.random
        our_psk, trace_psk = hello.psk_offer(), trace_hello.psk_offer()
        assert isinstance(our_psk, PreSharedKeyClientHello) and trace_psk is not None
        assert our_psk.identities == trace_psk.identities  # ticket and obfuscated age
        # our binder is computed after this hook returns: blank the trace's
        replacement = decode_handshake_message(rfc.CLIENT_HELLO)
        assert isinstance(replacement, ClientHello)
        replacement.set_binders([bytes(32)])
        return replacement

    log = KeyLog()
    config = ClientConfig(
        backend=backend,
        rng=_rng(rfc.CLIENT_RANDOM),
        key_share_private_keys={X25519: rfc.CLIENT_X25519_PRIVATE},
        cipher_suites=(0x1301, 0x1303, 0x1302),
        key_share_groups=(X25519,),
        middlebox_compat=False,
        client_hello_hook=hook,
        verifier=insecure_verifier(),
        check_hostname=False,
        clock=Clock(HELLO_SENT),
        key_log=log,
    )
    client = ClientConnection(config, "server", session=session, early_data=rfc.EARLY_DATA)
    assert len(seen) == 1
    assert client.data_to_send() == rfc.CLIENT_HELLO_RECORD + rfc.EARLY_DATA_RECORD

    client.receive_data(rfc.SERVER_HELLO_RECORD)
    assert client.data_to_send() == b""
    client.receive_data(rfc.SERVER_HANDSHAKE_RECORD)
    assert client.data_to_send() == rfc.END_OF_EARLY_DATA_RECORD + rfc.CLIENT_FINISHED_RECORD
    (info,) = client.events()
    assert isinstance(info, HandshakeComplete)
    _check_info(info)
    _check_key_log(log)
    assert client._handshake.resumption_master_secret == rfc.RESUMPTION_MASTER  # internal

    client.send(rfc.APPLICATION_PAYLOAD)
    assert client.data_to_send() == rfc.CLIENT_APPLICATION_RECORD
    client.receive_data(rfc.SERVER_APPLICATION_RECORD)
    assert client.events() == [ApplicationData(rfc.APPLICATION_PAYLOAD)]
    client.close()
    assert client.data_to_send() == rfc.CLIENT_ALERT_RECORD
    client.receive_data(rfc.SERVER_ALERT_RECORD)
    assert client.events() == [ConnectionClosed()]
    assert client.state is ConnectionState.CLOSED


class TraceTicketKeys(TicketKeyManager):
    """Opens exactly the trace's ticket, as the section 3 session state."""

    def __init__(self, ticket: bytes, state: SessionState) -> None:
        super().__init__(rotation_interval=None)
        self.ticket, self.state = ticket, state
        self.opened = 0

    def open(self, backend: Backend, ticket: bytes, now: float | None = None) -> bytes | None:
        if ticket != self.ticket:
            return None
        self.opened += 1
        return self.state.encode()


def test_server_replays_resumed_0rtt_trace(backend: Any) -> None:
    session = _section3_session(backend)  # the same ticket, as our client parsed it
    trace_ee = decode_handshake_message(rfc.ENCRYPTED_EXTENSIONS)
    assert isinstance(trace_ee, EncryptedExtensions)
    seen_ee: list[EncryptedExtensions] = []

    def ee_hook(ee: EncryptedExtensions) -> EncryptedExtensions:
        seen_ee.append(ee)
        return trace_ee

    keys = TraceTicketKeys(
        session.ticket,
        SessionState(
            cipher_suite=rfc.SUITE, psk=rfc.RESUMPTION_PSK, created=TICKET_RECEIVED,
            lifetime=30, age_add=session.age_add, max_early_data=1024, server_name="server",
        ),
    )
    log = KeyLog()
    config = ServerConfig(
        backend=backend,
        rng=_rng(rfc.SERVER_RANDOM),
        key_share_private_keys={X25519: rfc.SERVER_X25519_PRIVATE},
        cipher_suites=(0x1301, 0x1302, 0x1303),
        middlebox_compat=False,
        certificates=(certified("p256"),),
        encrypted_extensions_hook=ee_hook,
        clock=Clock(HELLO_SENT),
        key_log=log,
        ticket_keys=keys,
        ticket_count=0,  # section 4's server sends no new ticket
        early_data=True,
    )
    server = ServerConnection(config)
    server.receive_data(rfc.CLIENT_HELLO_RECORD + rfc.EARLY_DATA_RECORD)
    assert keys.opened == 1
    # what ours would have sent: SNI acknowledged and early_data accepted
    assert [e.ext_type for e in seen_ee[0].extensions] == [0, 42]
    assert server.data_to_send() == rfc.SERVER_HELLO_RECORD + rfc.SERVER_HANDSHAKE_RECORD
    assert server.events() == [EarlyData(rfc.EARLY_DATA)]

    server.receive_data(rfc.END_OF_EARLY_DATA_RECORD + rfc.CLIENT_FINISHED_RECORD)
    (info,) = server.events()
    assert isinstance(info, HandshakeComplete)
    _check_info(info)
    _check_key_log(log)
    assert server._handshake.resumption_master_secret == rfc.RESUMPTION_MASTER  # internal
    assert server.data_to_send() == b""

    server.receive_data(rfc.CLIENT_APPLICATION_RECORD)
    assert server.events() == [ApplicationData(rfc.APPLICATION_PAYLOAD)]
    server.send(rfc.APPLICATION_PAYLOAD)
    assert server.data_to_send() == rfc.SERVER_APPLICATION_RECORD
    server.receive_data(rfc.CLIENT_ALERT_RECORD)
    assert server.events() == [ConnectionClosed()]
    server.close()
    assert server.data_to_send() == rfc.SERVER_ALERT_RECORD


def test_server_replay_with_a_bad_binder_is_decrypt_error(backend: Any) -> None:
    session = _section3_session(backend)
    keys = TraceTicketKeys(
        session.ticket,
        SessionState(cipher_suite=rfc.SUITE, psk=rfc.RESUMPTION_PSK, created=TICKET_RECEIVED,
                     lifetime=30, age_add=session.age_add, max_early_data=1024, server_name="server"),
    )
    config = ServerConfig(
        backend=backend, certificates=(certified("p256"),), ticket_keys=keys,
        clock=Clock(HELLO_SENT), middlebox_compat=False,
    )
    server = ServerConnection(config)
    tampered = bytearray(rfc.CLIENT_HELLO_RECORD)
    tampered[-1] ^= 1  # last byte of the binder
    from ferrotls.errors import DecryptError

    with pytest.raises(DecryptError):
        server.receive_data(bytes(tampered))
    assert server.data_to_send() == bytes.fromhex("15030300020233")  # fatal decrypt_error (51)


# -- transcription checks with pyca/cryptography only (independent of the backends) --


def _expand_label(secret: bytes, label: bytes, context: bytes, length: int = 32) -> bytes:
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def test_transcription_binder_and_early_secrets() -> None:
    import hmac

    assert _expand_label(s3.RESUMPTION_MASTER, b"resumption", b"\x00\x00") == rfc.RESUMPTION_PSK
    early = hmac.new(bytes(32), rfc.RESUMPTION_PSK, "sha256").digest()
    assert early == rfc.EARLY_SECRET
    binder_key = _expand_label(early, b"res binder", hashlib.sha256().digest())
    assert binder_key == rfc.BINDER_KEY
    truncated = rfc.CLIENT_HELLO[: -(2 + 1 + 32)]
    assert hashlib.sha256(truncated).digest() == rfc.BINDER_HASH
    finished_key = _expand_label(binder_key, b"finished", b"")
    assert hmac.new(finished_key, rfc.BINDER_HASH, "sha256").digest() == rfc.BINDER
    assert rfc.CLIENT_HELLO.endswith(rfc.BINDER)
    ch_hash = hashlib.sha256(rfc.CLIENT_HELLO).digest()
    assert _expand_label(early, b"c e traffic", ch_hash) == rfc.CLIENT_EARLY_TRAFFIC
    assert _expand_label(early, b"e exp master", ch_hash) == rfc.EARLY_EXPORTER_MASTER


def test_transcription_records_open() -> None:
    assert open_record(rfc.SUITE, rfc.CLIENT_EARLY_TRAFFIC, 0, rfc.EARLY_DATA_RECORD) == (23, rfc.EARLY_DATA)
    ct, content = open_record(rfc.SUITE, rfc.SERVER_HS_TRAFFIC, 0, rfc.SERVER_HANDSHAKE_RECORD)
    assert ct == 22 and content.startswith(rfc.ENCRYPTED_EXTENSIONS)
    assert open_record(rfc.SUITE, rfc.CLIENT_EARLY_TRAFFIC, 1, rfc.END_OF_EARLY_DATA_RECORD) == (
        22, b"\x05\x00\x00\x00",
    )
    assert open_record(rfc.SUITE, rfc.CLIENT_HS_TRAFFIC, 0, rfc.CLIENT_FINISHED_RECORD)[0] == 22
    assert open_record(rfc.SUITE, rfc.CLIENT_AP_TRAFFIC, 0, rfc.CLIENT_APPLICATION_RECORD) == (
        23, rfc.APPLICATION_PAYLOAD,
    )
    assert open_record(rfc.SUITE, rfc.SERVER_AP_TRAFFIC, 0, rfc.SERVER_APPLICATION_RECORD) == (
        23, rfc.APPLICATION_PAYLOAD,
    )
