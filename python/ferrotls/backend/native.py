"""The native backend: a thin adapter over the Rust module ``ferrotls._native``.

All cryptography and record framing happen in Rust; this module only maps the
``Backend`` interface onto the extension's classes and functions.  Importing it
raises ImportError when the extension is not built.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:  # typing_extensions is a dependency only before 3.12
    from typing_extensions import Buffer

from .. import _native

__all__ = ["BACKEND", "NativeBackend", "set_gil_release_threshold"]


class NativeBackend:
    """``Backend`` over ``ferrotls._native``; use the singleton ``BACKEND``."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return "native"

    @property
    def constant_time(self) -> bool:
        return True

    def features(self) -> dict[str, str]:
        return _native.features()

    def aead(self, suite: int, key: Buffer) -> _native.Aead:
        return _native.Aead(suite, key)

    def record_protector(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> _native.RecordProtector:
        return _native.RecordProtector(suite, key, iv, sequence, data_limit)

    def record_protector_tls12(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> _native.Tls12RecordProtector:
        return _native.Tls12RecordProtector(suite, key, iv, sequence, data_limit)

    def dtls13_record_protector(
        self, suite: int, key: Buffer, iv: Buffer, sn_key: Buffer, epoch: int, sequence: int = 0,
        data_limit: int | None = None, connection_id: Buffer | None = None,
    ) -> _native.Dtls13RecordProtector:
        return _native.Dtls13RecordProtector(
            suite, key, iv, sn_key, epoch, sequence, data_limit, connection_id
        )

    def dtls12_record_protector(
        self, suite: int, key: Buffer, iv: Buffer, epoch: int, sequence: int = 0,
        data_limit: int | None = None, connection_id: Buffer | None = None,
    ) -> _native.Dtls12RecordProtector:
        return _native.Dtls12RecordProtector(suite, key, iv, epoch, sequence, data_limit, connection_id)

    def tls12_prf(
        self, hash_name: str, secret: Buffer, label: Buffer, seed: Buffer, length: int
    ) -> bytes:
        return _native.tls12_prf(hash_name, secret, label, seed, length)

    def hkdf_extract(self, hash_name: str, salt: Buffer, ikm: Buffer) -> bytes:
        return _native.hkdf_extract(hash_name, salt, ikm)

    def hkdf_expand(self, hash_name: str, prk: Buffer, info: Buffer, length: int) -> bytes:
        return _native.hkdf_expand(hash_name, prk, info, length)

    def hkdf_expand_label(
        self, hash_name: str, secret: Buffer, label: bytes, context: Buffer, length: int
    ) -> bytes:
        return _native.hkdf_expand_label(hash_name, secret, label, context, length)

    def derive_secret(
        self, hash_name: str, secret: Buffer, label: bytes, transcript_hash: Buffer
    ) -> bytes:
        return _native.derive_secret(hash_name, secret, label, transcript_hash)

    def x25519_generate(self) -> _native.X25519PrivateKey:
        return _native.X25519PrivateKey.generate()

    def x25519_from_bytes(self, private: Buffer) -> _native.X25519PrivateKey:
        return _native.X25519PrivateKey.from_private_bytes(private)

    def mlkem768_generate(self) -> _native.MlKem768PrivateKey:
        return _native.MlKem768PrivateKey.generate()

    def mlkem768_from_seed(self, seed: Buffer) -> _native.MlKem768PrivateKey:
        return _native.MlKem768PrivateKey.from_seed(seed)

    def mlkem768_encapsulate(self, public: Buffer) -> tuple[bytes, bytes]:
        return _native.mlkem768_encapsulate(public)

    def __repr__(self) -> str:
        return "<ferrotls native backend>"


BACKEND = NativeBackend()


def set_gil_release_threshold(nanoseconds: int) -> int:
    """The native module's GIL-release threshold (ns of estimated work); returns the old one."""
    return int(_native.set_gil_release_threshold(nanoseconds))
