"""External pre-shared keys (RFC 8446 section 4.2.11) and RFC 9258 importers.

``ExternalPsk`` is an identity, a key and the hash it is used with.  Clients
list them in ``ClientConfig.external_psks``; servers look identities up with
``ServerConfig.psk_callback``.

``ImportedPsk`` turns one external PSK into the PSKs TLS 1.3 uses
(RFC 9258 section 4.2)::

    epskx = HKDF-Extract(0, epsk)
    ipskx = HKDF-Expand-Label(epskx, "derived psk", Hash(ImportedIdentity), L)

with the EPSK's hash (SHA-256 unless given), ``L`` the output length of the
target KDF, the ImportedIdentity encoding as the PSK identity on the wire and
the binder key label "imp binder".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .backend import resolve
from .backend.interface import Backend
from .messages.codec import Writer

__all__ = ["ExternalPsk", "ImportedIdentity", "ImportedPsk", "TARGET_KDFS"]

TLS13 = 0x0304
#: RFC 9258 target_kdf code points (the TLS HKDF hashes) -> hash name.
TARGET_KDFS: dict[int, str] = {0x0001: "sha256", 0x0002: "sha384"}
_HASH_LEN = {"sha256": 32, "sha384": 48}


@dataclass(frozen=True, slots=True)
class ExternalPsk:
    """An external PSK: ``identity`` on the wire, ``key`` and its ``hash_name``.

    ``binder_label`` is b"ext binder" (RFC 8446) or b"imp binder" (RFC 9258).
    """

    identity: bytes
    key: bytes = field(repr=False)
    hash_name: str = "sha256"
    binder_label: bytes = b"ext binder"

    def __post_init__(self) -> None:
        if not self.identity or len(self.identity) > 0xFFFF:
            raise ValueError("a PSK identity needs 1..65535 bytes")
        if not self.key:
            raise ValueError("a PSK needs a key")
        if self.hash_name not in _HASH_LEN:
            raise ValueError(f"PSK hash must be sha256 or sha384, not {self.hash_name!r}")


@dataclass(frozen=True, slots=True)
class ImportedIdentity:
    """RFC 9258 section 4.1 ImportedIdentity."""

    external_identity: bytes
    context: bytes = b""
    target_protocol: int = TLS13
    target_kdf: int = 0x0001

    def encode(self) -> bytes:
        w = Writer()
        w.opaque16(self.external_identity)
        w.opaque16(self.context)
        w.u16(self.target_protocol)
        w.u16(self.target_kdf)
        return w.getvalue()


@dataclass(frozen=True, slots=True)
class ImportedPsk:
    """An external PSK (``epsk`` with ``external_identity``) to import (RFC 9258)."""

    external_identity: bytes
    epsk: bytes = field(repr=False)
    context: bytes = b""
    hash_name: str = "sha256"
    """The hash associated with the EPSK (SHA-256 when none is, RFC 9258 section 4.2)."""

    def identity(self, target_kdf: int = 0x0001) -> ImportedIdentity:
        return ImportedIdentity(self.external_identity, self.context, TLS13, target_kdf)

    def derive(self, target_kdf: int = 0x0001, backend: str | Backend | None = None) -> ExternalPsk:
        """The imported PSK for one target KDF, ready for a config."""
        if target_kdf not in TARGET_KDFS:
            raise ValueError(f"unknown target_kdf 0x{target_kdf:04x}")
        impl = resolve(backend)
        identity = self.identity(target_kdf).encode()
        h = self.hash_name
        epskx = impl.hkdf_extract(h, b"", self.epsk)
        target_hash = TARGET_KDFS[target_kdf]
        ipskx = impl.hkdf_expand_label(
            h, epskx, b"derived psk", hashlib.new(h, identity).digest(), _HASH_LEN[target_hash]
        )
        return ExternalPsk(identity, ipskx, target_hash, b"imp binder")

    def derive_all(self, backend: str | Backend | None = None) -> tuple[ExternalPsk, ...]:
        """One imported PSK per target KDF (SHA-256 first)."""
        return tuple(self.derive(kdf, backend) for kdf in TARGET_KDFS)
