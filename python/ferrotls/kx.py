"""Key exchange for the key_share extension (RFC 8446 section 4.2.8).

Groups, as a table:

* X25519 -- through the backend (native or pure Python);
* secp256r1 / secp384r1 / secp521r1 -- through pyca/cryptography (uncompressed
  points of 65 / 97 / 133 bytes, checked to lie on the curve);
* X448 -- through pyca/cryptography (56 bytes); an all-zero shared secret (a
  low-order peer point) is refused, as for X25519;
* X25519MLKEM768 (0x11EC, draft-ietf-tls-ecdhe-mlkem) -- ML-KEM-768 through the
  backend plus X25519.  Client share = ML-KEM encapsulation key (1184 bytes) ||
  X25519 public key; server share = ML-KEM ciphertext (1088) || X25519 public
  key; shared secret = ML-KEM secret || X25519 secret.

The pyca/cryptography groups run the same way whatever backend a config uses.
A peer share that is malformed or not on the curve raises IllegalParameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .backend.interface import Backend
from .errors import IllegalParameter
from .suites import NamedGroup

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, x448

__all__ = ["ClientShare", "start_exchange", "server_exchange", "SUPPORTED_GROUPS", "share_length_ok"]

_MLKEM_EK = 1184
_MLKEM_CT = 1088
_X25519_LEN = 32
_X448_LEN = 56


class ClientShare:
    """The client's secret half of one offered key share."""

    __slots__ = ("group", "public", "_finish")

    def __init__(self, group: int, public: bytes, finish: Callable[[bytes], bytes]) -> None:
        self.group = group
        self.public = public
        self._finish = finish

    def __repr__(self) -> str:
        return f"ClientShare(group=0x{self.group:04x})"

    def finish(self, server_share: bytes) -> bytes:
        """The shared secret from the server's key_share; IllegalParameter if invalid."""
        return self._finish(server_share)


def _x25519_client(backend: Backend, private: bytes | None) -> ClientShare:
    key = backend.x25519_from_bytes(private) if private is not None else backend.x25519_generate()

    def finish(peer: bytes) -> bytes:
        if len(peer) != _X25519_LEN:
            raise IllegalParameter(f"X25519 key share of {len(peer)} bytes, expected 32")
        return key.exchange(peer)

    return ClientShare(NamedGroup.X25519, key.public_bytes(), finish)


def _x25519_server(
    backend: Backend, client_share: bytes, private: bytes | None
) -> tuple[bytes, bytes]:
    if len(client_share) != _X25519_LEN:
        raise IllegalParameter(f"X25519 key share of {len(client_share)} bytes, expected 32")
    key = backend.x25519_from_bytes(private) if private is not None else backend.x25519_generate()
    return key.public_bytes(), key.exchange(client_share)


#: NIST curves: uncompressed point length (1 + 2 * field bytes) and pyca curve class name.
_EC_CURVES: dict[int, tuple[int, str]] = {
    NamedGroup.SECP256R1: (65, "SECP256R1"),
    NamedGroup.SECP384R1: (97, "SECP384R1"),
    NamedGroup.SECP521R1: (133, "SECP521R1"),
}


def _ec_curve(group: int) -> ec.EllipticCurve:
    from cryptography.hazmat.primitives.asymmetric import ec

    curve: ec.EllipticCurve = getattr(ec, _EC_CURVES[group][1])()
    return curve


def _ec_load_peer(group: int, data: bytes) -> ec.EllipticCurvePublicKey:
    from cryptography.hazmat.primitives.asymmetric import ec

    expected = _EC_CURVES[group][0]
    if len(data) != expected or data[0] != 4:
        raise IllegalParameter(
            f"{NamedGroup(group).name} key share must be an uncompressed point of {expected} bytes"
        )
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_ec_curve(group), data)
    except ValueError:
        raise IllegalParameter(f"{NamedGroup(group).name} key share is not a point on the curve") from None


def _ec_public(key: ec.EllipticCurvePrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def _ec_client(group: int) -> ClientShare:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(_ec_curve(group))

    def finish(peer: bytes) -> bytes:
        return key.exchange(ec.ECDH(), _ec_load_peer(group, peer))

    return ClientShare(group, _ec_public(key), finish)


def _ec_server(group: int, client_share: bytes) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.asymmetric import ec

    peer = _ec_load_peer(group, client_share)
    key = ec.generate_private_key(_ec_curve(group))
    return _ec_public(key), key.exchange(ec.ECDH(), peer)


def _x448_exchange(key: x448.X448PrivateKey, peer: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import x448

    if len(peer) != _X448_LEN:
        raise IllegalParameter(f"X448 key share of {len(peer)} bytes, expected {_X448_LEN}")
    try:
        secret = key.exchange(x448.X448PublicKey.from_public_bytes(peer))
    except ValueError:  # OpenSSL refuses an all-zero result itself
        secret = bytes(_X448_LEN)
    if secret == bytes(_X448_LEN):
        raise IllegalParameter("X448 key share is a low-order point (all-zero shared secret)")
    return secret


def _x448_public(key: x448.X448PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _x448_client() -> ClientShare:
    from cryptography.hazmat.primitives.asymmetric import x448

    key = x448.X448PrivateKey.generate()
    return ClientShare(NamedGroup.X448, _x448_public(key), lambda peer: _x448_exchange(key, peer))


def _x448_server(client_share: bytes) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.asymmetric import x448

    if len(client_share) != _X448_LEN:  # before generating a key
        raise IllegalParameter(f"X448 key share of {len(client_share)} bytes, expected {_X448_LEN}")
    key = x448.X448PrivateKey.generate()
    return _x448_public(key), _x448_exchange(key, client_share)


def _hybrid_client(backend: Backend) -> ClientShare:
    kem = backend.mlkem768_generate()
    x = backend.x25519_generate()
    public = kem.public_bytes() + x.public_bytes()

    def finish(peer: bytes) -> bytes:
        if len(peer) != _MLKEM_CT + _X25519_LEN:
            raise IllegalParameter(
                f"X25519MLKEM768 server share of {len(peer)} bytes, expected {_MLKEM_CT + 32}"
            )
        return kem.decapsulate(peer[:_MLKEM_CT]) + x.exchange(peer[_MLKEM_CT:])

    return ClientShare(NamedGroup.X25519MLKEM768, public, finish)


def _hybrid_server(
    backend: Backend, client_share: bytes, _private: bytes | None
) -> tuple[bytes, bytes]:
    if len(client_share) != _MLKEM_EK + _X25519_LEN:
        raise IllegalParameter(
            f"X25519MLKEM768 client share of {len(client_share)} bytes, expected {_MLKEM_EK + 32}"
        )
    try:
        ciphertext, kem_secret = backend.mlkem768_encapsulate(client_share[:_MLKEM_EK])
    except ValueError:
        raise IllegalParameter("X25519MLKEM768 client share holds an invalid ML-KEM key") from None
    x = backend.x25519_generate()
    x_secret = x.exchange(client_share[_MLKEM_EK:])
    return ciphertext + x.public_bytes(), kem_secret + x_secret


@dataclass(frozen=True, slots=True)
class _GroupImpl:
    client: Callable[[Backend, bytes | None], ClientShare]
    server: Callable[[Backend, bytes, bytes | None], tuple[bytes, bytes]]
    client_len: int
    server_len: int


def _ec_impl(group: int) -> _GroupImpl:
    length = _EC_CURVES[group][0]
    return _GroupImpl(
        lambda _b, _p: _ec_client(group), lambda _b, s, _p: _ec_server(group, s), length, length
    )


_GROUPS: dict[int, _GroupImpl] = {
    NamedGroup.X25519: _GroupImpl(_x25519_client, _x25519_server, 32, 32),
    NamedGroup.SECP256R1: _ec_impl(NamedGroup.SECP256R1),
    NamedGroup.SECP384R1: _ec_impl(NamedGroup.SECP384R1),
    NamedGroup.SECP521R1: _ec_impl(NamedGroup.SECP521R1),
    NamedGroup.X448: _GroupImpl(
        lambda _b, _p: _x448_client(), lambda _b, s, _p: _x448_server(s), _X448_LEN, _X448_LEN
    ),
    NamedGroup.X25519MLKEM768: _GroupImpl(
        lambda b, _p: _hybrid_client(b),
        _hybrid_server,
        _MLKEM_EK + _X25519_LEN,
        _MLKEM_CT + _X25519_LEN,
    ),
}

SUPPORTED_GROUPS: tuple[int, ...] = tuple(_GROUPS)


def share_length_ok(group: int, length: int, *, from_client: bool) -> bool:
    impl = _GROUPS.get(group)
    if impl is None:
        return True
    return length == (impl.client_len if from_client else impl.server_len)


def start_exchange(backend: Backend, group: int, private: bytes | None = None) -> ClientShare:
    """Generate the client's share for ``group`` (``private``: fixed X25519 key, for tests)."""
    impl = _GROUPS.get(group)
    if impl is None:
        raise ValueError(f"unsupported key exchange group 0x{group:04x}")
    return impl.client(backend, private)


def server_exchange(
    backend: Backend, group: int, client_share: bytes, private: bytes | None = None
) -> tuple[bytes, bytes]:
    """The server's share and the shared secret for the client's ``client_share``.

    ``private``: a fixed X25519 private key (tests replaying a trace).
    """
    impl = _GROUPS.get(group)
    if impl is None:
        raise ValueError(f"unsupported key exchange group 0x{group:04x}")
    return impl.server(backend, client_share, private)
