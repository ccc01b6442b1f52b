"""Stream properties: TLS is a byte stream, so

* any split or coalescing of the bytes a connection receives yields the same events
  (ApplicationData events may be cut differently: their concatenation is compared), and
* application data in equals application data out, whatever the write sizes, the
  record padding (``config.record_padding``), the KeyUpdates in between and the way
  the wire bytes are cut on delivery.
"""

from __future__ import annotations

from typing import Any

from ferrotls.connection import Connection
from ferrotls.events import ApplicationData, Event, KeyUpdated
from fuzz_targets import Driver, transcript
from helpers_tls import ConnectionPair, client_config, server_config
from hypothesis import given, settings
from hypothesis import strategies as st


def _normalise(events: list[Event]) -> list[Any]:
    """Events with adjacent ApplicationData merged (and empty ones dropped)."""
    out: list[Any] = []
    for event in events:
        if isinstance(event, ApplicationData):
            if not event.data:
                continue
            if out and isinstance(out[-1], bytes):
                out[-1] += bytes(event.data)
            else:
                out.append(bytes(event.data))
        else:
            out.append(type(event).__name__ if not isinstance(event, KeyUpdated) else event)
    return out


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)]) if b > a]


def _feed(conn: Connection, chunks: list[bytes]) -> list[Event]:
    events: list[Event] = []
    for chunk in chunks:
        conn.receive_data(chunk)
        conn.data_to_send()
        events += conn.events()
    return events


@given(side=st.sampled_from(("client", "server")), cuts=st.lists(st.integers(0, 3000), max_size=40))
def test_any_split_gives_the_same_events(side: str, cuts: list[int]) -> None:
    t = transcript()
    wire = b"".join(t.wire_to_client if side == "client" else t.wire_to_server)
    whole = _normalise(_feed(Driver(side).conn, [wire]))
    assert _normalise(_feed(Driver(side).conn, _cut(wire, cuts))) == whole
    byte_by_byte = _normalise(_feed(Driver(side).conn, [wire[i : i + 1] for i in range(len(wire))]))
    assert byte_by_byte == whole


_action = st.one_of(
    st.tuples(st.just("send"), st.binary(max_size=3000)),
    st.tuples(st.just("big"), st.integers(1, 40_000)),
    st.tuples(st.just("key_update"), st.booleans()),
    st.tuples(st.just("deliver"), st.lists(st.integers(0, 50_000), max_size=6)),
)


def _deliver(pair: ConnectionPair, cuts: list[int], got: dict[str, list[bytes]]) -> None:
    for sender, receiver, name in ((pair.client, pair.server, "server"), (pair.server, pair.client, "client")):
        for chunk in _cut(sender.data_to_send(), cuts):
            receiver.receive_data(chunk)
        got[name] += [bytes(e.data) for e in receiver.events() if isinstance(e, ApplicationData)]


@settings(max_examples=25)
@given(
    client_padding=st.integers(0, 300),
    server_padding=st.integers(0, 300),
    actions=st.lists(st.tuples(st.booleans(), _action), max_size=12),
)
def test_application_data_in_equals_out(
    backend: Any, client_padding: int, server_padding: int, actions: list[Any]
) -> None:
    pair = ConnectionPair(
        client_config(backend, record_padding=client_padding),
        server_config(backend, record_padding=server_padding),
    )
    pair.handshake()
    sent = {"client": bytearray(), "server": bytearray()}
    got: dict[str, list[bytes]] = {"client": [], "server": []}
    for from_client, (kind, arg) in actions:
        conn, me = (pair.client, "client") if from_client else (pair.server, "server")
        if kind == "send":
            conn.send(arg)
            sent[me] += arg
        elif kind == "big":
            data = bytes(i % 251 for i in range(arg))
            conn.send(data)
            sent[me] += data
        elif kind == "key_update":
            conn.update_keys(request_peer_update=arg)
        else:
            _deliver(pair, arg, got)
    for _ in range(3):  # requested KeyUpdates are answered
        _deliver(pair, [], got)
    assert b"".join(got["server"]) == bytes(sent["client"])
    assert b"".join(got["client"]) == bytes(sent["server"])
