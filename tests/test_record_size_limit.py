"""record_size_limit (RFC 8449): negotiation, our fragments within the peer's limit,
record_overflow for records above ours, padding kept inside the limit."""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.errors import IllegalParameter, RecordOverflow, UnsupportedExtension
from ferrotls.events import ApplicationData
from ferrotls.messages import extensions as ext
from helpers_tls import SERVER_NAME, ConnectionPair, client_config, server_config, split_records

CT_APPDATA = 23
TAG = 16


def protected_sizes(flights: list[bytes]) -> list[int]:
    """TLSInnerPlaintext sizes (content + type + padding) of the protected records."""
    return [len(r) - 5 - TAG for data in flights for t, r in split_records(data) if t == CT_APPDATA]


def exchange(pair: ConnectionPair, n: int) -> None:
    pair.client.send(b"c" * n)
    pair.server.send(b"s" * n)
    pair.pump()
    got_s = b"".join(e.data for e in pair.server.events() if isinstance(e, ApplicationData))
    got_c = b"".join(e.data for e in pair.client.events() if isinstance(e, ApplicationData))
    assert got_s == b"c" * n and got_c == b"s" * n


def test_negotiated_both_ways(backend: Any) -> None:
    pair = ConnectionPair(
        client_config(backend, record_size_limit=256),
        server_config(backend, record_size_limit=512),
    )
    c, s = pair.handshake()
    assert c.record_size_limit == 512 and s.record_size_limit == 256
    first_server_flight = list(pair.s2c)
    pair.c2s.clear()
    pair.s2c.clear()
    exchange(pair, 5000)
    # the server's encrypted flight (EE .. Finished) already fits the client's limit
    assert protected_sizes(first_server_flight) and max(protected_sizes(first_server_flight)) <= 256
    assert max(protected_sizes(pair.s2c)) == 256  # 255 bytes of data + the content type
    assert max(protected_sizes(pair.c2s)) == 512
    assert pair.client._records.peer_max_plaintext == 255
    assert pair.server._records.peer_max_plaintext == 511


def test_only_client_sends_it(backend: Any) -> None:
    """A server without a limit of its own still honours the client's (and says nothing)."""
    pair = ConnectionPair(client_config(backend, record_size_limit=100), server_config(backend))
    c, s = pair.handshake()
    assert c.record_size_limit is None and s.record_size_limit == 100
    exchange(pair, 1000)
    assert max(protected_sizes(pair.s2c)) <= 100
    assert max(protected_sizes(pair.c2s)) == 1001  # the server set no limit
    # without the server's extension the client enforces nothing
    assert pair.client._records.peer_max_plaintext == 2**14


def test_server_limit_without_client_offer_is_not_sent(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend), server_config(backend, record_size_limit=64))
    c, s = pair.handshake()
    assert c.record_size_limit is None and s.record_size_limit is None
    assert pair.server._records.peer_max_plaintext == 2**14


def test_tls13_maximum_is_2_14_plus_1(backend: Any) -> None:
    pair = ConnectionPair(
        client_config(backend, record_size_limit=2**14 + 1),
        server_config(backend, record_size_limit=2**14 + 1),
    )
    pair.handshake()
    exchange(pair, 40000)
    assert max(protected_sizes(pair.s2c)) == 2**14 + 1


def test_padding_stays_within_the_limit(backend: Any) -> None:
    pair = ConnectionPair(
        client_config(backend, record_size_limit=64),
        server_config(backend, record_padding=200),
    )
    pair.handshake()
    exchange(pair, 300)
    assert max(protected_sizes(pair.s2c)) <= 64


@pytest.mark.parametrize("side", ["client", "server"])
def test_oversized_record_is_record_overflow(backend: Any, side: str) -> None:
    pair = ConnectionPair(
        client_config(backend, record_size_limit=128),
        server_config(backend, record_size_limit=128),
    )
    pair.handshake()
    sender, receiver = (pair.server, pair.client) if side == "client" else (pair.client, pair.server)
    sender._records.max_fragment = 2**14  # a peer that ignores our limit
    sender.send(b"x" * 200)
    with pytest.raises(RecordOverflow):
        receiver.receive_data(sender.data_to_send())
    alert = receiver.data_to_send()
    assert split_records(alert)[-1][0] == CT_APPDATA  # encrypted alert ...
    assert len(split_records(alert)) == 1
    # ... that the sender reads as record_overflow (22)
    from ferrotls.errors import AlertReceived

    with pytest.raises(AlertReceived) as info:
        sender.receive_data(alert)
    assert info.value.description == 22


def test_record_at_the_limit_is_accepted(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend, record_size_limit=128), server_config(backend, record_size_limit=128))
    pair.handshake()
    exchange(pair, 127 * 3)


@pytest.mark.parametrize("bad", [0, 63, 2**14 + 2])
def test_config_range(backend: Any, bad: int) -> None:
    with pytest.raises(ValueError, match="record_size_limit"):
        ClientConnection(client_config(backend, record_size_limit=bad), SERVER_NAME)


def test_limit_below_64_on_the_wire_is_illegal_parameter(backend: Any) -> None:
    def hook(hello: Any) -> Any:
        hello.extensions = [
            ext.RecordSizeLimit(10) if isinstance(e, ext.RecordSizeLimit) else e for e in hello.extensions
        ]
        return hello

    client = ClientConnection(client_config(backend, record_size_limit=64, client_hello_hook=hook), SERVER_NAME)
    server = ServerConnection(server_config(backend))
    with pytest.raises(IllegalParameter):
        server.receive_data(client.data_to_send())
    assert server.data_to_send()[-2:] == b"\x02\x2f"  # fatal illegal_parameter (47)


def test_unrequested_limit_in_encrypted_extensions(backend: Any) -> None:
    def hook(ee: Any) -> Any:
        ee.extensions.append(ext.RecordSizeLimit(1000))
        return ee

    pair = ConnectionPair(client_config(backend), server_config(backend, encrypted_extensions_hook=hook))
    with pytest.raises(UnsupportedExtension):
        pair.pump()


def test_early_data_is_not_held_to_the_limit(backend: Any) -> None:
    """0-RTT records were sealed before the client knew the server's limit: only the
    records after EndOfEarlyData are checked."""
    from resumption_helpers import configs, full_handshake

    cc, sc = configs(
        backend,
        client={"record_size_limit": 1000},
        server={"early_data": True, "record_size_limit": 200},
    )
    _, sessions = full_handshake(cc, sc)
    client = ClientConnection(cc, SERVER_NAME, session=sessions[0], early_data=b"e" * 3000)
    server = ServerConnection(sc)
    pair = ConnectionPair.__new__(ConnectionPair)
    pair.client, pair.server, pair.c2s, pair.s2c = client, server, [], []
    pair.pump()
    assert client.info.early_data_accepted
    assert server._records.peer_max_plaintext == 199
    assert max(protected_sizes(pair.c2s)) == 3001  # the 0-RTT record
    pair.c2s.clear()
    exchange(pair, 1000)
    assert max(protected_sizes(pair.c2s)) <= 200
