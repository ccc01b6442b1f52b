"""The TLS 1.3 key schedule (RFC 8446 section 7.1), in stages.

Each stage is built only from the previous one, as in rustls:
``EarlySecrets`` (from the PSK or zeros) -> ``HandshakeSecrets`` (adds the
(EC)DHE shared secret) -> ``MasterSecrets``.  All HKDF work goes through the
backend, so both backends produce the same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from .backend.interface import Backend
from .suites import SuiteInfo

__all__ = [
    "EarlySecrets",
    "HandshakeSecrets",
    "MasterSecrets",
    "TrafficKeys",
    "traffic_keys",
    "finished_verify_data",
    "next_traffic_secret",
    "export_keying_material",
    "resumption_psk",
    "empty_hash",
]


_EMPTY_HASHES: dict[str, bytes] = {}


def empty_hash(hash_name: str) -> bytes:
    """Transcript-Hash of no messages."""
    digest = _EMPTY_HASHES.get(hash_name)
    if digest is None:
        digest = _EMPTY_HASHES[hash_name] = hashlib.new(hash_name).digest()
    return digest


_NO_PSK: dict[tuple[type, str, str], tuple[bytes, bytes]] = {}
"""(backend type, backend name, hash) -> (Early Secret without a PSK, its "derived"
salt): public constants of the key schedule (HKDF of zeros), computed once per
process.  The backend's type is in the key because a wrapper may change the
labels (DTLS 1.3's "dtls13" prefix gives another salt)."""


@dataclass(frozen=True, slots=True, repr=False)
class TrafficKeys:
    """The AEAD key and IV derived from one traffic secret."""

    key: bytes
    iv: bytes

    def __repr__(self) -> str:
        return "TrafficKeys(<redacted>)"


def traffic_keys(backend: Backend, suite: SuiteInfo, secret: bytes) -> TrafficKeys:
    """[sender]_write_key and _iv from a traffic secret (RFC 8446 section 7.3)."""
    h = suite.hash_name
    return TrafficKeys(
        backend.hkdf_expand_label(h, secret, b"key", b"", suite.key_len),
        backend.hkdf_expand_label(h, secret, b"iv", b"", suite.iv_len),
    )


def finished_verify_data(
    backend: Backend, suite: SuiteInfo, base_key: bytes, transcript_hash: bytes
) -> bytes:
    """verify_data = HMAC(finished_key, Transcript-Hash) (RFC 8446 section 4.4.4)."""
    finished_key = backend.hkdf_expand_label(
        suite.hash_name, base_key, b"finished", b"", suite.hash_len
    )
    return hmac.digest(finished_key, transcript_hash, suite.hash_name)


def next_traffic_secret(backend: Backend, suite: SuiteInfo, secret: bytes) -> bytes:
    """application_traffic_secret_N+1 (RFC 8446 section 7.2)."""
    return backend.hkdf_expand_label(
        suite.hash_name, secret, b"traffic upd", b"", suite.hash_len
    )


def export_keying_material(
    backend: Backend,
    suite: SuiteInfo,
    exporter_secret: bytes,
    label: bytes,
    context: bytes,
    length: int,
) -> bytes:
    """TLS-Exporter(label, context, length) (RFC 8446 section 7.5)."""
    h = suite.hash_name
    secret = backend.derive_secret(h, exporter_secret, label, empty_hash(h))
    context_hash = hashlib.new(h, context).digest()
    return backend.hkdf_expand_label(h, secret, b"exporter", context_hash, length)


def resumption_psk(
    backend: Backend, suite: SuiteInfo, resumption_master_secret: bytes, ticket_nonce: bytes
) -> bytes:
    """The PSK a NewSessionTicket stands for (RFC 8446 section 4.6.1)."""
    return backend.hkdf_expand_label(
        suite.hash_name, resumption_master_secret, b"resumption", ticket_nonce, suite.hash_len
    )


class EarlySecrets:
    """Early Secret = HKDF-Extract(0, PSK or zeros)."""

    __slots__ = ("backend", "suite", "secret", "_salt")

    def __init__(self, backend: Backend, suite: SuiteInfo, psk: bytes | None = None) -> None:
        self.backend = backend
        self.suite = suite
        h = suite.hash_name
        self._salt: bytes | None = None
        if psk:
            self.secret = backend.hkdf_extract(h, bytes(suite.hash_len), psk)
            return
        key = (type(backend), backend.name, h)
        cached = _NO_PSK.get(key)
        if cached is None:
            zeros = bytes(suite.hash_len)
            secret = backend.hkdf_extract(h, zeros, zeros)
            salt = backend.derive_secret(h, secret, b"derived", empty_hash(h))
            cached = _NO_PSK[key] = (secret, salt)
        self.secret, self._salt = cached

    def derived(self) -> bytes:
        """Derive-Secret(Early Secret, "derived", ""): the salt of the Handshake Secret."""
        if self._salt is not None:
            return self._salt
        h = self.suite.hash_name
        return self.backend.derive_secret(h, self.secret, b"derived", empty_hash(h))

    def __repr__(self) -> str:
        return f"EarlySecrets({self.suite.suite.name}, <redacted>)"

    def _derive(self, label: bytes, transcript_hash: bytes) -> bytes:
        return self.backend.derive_secret(self.suite.hash_name, self.secret, label, transcript_hash)

    def binder_key(self, external: bool = False, label: bytes | None = None) -> bytes:
        """binder_key: "res binder" (tickets), "ext binder" (external PSKs) or
        ``label`` (e.g. b"imp binder" for RFC 9258 imported PSKs)."""
        if label is None:
            label = b"ext binder" if external else b"res binder"
        return self._derive(label, empty_hash(self.suite.hash_name))

    def binder(self, binder_key: bytes, binder_hash: bytes) -> bytes:
        """PskBinderEntry: HMAC(finished_key(binder_key), Transcript-Hash) (RFC 8446 4.2.11.2)."""
        return finished_verify_data(self.backend, self.suite, binder_key, binder_hash)

    def client_early_traffic_secret(self, client_hello_hash: bytes) -> bytes:
        return self._derive(b"c e traffic", client_hello_hash)

    def early_exporter_master_secret(self, client_hello_hash: bytes) -> bytes:
        return self._derive(b"e exp master", client_hello_hash)

    def into_handshake(self, shared_secret: bytes | None) -> HandshakeSecrets:
        """Mix in the (EC)DHE shared secret (None for psk_ke: zeros)."""
        return HandshakeSecrets(self, shared_secret)


class HandshakeSecrets:
    """Handshake Secret = HKDF-Extract(Derive-Secret(early, "derived", ""), (EC)DHE)."""

    __slots__ = ("backend", "suite", "secret")

    def __init__(self, early: EarlySecrets, shared_secret: bytes | None) -> None:
        self.backend = early.backend
        self.suite = early.suite
        ikm = shared_secret if shared_secret else bytes(self.suite.hash_len)
        self.secret = self.backend.hkdf_extract(self.suite.hash_name, early.derived(), ikm)

    def __repr__(self) -> str:
        return f"HandshakeSecrets({self.suite.suite.name}, <redacted>)"

    def client_handshake_traffic_secret(self, hello_hash: bytes) -> bytes:
        return self.backend.derive_secret(
            self.suite.hash_name, self.secret, b"c hs traffic", hello_hash
        )

    def server_handshake_traffic_secret(self, hello_hash: bytes) -> bytes:
        return self.backend.derive_secret(
            self.suite.hash_name, self.secret, b"s hs traffic", hello_hash
        )

    def into_master(self) -> MasterSecrets:
        return MasterSecrets(self)


class MasterSecrets:
    """Master Secret = HKDF-Extract(Derive-Secret(handshake, "derived", ""), 0)."""

    __slots__ = ("backend", "suite", "secret")

    def __init__(self, handshake: HandshakeSecrets) -> None:
        self.backend = handshake.backend
        self.suite = handshake.suite
        h = self.suite.hash_name
        salt = self.backend.derive_secret(h, handshake.secret, b"derived", empty_hash(h))
        self.secret = self.backend.hkdf_extract(h, salt, bytes(self.suite.hash_len))

    def __repr__(self) -> str:
        return f"MasterSecrets({self.suite.suite.name}, <redacted>)"

    def _derive(self, label: bytes, transcript_hash: bytes) -> bytes:
        return self.backend.derive_secret(self.suite.hash_name, self.secret, label, transcript_hash)

    def client_application_traffic_secret(self, server_finished_hash: bytes) -> bytes:
        return self._derive(b"c ap traffic", server_finished_hash)

    def server_application_traffic_secret(self, server_finished_hash: bytes) -> bytes:
        return self._derive(b"s ap traffic", server_finished_hash)

    def exporter_master_secret(self, server_finished_hash: bytes) -> bytes:
        return self._derive(b"exp master", server_finished_hash)

    def resumption_master_secret(self, client_finished_hash: bytes) -> bytes:
        return self._derive(b"res master", client_finished_hash)
