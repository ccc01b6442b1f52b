"""The public Connection API: UsageError cases, next_event/NEED_DATA, events(), reprs."""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.connection import ClientConnection, ConnectionState, ServerConnection
from ferrotls.errors import UsageError
from ferrotls.events import (
    NEED_DATA,
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
    KeyUpdated,
    NeedData,
)
from helpers_tls import SERVER_NAME, ConnectionPair, KeyLog, client_config, server_config


def _pair(backend: Any, **ckw: Any) -> ConnectionPair:
    return ConnectionPair(client_config(backend, **ckw), server_config(backend))


@pytest.mark.parametrize("side", ["client", "server"])
def test_usage_errors_before_handshake(backend: Any, side: str) -> None:
    pair = _pair(backend)
    conn = getattr(pair, side)
    assert conn.state is ConnectionState.HANDSHAKING and not conn.handshake_complete
    assert conn.info is None
    with pytest.raises(UsageError):
        conn.send(b"early")
    with pytest.raises(UsageError):
        conn.update_keys()
    with pytest.raises(UsageError):
        conn.export_keying_material(b"label", b"", 16)
    # nothing was queued by the failed calls
    if side == "server":
        assert conn.data_to_send() == b""
    pair.handshake()  # and the connection still works


def test_usage_errors_after_close(backend: Any) -> None:
    pair = _pair(backend)
    pair.handshake()
    pair.client.close()
    with pytest.raises(UsageError):
        pair.client.send(b"late")
    with pytest.raises(UsageError):
        pair.client.update_keys()
    pair.client.close()  # idempotent: one close_notify only
    pair.pump()
    assert pair.server.events() == [ConnectionClosed()]
    # the server may still send until it closes (half-close)
    pair.server.send(b"still here")
    pair.pump()
    assert pair.client.events() == [ApplicationData(b"still here")]
    pair.server.close()
    pair.pump()
    assert pair.client.state is pair.server.state is ConnectionState.CLOSED
    # exporters remain usable after close
    assert pair.client.export_keying_material(b"x", b"", 8) == pair.server.export_keying_material(
        b"x", b"", 8
    )


def test_check_hostname_needs_a_name(backend: Any) -> None:
    with pytest.raises(UsageError):
        ClientConnection(client_config(backend), None)


def test_client_hello_is_ready_at_once(backend: Any) -> None:
    client = ClientConnection(client_config(backend), SERVER_NAME)
    data = client.data_to_send()
    assert data[:1] == b"\x16" and data[1:3] == b"\x03\x01"
    assert client.data_to_send() == b""
    server = ServerConnection(server_config(backend))
    assert server.data_to_send() == b""


def test_next_event_and_need_data(backend: Any) -> None:
    pair = _pair(backend)
    assert pair.client.next_event() is NEED_DATA
    assert isinstance(NEED_DATA, NeedData) and NeedData() is NEED_DATA
    assert repr(NEED_DATA) == "NEED_DATA"
    pair.pump()
    event = pair.client.next_event()
    assert isinstance(event, HandshakeComplete)
    assert pair.client.next_event() is NEED_DATA
    pair.client.send(b"one")
    pair.client.send(b"two")
    pair.client.update_keys()
    pair.pump()
    assert isinstance(pair.server.next_event(), HandshakeComplete)
    # both records arrived in one receive_data call: one event with both writes
    assert pair.server.next_event() == ApplicationData(b"onetwo")
    # events() drains what is left, in order; next_event then says NEED_DATA
    assert pair.server.events() == [KeyUpdated(update_requested=True)]
    assert pair.server.events() == []
    assert pair.server.next_event() is NEED_DATA


def test_events_are_values(backend: Any) -> None:
    pair = _pair(backend, alpn_protocols=("h2",))
    c_info, _s_info = pair.handshake()
    assert c_info == pair.client.info
    with pytest.raises(AttributeError):
        c_info.cipher_suite = 0  # type: ignore[misc]
    assert ApplicationData(b"a") == ApplicationData(b"a") and ApplicationData(
        b"a"
    ) != ApplicationData(b"b")


def _all_secrets(log: KeyLog) -> list[str]:
    return [secret.hex() for _, _, secret in log.entries()]


def test_reprs_show_no_secrets(backend: Any) -> None:
    c_log, s_log = KeyLog(), KeyLog()
    pair = ConnectionPair(
        client_config(backend, key_log=c_log), server_config(backend, key_log=s_log)
    )
    c_info, _ = pair.handshake()
    pair.client.send(b"top secret payload")
    pair.pump()
    events = pair.server.events()
    secrets = _all_secrets(c_log) + _all_secrets(s_log)
    assert len(secrets) == 10
    hs = pair.client._handshake
    texts = [
        repr(pair.client),
        repr(pair.server),
        repr(c_info),
        repr(events),
        repr(pair.client.config),
        repr(pair.server.config),
        repr(pair.client._records.read_protector),
        repr(pair.client._records.write_protector),
        repr(hs),
        str(vars(pair.client)),
    ]
    for text in texts:
        for secret in secrets:
            assert secret not in text
            assert secret[:32] not in text
        assert "top secret payload" not in text
    assert repr(events[0]) == "ApplicationData(<18 bytes>)"
    # HandshakeComplete leaves the certificate bytes out of its repr
    assert "peer_certificates" not in repr(c_info)
    assert "TLSv1.3" in repr(c_info)


def test_repr_of_keys_and_shares_is_redacted(backend: Any) -> None:
    from ferrotls.keyschedule import EarlySecrets, TrafficKeys
    from ferrotls.kx import start_exchange
    from ferrotls.suites import suite_info

    early = EarlySecrets(backend, suite_info(0x1301))
    assert early.secret.hex() not in repr(early) and "redacted" in repr(early)
    keys = TrafficKeys(b"k" * 16, b"i" * 12)
    assert repr(keys) == "TrafficKeys(<redacted>)"
    share = start_exchange(backend, 0x001D, bytes(range(32)))
    assert bytes(range(32)).hex() not in repr(share)
