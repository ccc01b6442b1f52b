"""DTLS over asyncio on 127.0.0.1: the server endpoint (cookies, CIDs, many peers,
bounded state) and the client endpoint, DTLS 1.3 and 1.2; a client whose source
port changes keeps its session by its connection ID (RFC 9147 section 9, RFC 9146)."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from helpers_tls import SERVER_NAME, client_config, server_config

from ferrotls.asyncio import DTLSServerEndpoint, DTLSSession, create_dtls_endpoint
from ferrotls.dtls import DTLSClientConnection, DTLSConfig
from ferrotls.dtls.config import DTLS_1_2, DTLS_1_3
from ferrotls.events import ApplicationData, HandshakeComplete

LOOPBACK = "127.0.0.1"
VERSIONS = {"DTLSv1.3": (DTLS_1_3,), "DTLSv1.2": (DTLS_1_2,)}


async def _echo_server(backend: Any, **options: Any) -> DTLSServerEndpoint:
    endpoint = await create_dtls_endpoint(server_config(backend, ticket_count=1), local_addr=(LOOPBACK, 0), **options)
    assert isinstance(endpoint, DTLSServerEndpoint)

    async def serve(session: DTLSSession) -> None:
        while data := await session.recv():
            session.send(b"echo:" + data)

    endpoint.on_session = lambda s: asyncio.get_running_loop().create_task(serve(s)) and None
    return endpoint


@pytest.mark.parametrize("version", list(VERSIONS))
def test_asyncio_client_and_server(backend: Any, version: str) -> None:
    async def main() -> None:
        server = await _echo_server(backend, dtls=DTLSConfig(versions=(DTLS_1_3, DTLS_1_2)))
        port = server.local_address()[1]
        clients = []
        for i in range(3):
            client = await create_dtls_endpoint(client_config(backend), remote_addr=(LOOPBACK, port),
                                                server_hostname=SERVER_NAME, handshake_timeout=5,
                                                dtls=DTLSConfig(versions=VERSIONS[version]))
            assert isinstance(client, DTLSSession)
            assert client.info is not None and client.info.version == version
            clients.append(client)
        for i, client in enumerate(clients):
            client.send(b"n%d" % i)
        for i, client in enumerate(clients):
            assert await asyncio.wait_for(client.recv(), 5) == b"echo:n%d" % i
        assert len(server.sessions) == 3
        assert server.gate is not None and server.gate.answered == 3  # each got a cookie first
        for client in clients:
            client.close()
        await asyncio.sleep(0.1)
        assert server.sessions == []
        server.close()

    asyncio.run(main())


def test_max_peers_and_handshake_timeout(backend: Any) -> None:
    async def main() -> None:
        server = await _echo_server(backend, max_peers=1, cookies=False, handshake_timeout=0.5)
        port = server.local_address()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:  # a ClientHello, then silence
            conn = DTLSClientConnection(client_config(backend), SERVER_NAME)
            for d in conn.datagrams_to_send():
                raw.sendto(d, (LOOPBACK, port))
            await asyncio.sleep(0.2)
            assert len(server.sessions) == 1
            with pytest.raises(TimeoutError):
                await create_dtls_endpoint(client_config(backend), remote_addr=(LOOPBACK, port),
                                           server_hostname=SERVER_NAME, handshake_timeout=0.3)
            assert server.refused >= 1
            await asyncio.sleep(1.5)  # the silent peer's handshake times out
            assert server.sessions == []
        client = await create_dtls_endpoint(client_config(backend), remote_addr=(LOOPBACK, port),
                                            server_hostname=SERVER_NAME, handshake_timeout=5)
        assert isinstance(client, DTLSSession)
        client.close()
        server.close()

    asyncio.run(main())


@pytest.mark.parametrize("version", list(VERSIONS))
def test_rebinding_keeps_the_session_by_connection_id(backend: Any, version: str) -> None:
    """The client's source port changes mid-session: the server finds the session
    by its CID, answers at the new address, and the old address is forgotten."""

    async def main() -> None:
        server = await _echo_server(backend, dtls=DTLSConfig(versions=(DTLS_1_3, DTLS_1_2)))
        port = server.local_address()[1]
        loop = asyncio.get_running_loop()

        def run(conn: DTLSClientConnection, sock: socket.socket, until: Any) -> list[Any]:
            events: list[Any] = []
            deadline = time.monotonic() + 5
            while not until(events):
                for d in conn.datagrams_to_send():
                    sock.sendto(d, (LOOPBACK, port))
                sock.settimeout(0.05)
                try:
                    data, _ = sock.recvfrom(65536)
                    conn.receive_datagram(data, time.monotonic())
                except TimeoutError:
                    conn.handle_timeout(time.monotonic())
                events += conn.events()
                assert time.monotonic() < deadline, events
            return events

        conn = DTLSClientConnection(client_config(backend), SERVER_NAME,
                                    dtls=DTLSConfig(connection_id=b"", versions=VERSIONS[version]), now=time.monotonic())
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind((LOOPBACK, 0))
        b.bind((LOOPBACK, 0))
        try:
            await loop.run_in_executor(None, run, conn, a, lambda ev: any(isinstance(e, HandshakeComplete) for e in ev))
            assert conn.version == version
            assert len(conn.peer_connection_id) == 8  # the server's CID
            conn.send(b"from a")
            got = await loop.run_in_executor(None, run, conn, a, lambda ev: any(isinstance(e, ApplicationData) for e in ev))
            assert [e.data for e in got if isinstance(e, ApplicationData)] == [b"echo:from a"]
            conn.send(b"from b")  # the NAT rebinds: same session, new port
            (record,) = conn.datagrams_to_send()
            assert record[0] & 0xF0 == 0x30 if version == "DTLSv1.3" else record[0] == 25  # the CID in it
            b.sendto(record, (LOOPBACK, port))
            got = await loop.run_in_executor(None, run, conn, b, lambda ev: any(isinstance(e, ApplicationData) for e in ev))
            assert [e.data for e in got if isinstance(e, ApplicationData)] == [b"echo:from b"]
            assert server.rebinds == 1 and len(server.sessions) == 1
            assert server.sessions[0].peer == b.getsockname()
        finally:
            a.close()
            b.close()
            server.close()

    asyncio.run(main())
