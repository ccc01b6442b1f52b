"""Handshakes driven through a fake HandshakeIO, with no connection at all.

The handshake sees only :class:`ferrotls.handshake.io.HandshakeIO`; these tests
give it a recording fake and shuttle the handshake messages between a client
and a server handshake by hand.  They check what each side asks its
connection to do, in order: which messages, when protection changes per
direction, the dummy change_cipher_spec, the events, and where the states go.
"""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.backend import resolve
from ferrotls.errors import UnexpectedMessage
from ferrotls.events import Event, HandshakeComplete, KeyUpdated
from ferrotls.handshake.client import ClientHandshake, ExpectServerHello
from ferrotls.handshake.io import HandshakeIO
from ferrotls.handshake.machine import Traffic
from ferrotls.handshake.server import ExpectClientHello, ServerHandshake
from ferrotls.stats import HandshakeStats, StatsRecorder
from helpers_tls import SERVER_NAME, client_config, server_config


class FakeIO:
    """Records every call; handshake messages pile up in ``out`` until taken."""

    def __init__(self, backend: Any, is_client: bool) -> None:
        self._backend = resolve(backend)
        self._stats = StatsRecorder(is_client, lambda: 0.0)
        self.calls: list[str] = []
        self.out: list[bytes] = []
        self.events: list[Event] = []
        self.read_protector: Any = None
        self.write_protector: Any = None
        self.partial = False
        self.info: HandshakeComplete | None = None
        self.close_sent = False

    @property
    def backend(self) -> Any:
        return self._backend

    @property
    def stats(self) -> StatsRecorder:
        return self._stats

    def write_handshake(self, raw: bytes, legacy_version: int = 0x0303) -> None:
        self.calls.append(f"write {raw[0]}")
        self.out.append(raw)

    def write_application_data(self, data: Any) -> None:
        self.calls.append("early data")

    def send_ccs(self) -> None:
        self.calls.append("ccs")

    def set_read_protector(self, protector: Any) -> None:
        if self.partial:
            raise UnexpectedMessage("a handshake message spans a key change")
        self.calls.append("read keys" if protector is not None else "read plain")
        self.read_protector = protector

    def set_write_protector(self, protector: Any) -> None:
        self.calls.append("write keys" if protector is not None else "write plain")
        self.write_protector = protector

    def limit_outgoing_records(self, max_fragment: int) -> None:
        self.calls.append(f"max fragment {max_fragment}")

    def limit_incoming_records(self, max_plaintext: int) -> None:
        self.calls.append(f"max plaintext {max_plaintext}")

    def skip_early_data(self, budget: int) -> None:
        self.calls.append(f"skip {budget}")

    def note_key_update(self) -> None:
        self.calls.append("key update counted")

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def finish_stats(self) -> HandshakeStats | None:
        return None

    def established(self, info: HandshakeComplete) -> None:
        self.calls.append("established")
        self.info = info
        self.events.append(info)

    def take(self) -> list[bytes]:
        out, self.out = self.out, []
        return out


def _deliver(messages: list[bytes], hs: Any) -> None:
    for raw in messages:
        hs.handle_message(raw[0], raw[4:], raw)


def _pair(backend: Any, **server_kw: Any) -> tuple[ClientHandshake, FakeIO, ServerHandshake, FakeIO]:
    cio, sio = FakeIO(backend, True), FakeIO(backend, False)
    io_c: HandshakeIO = cio  # the fake satisfies the protocol (mypy checks this line)
    io_s: HandshakeIO = sio
    client = ClientHandshake(io_c, client_config(backend), SERVER_NAME)
    server = ServerHandshake(io_s, server_config(backend, **server_kw))
    return client, cio, server, sio


def test_full_handshake_through_fakes(backend: Any) -> None:
    client, cio, server, sio = _pair(backend)
    assert isinstance(server.state, ExpectClientHello) and not server.accepts_ccs()
    client.start()
    assert isinstance(client.state, ExpectServerHello) and client.accepts_ccs()
    assert cio.calls == ["write 1"]
    _deliver(cio.take(), server)
    # ServerHello, then the middlebox CCS, then keys, then the encrypted flight
    assert sio.calls == [
        "write 2", "ccs", "write keys", "read keys", "write 8", "write 11", "write 15", "write 20", "write keys",
    ]
    _deliver(sio.take(), client)
    assert cio.calls[1:] == ["read keys", "ccs", "write keys", "read keys", "write 20", "write keys", "established"]
    assert isinstance(client.state, Traffic) and not client.accepts_ccs()
    _deliver(cio.take(), server)
    assert sio.calls[-2:] == ["read keys", "established"]
    assert isinstance(server.state, Traffic)
    c_info, s_info = cio.info, sio.info
    assert c_info is not None and s_info is not None
    assert c_info.cipher_suite == s_info.cipher_suite and c_info.group == s_info.group
    assert client.export(b"label", b"", 32) == server.export(b"label", b"", 32)
    assert client.resumption_master_secret == server.resumption_master_secret


def test_key_update_through_fakes(backend: Any) -> None:
    client, cio, server, sio = _pair(backend)
    client.start()
    _deliver(cio.take(), server)
    _deliver(sio.take(), client)
    _deliver(cio.take(), server)
    cio.calls.clear()
    sio.calls.clear()
    client.send_key_update(request_peer_update=True)
    assert cio.calls == ["write 24", "write keys"]
    _deliver(cio.take(), server)
    assert sio.calls == ["key update counted", "read keys", "write 24", "write keys"]
    assert sio.events[-1] == KeyUpdated(update_requested=True)
    _deliver(sio.take(), client)
    assert cio.events[-1] == KeyUpdated(update_requested=False)


def test_states_refuse_other_messages(backend: Any) -> None:
    client, cio, server, sio = _pair(backend)
    client.start()
    hello = cio.take()
    with pytest.raises(UnexpectedMessage, match="FINISHED is not expected in state ExpectClientHello"):
        server.handle_message(20, b"\x00" * 32, b"\x14\x00\x00\x20" + b"\x00" * 32)
    _deliver(hello, server)
    with pytest.raises(UnexpectedMessage, match="is not expected in state ExpectServerHello"):
        _deliver(hello, client)  # a ClientHello to a client


def test_key_change_with_a_partial_message_is_refused(backend: Any) -> None:
    client, cio, server, sio = _pair(backend)
    client.start()
    _deliver(cio.take(), server)
    cio.partial = True  # the connection still holds part of a handshake message
    with pytest.raises(UnexpectedMessage, match="spans a key change"):
        _deliver(sio.take()[:1], client)
