"""Shared helpers for the resumption, 0-RTT and external-PSK tests."""

from __future__ import annotations

import time
from typing import Any

from ferrotls.config import ClientConfig, ServerConfig
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.events import Event, HandshakeComplete, SessionTicket
from ferrotls.tickets import ClientSession, SessionCache, TicketKeyManager
from helpers_tls import SERVER_NAME, ConnectionPair, client_config, server_config

PSK_KE, PSK_DHE_KE = 0, 1
X25519 = 0x001D


class Clock:
    """A settable clock shared by client, server and ticket keys."""

    def __init__(self, now: float | None = None) -> None:
        self.now = float(int(time.time())) if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def configs(
    backend: Any, clock: Clock | None = None, *, client: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
) -> tuple[ClientConfig, ServerConfig]:
    clock = clock or Clock()
    ckw: dict[str, Any] = {"session_cache": SessionCache(), "clock": clock}
    ckw.update(client or {})
    skw: dict[str, Any] = {
        "clock": clock,
        "ticket_count": 2,
        "ticket_keys": TicketKeyManager(rotation_interval=None),
    }
    skw.update(server or {})
    return client_config(backend, **ckw), server_config(backend, **skw)


def events_of(conn: ClientConnection | ServerConnection) -> list[Event]:
    return conn.events()


def full_handshake(cc: ClientConfig, sc: ServerConfig) -> tuple[ConnectionPair, list[ClientSession]]:
    pair = ConnectionPair(cc, sc)
    pair.pump()
    events = pair.client.events()
    assert isinstance(events[0], HandshakeComplete) and not events[0].resumed
    sessions = [e.session for e in events if isinstance(e, SessionTicket)]
    assert all(isinstance(s, ClientSession) for s in sessions)
    return pair, sessions  # type: ignore[return-value]


def infos(pair: ConnectionPair) -> tuple[HandshakeComplete, HandshakeComplete]:
    c = [e for e in pair.client.events() if isinstance(e, HandshakeComplete)]
    s = [e for e in pair.server.events() if isinstance(e, HandshakeComplete)]
    assert len(c) == 1 and len(s) == 1
    return c[0], s[0]


def wire_bytes(pair: ConnectionPair) -> tuple[int, int]:
    return sum(map(len, pair.c2s)), sum(map(len, pair.s2c))


__all__ = [
    "Clock", "configs", "full_handshake", "infos", "wire_bytes", "SERVER_NAME",
    "ConnectionPair", "PSK_KE", "PSK_DHE_KE", "X25519", "events_of",
]
