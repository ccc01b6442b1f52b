"""The established data path allocates what it returns and nothing more.

tracemalloc sees every ``bytes``/``bytearray`` the interpreter allocates, including
the ones the native module creates.  Sending N bytes must allocate about one sealed
copy (the records ``data_to_send`` returns) and receiving them about one plaintext
copy (the ApplicationData event): an intermediate buffer, a join or a zero-filled
scratch area would show as a third copy.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest
from helpers_tls import ConnectionPair, client_config, server_config

SLACK = 4096  # events, tuples, small objects


def _pair(backend: Any) -> ConnectionPair:
    pair = ConnectionPair(client_config(backend), server_config(backend))
    pair.handshake()
    pair.client.events()
    pair.server.events()
    return pair


def _peak_during(fn: Any) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("size", [64, 16384, 4 * 16384 + 100])
def test_send_then_receive_allocates_two_copies(native_backend: Any, size: int) -> None:
    pair = _pair(native_backend)
    payload = bytes(size)
    records = -(-size // 16384)
    wire_size = size + records * (5 + 1 + 16)
    kept: list[Any] = []

    def step() -> None:
        pair.client.send(payload)
        wire = pair.client.data_to_send()
        pair.server.receive_data(wire)
        kept.append(pair.server.events())  # keep the result alive: its size counts once
        kept.append(wire)

    step()  # warm caches (method lookups, free lists)
    kept.clear()
    peak = _peak_during(step)
    assert sum(len(e.data) for e in kept[0]) == size
    # wire (kept) + plaintext (kept): anything else was a temporary copy
    assert peak <= wire_size + size + records + SLACK, (peak, wire_size + size)


def test_receive_split_stream_copies_only_leftovers(native_backend: Any) -> None:
    """Records arriving in pieces: only the incomplete tail is buffered, and the next
    input completes it without being copied itself."""
    pair = _pair(native_backend)
    pair.client.send(bytes(3 * 16384))
    wire = pair.client.data_to_send()
    first, second = wire[:20000], wire[20000:]
    kept: list[Any] = []

    def step() -> None:
        pair.server.receive_data(first)  # one whole record + 3,572 bytes of the next
        pair.server.receive_data(second)
        kept.append(pair.server.events())

    peak = _peak_during(step)
    assert sum(len(e.data) for e in kept[0]) == 3 * 16384
    # plaintext (3 x 16 KiB) + the buffered start of record 2 (3,572 bytes); the
    # second input is read in place, not appended to the buffer
    assert peak <= 3 * 16384 + 3572 + SLACK, peak
