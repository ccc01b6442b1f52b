"""Session tickets: what a server seals into a ticket, the keys it seals with,
and what a client keeps to resume (RFC 8446 sections 4.6.1 and 2.2).

Server side
    ``SessionState`` is the resumable state (suite, resumption PSK, creation
    time, ticket_age_add, max_early_data_size, ALPN, server name, the client's
    certificate).  It is sealed with AES-256-GCM through the backend's AEAD
    under a ``TicketKeyManager`` key; the ticket is stateless::

        ticket = key_id (4) || nonce (12) || AES-256-GCM(key, nonce, aad, state)

    ``aad`` binds the format version and key id.  The manager keeps the current
    key and previous keys, which still open tickets for ``grace_period`` seconds
    after they were retired; ``export_keys()``/``import_keys()`` share them
    between processes behind one name.  Time and randomness come from the
    caller (the server passes its config's clock and rng).

    ``TicketKeys`` is the protocol a server's ``ticket_keys`` satisfies:
    ``TicketKeyManager`` (one process) and
    ``ferrotls.shared.RedisTicketKeyRing`` (a fleet sharing a Redis).

Client side
    ``ClientSession`` is a NewSessionTicket plus its resumption PSK; a bounded
    ``SessionCache`` keeps them per server name.  Sessions are taken out of the
    cache when offered (tickets are single use, RFC 8446 appendix C.4).
"""

from __future__ import annotations

import hmac
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from .backend.interface import Backend
from .errors import DecodeError as _DecodeError
from .errors import TLSError
from .messages.codec import Reader, Writer
from .suites import SUITES, TLS12_SUITES

__all__ = [
    "SessionState",
    "TicketKeys",
    "TicketKeyManager",
    "ClientSession",
    "SessionCache",
    "SessionIdCache",
    "MAX_TICKET_LIFETIME",
]

MAX_TICKET_LIFETIME = 7 * 24 * 3600
"""RFC 8446 section 4.6.1: at most seven days."""

_AES_256_GCM = 0x1302  # TLS_AES_256_GCM_SHA384: the backend's AES-256-GCM AEAD
_TICKET_AAD = b"ferrotls ticket v1"
_STATE_VERSION = 4  # 4: flags for the optional fields, TLS 1.2 and EMS (older tickets no longer resume)
KEY_ID_LEN = 4
NONCE_LEN = 12


# --------------------------------------------------------------------------- server


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a server needs to resume a session; the plaintext of a ticket."""

    cipher_suite: int
    psk: bytes = field(repr=False)
    created: float
    """Seconds since the epoch (server clock) when the ticket was issued."""
    lifetime: int
    age_add: int
    max_early_data: int = 0
    alpn: bytes | None = None
    server_name: str | None = None
    client_certificate: bytes = field(default=b"", repr=False)
    """The client's leaf certificate (DER) if it authenticated, else b""."""
    client_auth_binding: bytes = field(default=b"", repr=False)
    """With a client certificate: :func:`ferrotls.x509.verifier_binding` of the
    verifier that accepted it (its trust anchors and policy), so that a server
    resumes the session only under the same ones."""
    version: int = 0x0304
    """The protocol version of the session (TLS 1.2 sessions hold the master secret in ``psk``)."""
    extended_master_secret: bool = True
    """TLS 1.2: the master secret is the RFC 7627 one; a session resumes only with
    extended_master_secret again (RFC 7627 section 5.3)."""

    def encode(self) -> bytes:
        """The ticket plaintext: compact, since every byte rides in each ClientHello."""
        w = Writer()
        w.u8(_STATE_VERSION)
        w.u16(self.cipher_suite)
        w.opaque8(self.psk)
        w.uint(8, int(self.created * 1000))
        w.u32(self.lifetime)
        w.u32(self.age_add)
        w.u32(self.max_early_data)
        flags = (
            (_HAS_ALPN if self.alpn is not None else 0)
            | (_HAS_NAME if self.server_name is not None else 0)
            | (_HAS_CLIENT if self.client_certificate else 0)
            | (_TLS12 if self.version == 0x0303 else 0)
            | (_NO_EMS if not self.extended_master_secret else 0)
        )
        w.u8(flags)
        if self.alpn is not None:
            w.opaque8(self.alpn)
        if self.server_name is not None:
            w.opaque8(self.server_name.encode("ascii"))
        if self.client_certificate:
            w.opaque24(self.client_certificate)
            w.opaque8(self.client_auth_binding)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> SessionState:
        r = Reader(data)
        if r.u8() != _STATE_VERSION:
            raise _DecodeError("unknown session state version")
        suite = r.u16()
        psk = r.opaque8()
        created = r.uint(8) / 1000
        lifetime, age_add, max_early = r.u32(), r.u32(), r.u32()
        flags = r.u8()
        alpn = r.opaque8() if flags & _HAS_ALPN else None
        name = r.opaque8().decode("ascii") if flags & _HAS_NAME else None
        cert, binding = (r.opaque24(), r.opaque8()) if flags & _HAS_CLIENT else (b"", b"")
        r.expect_end("session state")
        return cls(
            cipher_suite=suite,
            psk=psk,
            created=created,
            lifetime=lifetime,
            age_add=age_add,
            max_early_data=max_early,
            alpn=alpn,
            server_name=name,
            client_certificate=cert,
            client_auth_binding=binding,
            version=0x0303 if flags & _TLS12 else 0x0304,
            extended_master_secret=not flags & _NO_EMS,
        )


_HAS_ALPN, _HAS_NAME, _HAS_CLIENT, _TLS12, _NO_EMS = 1, 2, 4, 8, 16
"""SessionState flags: optional fields present, TLS 1.2, no extended_master_secret."""


@runtime_checkable
class TicketKeys(Protocol):
    """What a server seals its tickets with and opens offered tickets with.

    Implemented by :class:`TicketKeyManager` (keys in this process) and
    ``ferrotls.shared.RedisTicketKeyRing`` (keys shared by a fleet through
    Redis).  ``seal`` and ``open`` run inside handshakes: they must not block
    on I/O, and ``open`` returns None rather than raising for a ticket it
    cannot open.
    """

    def seal(
        self, backend: Backend, plaintext: bytes, now: float | None = None,
        rng: Callable[[int], bytes] | None = None,
    ) -> bytes:
        """A ticket holding ``plaintext``, sealed under the current key."""
        ...

    def open(self, backend: Backend, ticket: bytes, now: float | None = None) -> bytes | None:
        """The plaintext of ``ticket``, or None (unknown or expired key, forgery)."""
        ...

    def rotate(self, now: float | None = None, rng: Callable[[int], bytes] | None = None) -> bytes:
        """Make a new key; the previous one keeps opening tickets for a grace
        period.  Returns the new key id."""
        ...

    @property
    def key_ids(self) -> list[bytes]:
        """Ids of the keys held, current first."""
        ...


def seal_ticket(
    backend: Backend, key_id: bytes, key: bytes, nonce: bytes, plaintext: bytes
) -> bytes:
    """``key_id || nonce || AES-256-GCM(key, nonce, aad, plaintext)`` (module docstring)."""
    sealed = backend.aead(_AES_256_GCM, key).seal(nonce, _TICKET_AAD + key_id, plaintext)
    return key_id + nonce + sealed


def ticket_key_id(ticket: bytes) -> bytes | None:
    """The key id a ticket names, or None if it is too short to be one of ours."""
    if len(ticket) < KEY_ID_LEN + NONCE_LEN + 16:
        return None
    return ticket[:KEY_ID_LEN]


def open_ticket(backend: Backend, key: bytes, ticket: bytes) -> bytes | None:
    """The plaintext of a ticket whose key id names ``key``, or None if forged."""
    key_id, nonce = ticket[:KEY_ID_LEN], ticket[KEY_ID_LEN : KEY_ID_LEN + NONCE_LEN]
    try:
        return backend.aead(_AES_256_GCM, key).open(
            nonce, _TICKET_AAD + key_id, ticket[KEY_ID_LEN + NONCE_LEN :]
        )
    except TLSError:
        return None


class _Key:
    __slots__ = ("key_id", "key", "created", "retired")

    def __init__(self, key_id: bytes, key: bytes, created: float, retired: float | None) -> None:
        self.key_id = key_id
        self.key = key
        self.created = created
        self.retired = retired


class TicketKeyManager:
    """Ticket encryption keys: the current one plus recently retired ones.

    ``rotation_interval``: seal() rotates by itself once the current key is
    older (None: only explicit ``rotate()``).  ``grace_period``: how long a
    retired key still opens tickets (default: the default ticket lifetime, so
    no ticket dies early because of a rotation).  Thread-safe.
    """

    def __init__(
        self,
        *,
        rotation_interval: float | None = 12 * 3600,
        grace_period: float = 7200,
        rng: Callable[[int], bytes] = os.urandom,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.rotation_interval = rotation_interval
        self.grace_period = grace_period
        self.rng = rng
        self.clock = clock
        self._keys: list[_Key] = []  # current first
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TicketKeyManager(<{len(self._keys)} keys>)"

    def _now(self, now: float | None) -> float:
        if now is not None:
            return now
        import time

        return (self.clock or time.time)()

    def _new_key(self, now: float, rng: Callable[[int], bytes] | None) -> None:
        rand = rng or self.rng
        key_id = rand(KEY_ID_LEN)
        while any(hmac.compare_digest(k.key_id, key_id) for k in self._keys):
            key_id = rand(KEY_ID_LEN)
        for k in self._keys:
            if k.retired is None:
                k.retired = now
        self._keys.insert(0, _Key(key_id, rand(32), now, None))

    def _prune(self, now: float) -> None:
        self._keys = [
            k for k in self._keys if k.retired is None or now - k.retired <= self.grace_period
        ]

    def rotate(self, now: float | None = None, rng: Callable[[int], bytes] | None = None) -> bytes:
        """Make a new current key; the old one opens tickets for ``grace_period``.
        Returns the new key id."""
        with self._lock:
            t = self._now(now)
            self._new_key(t, rng)
            self._prune(t)
            return self._keys[0].key_id

    @property
    def key_ids(self) -> list[bytes]:
        """Ids of the keys held, current first."""
        return [k.key_id for k in self._keys]

    def seal(
        self, backend: Backend, plaintext: bytes, now: float | None = None,
        rng: Callable[[int], bytes] | None = None,
    ) -> bytes:
        with self._lock:
            t = self._now(now)
            current = self._keys[0] if self._keys else None
            if (
                current is None
                or self.rotation_interval is not None
                and t - current.created >= self.rotation_interval
            ):
                self._new_key(t, rng)
                self._prune(t)
                current = self._keys[0]
            nonce = (rng or self.rng)(NONCE_LEN)
            return seal_ticket(backend, current.key_id, current.key, nonce, plaintext)

    def open(self, backend: Backend, ticket: bytes, now: float | None = None) -> bytes | None:
        """The plaintext, or None for an unknown/retired key or a forged ticket."""
        key_id = ticket_key_id(ticket)
        if key_id is None:
            return None
        with self._lock:
            t = self._now(now)
            self._prune(t)
            found = next((k for k in self._keys if hmac.compare_digest(k.key_id, key_id)), None)
        if found is None:
            return None
        return open_ticket(backend, found.key, ticket)

    # -- sharing between processes ---------------------------------------------------

    def export_keys(self) -> bytes:
        """All keys (secret!) for ``import_keys`` in another process."""
        w = Writer()
        w.u8(1)
        with self._lock, w.vec16():
            for k in self._keys:
                w.write(k.key_id)
                w.write(k.key)
                w.uint(8, int(k.created * 1000))
                w.uint(8, 0 if k.retired is None else int(k.retired * 1000) + 1)
        return w.getvalue()

    def import_keys(self, data: bytes) -> None:
        """Replace our keys with exported ones (the exporter's current key becomes ours)."""
        r = Reader(data)
        if r.u8() != 1:
            raise ValueError("unknown ticket key export format")
        keys: list[_Key] = []
        lst = r.vec16()
        while not lst.at_end():
            key_id = lst.bytes(KEY_ID_LEN)
            key = lst.bytes(32)
            created = lst.uint(8) / 1000
            retired_raw = lst.uint(8)
            keys.append(_Key(key_id, key, created, None if retired_raw == 0 else (retired_raw - 1) / 1000))
        r.expect_end("ticket keys")
        with self._lock:
            self._keys = keys


# --------------------------------------------------------------------------- client


@dataclass(frozen=True, slots=True)
class ClientSession:
    """A ticket a client can offer to resume (from a NewSessionTicket)."""

    ticket: bytes = field(repr=False)
    psk: bytes = field(repr=False)
    cipher_suite: int
    received_at: float
    lifetime: int
    age_add: int = field(repr=False)
    max_early_data: int = 0
    server_name: str | None = None
    alpn: str | None = None
    peer_certificates: tuple[bytes, ...] = field(default=(), repr=False)
    version: int = 0x0304
    """TLS 1.3 (a ticket and its resumption PSK) or TLS 1.2 (a ticket or a session
    id, and the master secret in ``psk``)."""
    session_id: bytes = field(default=b"", repr=False)
    """TLS 1.2 session-id resumption: the server's session id (``ticket`` empty)."""
    extended_master_secret: bool = True

    @property
    def hash_name(self) -> str:
        if self.version == 0x0303:
            return TLS12_SUITES[self.cipher_suite].hash_name
        return SUITES[self.cipher_suite].hash_name

    def expires_at(self) -> float:
        return self.received_at + min(self.lifetime, MAX_TICKET_LIFETIME)

    def is_valid(self, now: float) -> bool:
        return self.received_at <= now < self.expires_at()

    def obfuscated_ticket_age(self, now: float) -> int:
        age_ms = max(0, round((now - self.received_at) * 1000))
        return (age_ms + self.age_add) & 0xFFFFFFFF

    def with_server_name(self, name: str | None) -> ClientSession:
        return replace(self, server_name=name)

    def to_bytes(self) -> bytes:
        """Serialize (secret: holds the resumption PSK) for an external cache."""
        w = Writer()
        w.u8(2)
        w.opaque16(self.ticket)
        w.opaque8(self.psk)
        w.u16(self.cipher_suite)
        w.uint(8, int(self.received_at * 1000))
        w.u32(self.lifetime)
        w.u32(self.age_add)
        w.u32(self.max_early_data)
        w.opaque8((self.server_name or "").encode("ascii"))
        w.opaque8((self.alpn or "").encode("ascii"))
        with w.vec24():
            for der in self.peer_certificates:
                w.opaque24(der)
        w.u16(self.version)
        w.opaque8(self.session_id)
        w.u8(1 if self.extended_master_secret else 0)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ClientSession:
        r = Reader(data)
        if r.u8() != 2:
            raise ValueError("unknown session format")
        ticket, psk, suite = r.opaque16(), r.opaque8(), r.u16()
        received = r.uint(8) / 1000
        lifetime, age_add, max_early = r.u32(), r.u32(), r.u32()
        name = r.opaque8().decode("ascii") or None
        alpn = r.opaque8().decode("ascii") or None
        certs = []
        lst = r.vec24()
        while not lst.at_end():
            certs.append(lst.opaque24())
        version, session_id, ems = r.u16(), r.opaque8(), r.u8()
        r.expect_end("session")
        return cls(ticket, psk, suite, received, lifetime, age_add, max_early, name, alpn, tuple(certs),
                   version, session_id, bool(ems))


class SessionCache:
    """Client sessions per server name, newest last; bounded and thread-safe."""

    def __init__(self, max_names: int = 1024, per_name: int = 4) -> None:
        self.max_names = max_names
        self.per_name = per_name
        self._entries: OrderedDict[str, list[ClientSession]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(v) for v in self._entries.values())

    def __repr__(self) -> str:
        return f"SessionCache({len(self._entries)} names)"

    def add(self, name: str, session: ClientSession) -> None:
        with self._lock:
            sessions = self._entries.pop(name, [])
            sessions.append(session)
            del sessions[: -self.per_name]
            self._entries[name] = sessions
            while len(self._entries) > self.max_names:
                self._entries.popitem(last=False)

    def take(self, name: str, now: float) -> ClientSession | None:
        """Remove and return the newest valid session for ``name``."""
        with self._lock:
            sessions = self._entries.get(name)
            if not sessions:
                return None
            valid = [s for s in sessions if s.is_valid(now)]
            session = valid.pop() if valid else None
            if valid:
                self._entries[name] = valid
            else:
                del self._entries[name]
            return session

    def peek(self, name: str, now: float) -> ClientSession | None:
        with self._lock:
            valid = [s for s in self._entries.get(name, []) if s.is_valid(now)]
            return valid[-1] if valid else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# --------------------------------------------------------------------------- TLS 1.2 session ids


class SessionIdCache:
    """A server's TLS 1.2 sessions by session id (RFC 5246 section 7.4.1.2), for
    clients that do not take tickets: bounded (least recently stored goes first),
    entries expire with their SessionState's lifetime, thread-safe."""

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, SessionState] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SessionIdCache({len(self._entries)}/{self.max_entries})"

    def add(self, session_id: bytes, state: SessionState) -> None:
        with self._lock:
            self._entries[bytes(session_id)] = state
            self._entries.move_to_end(bytes(session_id))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get(self, session_id: bytes, now: float) -> SessionState | None:
        """The live session stored under ``session_id``, or None."""
        with self._lock:
            state = self._entries.get(bytes(session_id))
            if state is None:
                return None
            if not state.created <= now < state.created + state.lifetime:
                del self._entries[bytes(session_id)]
                return None
            return state

    def remove(self, session_id: bytes) -> None:
        with self._lock:
            self._entries.pop(bytes(session_id), None)
