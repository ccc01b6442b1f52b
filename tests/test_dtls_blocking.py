"""The blocking DTLS client (``ferrotls.dtls_connect`` / ``DTLSSocket``) against
ferrotls' asyncio endpoint on 127.0.0.1, DTLS 1.3 and 1.2: data both ways,
timeouts, close_notify, resumption, and retransmission while it waits.  Against
peers written by others: tests/interop/test_dtls_blocking_interop.py."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
from helpers_tls import SERVER_NAME, client_config, server_config
from interop.dtls_helpers import ECHO_PREFIX, EndpointServer

import ferrotls
from ferrotls.dtls import DTLSConfig
from ferrotls.dtls.config import DTLS_1_2, DTLS_1_3
from ferrotls.errors import UsageError

LOOPBACK = "127.0.0.1"
VERSIONS = {"DTLSv1.3": (DTLS_1_3,), "DTLSv1.2": (DTLS_1_2,)}


@pytest.mark.parametrize("version", list(VERSIONS))
def test_send_recv_close(backend: Any, version: str) -> None:
    with EndpointServer(server_config(backend, ticket_count=1), DTLSConfig(versions=(DTLS_1_3, DTLS_1_2))) as server:
        sock = ferrotls.dtls_connect(client_config(backend), (LOOPBACK, server.port), server_hostname=SERVER_NAME,
                                     dtls=DTLSConfig(versions=VERSIONS[version]), timeout=5)
        with sock:
            assert sock.version == version and sock.info is not None
            assert sock.gettimeout() == 5
            for n in range(3):
                sock.send(b"reading %d" % n)
                assert sock.recv() == ECHO_PREFIX + b"reading %d" % n
            with pytest.raises(TimeoutError):
                sock.recv(timeout=0.2)  # nothing more comes
        assert sock.closed
        with pytest.raises(UsageError):
            sock.send(b"after close")
        (served,) = server.wait_sessions(1)
        deadline = time.monotonic() + 5
        while server.endpoint.sessions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.endpoint.sessions == []  # our close_notify ended the session
    assert served.received == [b"reading 0", b"reading 1", b"reading 2"]
    assert served.info is not None and served.info.version == version


@pytest.mark.parametrize("version", list(VERSIONS))
def test_resumption_with_a_ticket(backend: Any, version: str) -> None:
    dtls = DTLSConfig(versions=VERSIONS[version])
    config = client_config(backend)
    with EndpointServer(server_config(backend, ticket_count=1), DTLSConfig(versions=(DTLS_1_3, DTLS_1_2))) as server:
        with ferrotls.dtls_connect(config, (LOOPBACK, server.port), server_hostname=SERVER_NAME, dtls=dtls,
                                   timeout=5) as first:
            first.send(b"x")
            assert first.recv() == ECHO_PREFIX + b"x"  # (DTLS 1.3: the ticket came before)
            assert first.sessions
        with ferrotls.dtls_connect(config, (LOOPBACK, server.port), server_hostname=SERVER_NAME, dtls=dtls,
                                   session=first.sessions[-1], timeout=5) as second:
            assert second.info is not None and second.info.resumed
            second.send(b"y")
            assert second.recv() == ECHO_PREFIX + b"y"
        server.wait_sessions(2)


def test_handshake_timeout_against_a_silent_peer(backend: Any) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind((LOOPBACK, 0))
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="did not complete within 1.5 s"):
            ferrotls.dtls_connect(client_config(backend), silent.getsockname(), server_hostname=SERVER_NAME,
                                  handshake_timeout=1.5, dtls=DTLSConfig(initial_timeout=0.2))
        assert 1.4 < time.monotonic() - start < 5
        hellos = []
        silent.settimeout(0.1)
        try:
            while True:
                hellos.append(silent.recv(65536))
        except TimeoutError:
            pass
    # the ClientHello and its retransmissions at 0.2, 0.6, 1.4 s (the timer doubles)
    assert len(hellos) >= 3 and len(set(hellos)) >= 2  # (each retransmission: a new record number)


def test_lost_flight_is_retransmitted_while_waiting(backend: Any) -> None:
    """A relay that drops the server's first flight: the client's timer resends its
    ClientHello during dtls_connect and the handshake completes."""
    with EndpointServer(server_config(backend), DTLSConfig(), cookies=False) as server:
        front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        front.bind((LOOPBACK, 0))
        back.bind((LOOPBACK, 0))
        stop = threading.Event()
        dropped = []

        def relay() -> None:
            import select

            client = None
            while not stop.is_set():
                ready, _, _ = select.select([front, back], [], [], 0.05)
                for sock in ready:
                    data, addr = sock.recvfrom(65536)
                    if sock is front:
                        client = addr
                        back.sendto(data, (LOOPBACK, server.port))
                    elif client is not None:
                        if not dropped:
                            dropped.append(data)  # the server's first datagram is lost
                            continue
                        front.sendto(data, client)

        thread = threading.Thread(target=relay, daemon=True)
        thread.start()
        try:
            with ferrotls.dtls_connect(client_config(backend), front.getsockname(), server_hostname=SERVER_NAME,
                                       dtls=DTLSConfig(initial_timeout=0.2), timeout=5) as sock:
                assert sock.conn.retransmissions >= 1
                sock.send(b"after a loss")
                assert sock.recv() == ECHO_PREFIX + b"after a loss"
        finally:
            stop.set()
            thread.join(2)
            front.close()
            back.close()
    assert dropped


def test_recv_after_the_peer_closed_returns_empty(backend: Any) -> None:
    with EndpointServer(server_config(backend), DTLSConfig()) as server:
        with ferrotls.dtls_connect(client_config(backend), (LOOPBACK, server.port), server_hostname=SERVER_NAME,
                                   timeout=5) as sock:
            sock.send(b"hello")
            assert sock.recv() == ECHO_PREFIX + b"hello"
            server.close_sessions()
            assert sock.recv() == b""
            assert sock.recv() == b""
