"""DTLS 1.3 keys: the TLS 1.3 key schedule with the "dtls13" label prefix.

RFC 9147 section 5.9 changes one thing in the key schedule: HKDF-Expand-Label
(and so Derive-Secret) uses the label prefix "dtls13" in place of "tls13 ".
Rather than teach ``keyschedule.py`` about datagrams, a DTLS connection hands
its handshake :class:`Dtls13Backend`, which wraps the real backend and
answers ``hkdf_expand_label`` / ``derive_secret`` with that prefix; every other
method is the wrapped backend's.  The handshake secrets, Finished keys,
binders, exporters and ticket PSKs then all come out as DTLS 1.3 defines them.
Record protection is built from the raw backend (``dtls_record.dtls13_protector``
derives key, iv and the "sn" record number key itself).
"""

from __future__ import annotations

import sys
if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:  # typing_extensions is a dependency only before 3.12
    from typing_extensions import Buffer

from ..backend.interface import (
    Aead,
    Backend,
    DatagramProtector,
    MlKem768PrivateKey,
    RecordProtector,
    X25519PrivateKey,
)

__all__ = ["Dtls13Backend", "DTLS13_LABEL_PREFIX"]

DTLS13_LABEL_PREFIX = b"dtls13"


class Dtls13Backend:
    """``backend`` with DTLS 1.3's HKDF-Expand-Label (see the module docstring)."""

    __slots__ = ("inner",)

    def __init__(self, inner: Backend) -> None:
        self.inner = inner

    def __repr__(self) -> str:
        return f"Dtls13Backend({self.inner!r})"

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def constant_time(self) -> bool:
        return self.inner.constant_time

    def features(self) -> dict[str, str]:
        return self.inner.features()

    def hkdf_expand_label(
        self, hash_name: str, secret: Buffer, label: bytes, context: Buffer, length: int
    ) -> bytes:
        """HKDF-Expand-Label with the "dtls13" prefix (RFC 9147 section 5.9)."""
        full = DTLS13_LABEL_PREFIX + bytes(label)
        ctx = bytes(context)
        if len(full) > 255 or len(ctx) > 255 or not 0 <= length <= 0xFFFF:
            raise ValueError("HKDF-Expand-Label label, context or length out of range")
        info = length.to_bytes(2, "big") + bytes((len(full),)) + full + bytes((len(ctx),)) + ctx
        return self.inner.hkdf_expand(hash_name, secret, info, length)

    def derive_secret(self, hash_name: str, secret: Buffer, label: bytes, transcript_hash: Buffer) -> bytes:
        """Derive-Secret over :meth:`hkdf_expand_label` (the hash's length)."""
        return self.hkdf_expand_label(hash_name, secret, label, transcript_hash, len(bytes(transcript_hash)))

    # -- everything else is the wrapped backend's ----------------------------------

    def aead(self, suite: int, key: Buffer) -> Aead:
        return self.inner.aead(suite, key)

    def record_protector(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> RecordProtector:
        return self.inner.record_protector(suite, key, iv, sequence, data_limit)

    def record_protector_tls12(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> RecordProtector:
        return self.inner.record_protector_tls12(suite, key, iv, sequence, data_limit)

    def dtls13_record_protector(
        self, suite: int, key: Buffer, iv: Buffer, sn_key: Buffer, epoch: int, sequence: int = 0,
        data_limit: int | None = None, connection_id: Buffer | None = None,
    ) -> DatagramProtector:
        return self.inner.dtls13_record_protector(suite, key, iv, sn_key, epoch, sequence, data_limit, connection_id)

    def dtls12_record_protector(
        self, suite: int, key: Buffer, iv: Buffer, epoch: int, sequence: int = 0,
        data_limit: int | None = None, connection_id: Buffer | None = None,
    ) -> DatagramProtector:
        return self.inner.dtls12_record_protector(suite, key, iv, epoch, sequence, data_limit, connection_id)

    def tls12_prf(self, hash_name: str, secret: Buffer, label: Buffer, seed: Buffer, length: int) -> bytes:
        return self.inner.tls12_prf(hash_name, secret, label, seed, length)

    def hkdf_extract(self, hash_name: str, salt: Buffer, ikm: Buffer) -> bytes:
        return self.inner.hkdf_extract(hash_name, salt, ikm)

    def hkdf_expand(self, hash_name: str, prk: Buffer, info: Buffer, length: int) -> bytes:
        return self.inner.hkdf_expand(hash_name, prk, info, length)

    def x25519_generate(self) -> X25519PrivateKey:
        return self.inner.x25519_generate()

    def x25519_from_bytes(self, private: Buffer) -> X25519PrivateKey:
        return self.inner.x25519_from_bytes(private)

    def mlkem768_generate(self) -> MlKem768PrivateKey:
        return self.inner.mlkem768_generate()

    def mlkem768_from_seed(self, seed: Buffer) -> MlKem768PrivateKey:
        return self.inner.mlkem768_from_seed(seed)

    def mlkem768_encapsulate(self, public: Buffer) -> tuple[bytes, bytes]:
        return self.inner.mlkem768_encapsulate(public)
