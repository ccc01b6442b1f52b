"""Stubs for the compiled module ferrotls._native (rust/lib.rs), written by hand.

Checked with ``python -m mypy.stubtest ferrotls._native``.
"""

import sys
from typing import final

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:  # typing_extensions is a dependency only before 3.12
    from typing_extensions import Buffer

__version__: str
__all__ = [
    "__version__",
    "Aead",
    "Dtls12RecordProtector",
    "Dtls13RecordProtector",
    "MlKem768PrivateKey",
    "RecordProtector",
    "X25519PrivateKey",
    "derive_secret",
    "features",
    "gil_release_threshold",
    "hkdf_expand",
    "hkdf_expand_label",
    "hkdf_extract",
    "mlkem768_encapsulate",
    "mlkem768_encapsulate_deterministic",
    "set_gil_release_threshold",
    "Tls12RecordProtector",
    "tls12_prf",
]

def features() -> dict[str, str]: ...
def gil_release_threshold() -> int: ...
def set_gil_release_threshold(nanoseconds: int) -> int: ...

@final
class Aead:
    def __new__(cls, suite: int, key: Buffer) -> Aead: ...
    @property
    def suite(self) -> int: ...
    def seal(self, nonce: Buffer, aad: Buffer, plaintext: Buffer) -> bytes: ...
    def open(self, nonce: Buffer, aad: Buffer, ciphertext: Buffer) -> bytes: ...
    def seal_into(self, out: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer) -> int: ...
    def open_into(self, out: Buffer, nonce: Buffer, aad: Buffer, ciphertext: Buffer) -> int: ...

@final
class RecordProtector:
    def __new__(
        cls,
        suite: int,
        key: Buffer,
        iv: Buffer,
        sequence: int | None = None,
        data_limit: int | None = None,
    ) -> RecordProtector: ...
    @property
    def suite(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def data_limit(self) -> int: ...
    def sealed_size(self, length: int, padding: int = 0, max_fragment: int = 16384) -> int: ...
    def seal_record(
        self, content_type: int, data: Buffer, padding: int = 0, max_fragment: int = 16384
    ) -> bytes: ...
    def seal_record_into(
        self,
        out: Buffer,
        content_type: int,
        data: Buffer,
        padding: int = 0,
        max_fragment: int = 16384,
    ) -> int: ...
    def open_records(
        self, data: Buffer, max_plaintext: int = 16384
    ) -> tuple[list[tuple[int, bytes]], int]: ...
    def open_records_into(
        self, data: Buffer, out: Buffer, max_plaintext: int = 16384
    ) -> tuple[int, int, int]: ...
    def open_application_data(
        self, data: Buffer, max_plaintext: int = 16384, head: Buffer | None = None
    ) -> tuple[bytes | None, int, int]: ...

@final
class Tls12RecordProtector:
    def __new__(
        cls,
        suite: int,
        key: Buffer,
        iv: Buffer,
        sequence: int | None = None,
        data_limit: int | None = None,
    ) -> Tls12RecordProtector: ...
    @property
    def suite(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def data_limit(self) -> int: ...
    def sealed_size(self, length: int, padding: int = 0, max_fragment: int = 16384) -> int: ...
    def seal_record(
        self, content_type: int, data: Buffer, padding: int = 0, max_fragment: int = 16384
    ) -> bytes: ...
    def seal_record_into(
        self,
        out: Buffer,
        content_type: int,
        data: Buffer,
        padding: int = 0,
        max_fragment: int = 16384,
    ) -> int: ...
    def open_records(
        self, data: Buffer, max_plaintext: int = 16384
    ) -> tuple[list[tuple[int, bytes]], int]: ...
    def open_records_into(
        self, data: Buffer, out: Buffer, max_plaintext: int = 16384
    ) -> tuple[int, int, int]: ...
    def open_application_data(
        self, data: Buffer, max_plaintext: int = 16384, head: Buffer | None = None
    ) -> tuple[bytes | None, int, int]: ...

@final
class Dtls13RecordProtector:
    def __new__(
        cls,
        suite: int,
        key: Buffer,
        iv: Buffer,
        sn_key: Buffer,
        epoch: int,
        sequence: int | None = None,
        data_limit: int | None = None,
        connection_id: Buffer | None = None,
    ) -> Dtls13RecordProtector: ...
    @property
    def suite(self) -> int: ...
    @property
    def epoch(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def data_limit(self) -> int: ...
    @property
    def connection_id(self) -> bytes: ...
    @property
    def next_expected(self) -> int: ...
    def sealed_size(
        self, length: int, padding: int = 0, length_field: bool = True, sequence_bits: int = 16
    ) -> int: ...
    def seal_record(
        self,
        content_type: int,
        data: Buffer,
        padding: int = 0,
        length_field: bool = True,
        sequence_bits: int = 16,
    ) -> bytes: ...
    def open_datagram(
        self, data: Buffer, max_plaintext: int = 16384
    ) -> tuple[list[tuple[int, int, int, bytes]], int, tuple[int, int, int]]: ...
    def record_number_mask(self, sample: Buffer) -> bytes: ...

@final
class Dtls12RecordProtector:
    def __new__(
        cls,
        suite: int,
        key: Buffer,
        iv: Buffer,
        epoch: int,
        sequence: int | None = None,
        data_limit: int | None = None,
        connection_id: Buffer | None = None,
    ) -> Dtls12RecordProtector: ...
    @property
    def suite(self) -> int: ...
    @property
    def epoch(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def data_limit(self) -> int: ...
    @property
    def connection_id(self) -> bytes: ...
    @property
    def next_expected(self) -> int: ...
    def sealed_size(
        self, length: int, padding: int = 0, length_field: bool = True, sequence_bits: int = 16
    ) -> int: ...
    def seal_record(
        self,
        content_type: int,
        data: Buffer,
        padding: int = 0,
        length_field: bool = True,
        sequence_bits: int = 16,
    ) -> bytes: ...
    def open_datagram(
        self, data: Buffer, max_plaintext: int = 16384
    ) -> tuple[list[tuple[int, int, int, bytes]], int, tuple[int, int, int]]: ...
    def record_number_mask(self, sample: Buffer) -> bytes: ...

@final
class X25519PrivateKey:
    @staticmethod
    def generate() -> X25519PrivateKey: ...
    @staticmethod
    def from_private_bytes(private: Buffer) -> X25519PrivateKey: ...
    def public_bytes(self) -> bytes: ...
    def exchange(self, peer_public: Buffer) -> bytes: ...

@final
class MlKem768PrivateKey:
    @staticmethod
    def generate() -> MlKem768PrivateKey: ...
    @staticmethod
    def from_seed(seed: Buffer) -> MlKem768PrivateKey: ...
    def public_bytes(self) -> bytes: ...
    def decapsulate(self, ciphertext: Buffer) -> bytes: ...

def mlkem768_encapsulate(public: Buffer) -> tuple[bytes, bytes]: ...
def mlkem768_encapsulate_deterministic(public: Buffer, m: Buffer) -> tuple[bytes, bytes]: ...
def hkdf_extract(hash_name: str, salt: Buffer, ikm: Buffer) -> bytes: ...
def hkdf_expand(hash_name: str, prk: Buffer, info: Buffer, length: int) -> bytes: ...
def hkdf_expand_label(
    hash_name: str, secret: Buffer, label: Buffer, context: Buffer, length: int
) -> bytes: ...
def derive_secret(
    hash_name: str, secret: Buffer, label: Buffer, transcript_hash: Buffer
) -> bytes: ...
def tls12_prf(
    hash_name: str, secret: Buffer, label: Buffer, seed: Buffer, length: int
) -> bytes: ...
