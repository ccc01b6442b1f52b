"""Key-exchange groups secp521r1 (P-521) and X448 (RFC 8446 section 4.2.8.2, RFC 7748).

Both run through pyca/cryptography whatever backend a config uses, so every
in-memory test runs once per backend.  By default a client lists them in
supported_groups (so a HelloRetryRequest to them works) but sends no key share for
them; a server accepts them when they are offered, after its other groups (as
OpenSSL does).  Malformed peer shares -- wrong length, compressed or infinity
encodings, points off the curve, X448 points that give an all-zero secret -- are
illegal_parameter on both sides, with the alert on the wire.

The peers someone else wrote (openssl s_client / s_server) are in
tests/interop/test_openssl_cli.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from ferrotls import kx
from ferrotls.config import DEFAULT_GROUPS, DEFAULT_KEY_SHARE_GROUPS, ClientConfig
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.context import Context, Purpose
from ferrotls.errors import AlertReceived, IllegalParameter
from ferrotls.events import ApplicationData
from ferrotls.messages import (
    ClientHello,
    HelloRetryRequest,
    ServerHello,
    decode_handshake_message,
    encode_handshake,
)
from ferrotls.messages import extensions as ext
from ferrotls.suites import NamedGroup
from helpers_tls import (
    CT_HANDSHAKE,
    SERVER_NAME,
    ConnectionPair,
    client_config,
    server_config,
    split_records,
)

P521, X448, X25519 = NamedGroup.SECP521R1, NamedGroup.X448, NamedGroup.X25519
NEW_GROUPS = [pytest.param(P521, id="P-521"), pytest.param(X448, id="X448")]
SHARE_LEN: dict[int, int] = {P521: 133, X448: 56}

ILLEGAL_PARAMETER = b"\x15\x03\x03\x00\x02\x02\x2f"  # plaintext fatal alert 47

_P521_P = 2**521 - 1
_X448_P = 2**448 - 2**224 - 1


def _p521_point() -> tuple[int, int]:
    numbers = ec.generate_private_key(ec.SECP521R1()).public_key().public_numbers()
    return numbers.x, numbers.y


def _p521_encode(x: int, y: int) -> bytes:
    return b"\x04" + x.to_bytes(66, "big") + y.to_bytes(66, "big")


def _x448_u(u: int) -> bytes:
    return u.to_bytes(56, "little")


def _bad_shares() -> list[Any]:
    x, y = _p521_point()
    return [
        pytest.param(P521, _p521_encode(x, y)[:-1], id="P-521-short"),
        pytest.param(P521, _p521_encode(x, y) + b"\x00", id="P-521-long"),
        pytest.param(P521, b"\x00", id="P-521-infinity"),
        pytest.param(P521, b"\x00" * 133, id="P-521-infinity-padded"),
        pytest.param(P521, bytes([2 + (y & 1)]) + x.to_bytes(66, "big"), id="P-521-compressed"),
        pytest.param(P521, b"\x02" + _p521_encode(x, y)[1:], id="P-521-bad-prefix"),
        pytest.param(P521, _p521_encode(x, y ^ 1), id="P-521-off-curve"),
        pytest.param(P521, _p521_encode(0, 0), id="P-521-origin"),
        pytest.param(P521, _p521_encode(x + _P521_P, y), id="P-521-x-not-reduced"),
        pytest.param(X448, bytes(55), id="X448-short"),
        pytest.param(X448, bytes(57), id="X448-long"),
        pytest.param(X448, _x448_u(0), id="X448-zero-u"),
        pytest.param(X448, _x448_u(1), id="X448-u-one"),
        pytest.param(X448, _x448_u(_X448_P), id="X448-u-p"),  # non-canonical 0
        pytest.param(X448, _x448_u(_X448_P + 1), id="X448-u-p-plus-1"),  # non-canonical 1
    ]


BAD_SHARES = _bad_shares()


def _hello_recorder(seen: list[ClientHello]) -> Any:
    def hook(hello: ClientHello) -> ClientHello:
        seen.append(hello)
        return hello

    return hook


def _exchange_data(pair: ConnectionPair) -> None:
    pair.client.send(b"ping")
    pair.pump()
    assert pair.server.events() == [ApplicationData(b"ping")]
    pair.server.send(b"pong" * 5000)
    pair.pump()
    assert b"".join(e.data for e in pair.client.events() if isinstance(e, ApplicationData)) == (
        b"pong" * 5000
    )


# --------------------------------------------------------------------------- the table


def test_groups_are_in_the_table() -> None:
    assert P521 in kx.SUPPORTED_GROUPS and X448 in kx.SUPPORTED_GROUPS
    for group, length in SHARE_LEN.items():
        assert kx.share_length_ok(group, length, from_client=True)
        assert kx.share_length_ok(group, length, from_client=False)
        assert not kx.share_length_ok(group, length - 1, from_client=True)


def test_defaults_list_them_after_the_others_without_key_shares() -> None:
    assert DEFAULT_GROUPS[-2:] == (P521, X448)
    assert P521 not in DEFAULT_KEY_SHARE_GROUPS and X448 not in DEFAULT_KEY_SHARE_GROUPS


def test_default_client_hello_does_not_offer_them(backend: Any) -> None:
    """Servers accept P-521 and X448; clients offer them only when configured (as
    rustls does: four more bytes in every ClientHello otherwise)."""
    from ferrotls.config import DEFAULT_CLIENT_GROUPS

    seen: list[ClientHello] = []
    ClientConnection(client_config(backend, client_hello_hook=_hello_recorder(seen)), SERVER_NAME)
    (hello,) = seen
    groups = ext.get_extension(hello.extensions, ext.SupportedGroups)
    shares = ext.get_extension(hello.extensions, ext.KeyShareClientHello)
    assert groups is not None and shares is not None
    assert tuple(groups.groups) == DEFAULT_CLIENT_GROUPS
    assert P521 not in groups.groups and X448 not in groups.groups
    assert [s.group for s in shares.client_shares] == [NamedGroup.X25519MLKEM768, X25519]
    seen.clear()
    ClientConnection(client_config(backend, groups=DEFAULT_GROUPS, client_hello_hook=_hello_recorder(seen)),
                     SERVER_NAME)
    groups = ext.get_extension(seen[0].extensions, ext.SupportedGroups)
    assert groups is not None and list(groups.groups)[-2:] == [P521, X448]


@pytest.mark.parametrize(
    "names,groups,shares",
    [
        (["X448"], (X448,), (X448,)),
        (["P-521"], (P521,), (P521,)),
        (["secp521r1", "x448"], (P521, X448), (P521,)),
        (["X448", "X25519"], (X448, X25519), (X25519,)),
    ],
)
def test_context_group_names(
    names: list[str], groups: tuple[int, ...], shares: tuple[int, ...]
) -> None:
    ctx = Context(Purpose.SERVER_AUTH)
    ctx.set_groups(names)
    config = ctx.config
    assert isinstance(config, ClientConfig)
    assert config.groups == groups
    assert config.key_share_groups == shares


# --------------------------------------------------------------------------- handshakes


@pytest.mark.parametrize("group", NEW_GROUPS)
def test_handshake(backend: Any, group: int) -> None:
    ccfg = client_config(backend, groups=(group,), key_share_groups=(group,))
    pair = ConnectionPair(ccfg, server_config(backend, groups=(group,)))
    c_info, s_info = pair.handshake()
    assert c_info.group == s_info.group == group
    _exchange_data(pair)


@pytest.mark.parametrize("group", NEW_GROUPS)
def test_cross_backend_handshake(native_backend: Any, python_backend: Any, group: int) -> None:
    for c, s in ((native_backend, python_backend), (python_backend, native_backend)):
        ccfg = client_config(c, groups=(group,), key_share_groups=(group,))
        pair = ConnectionPair(ccfg, server_config(s, groups=(group,)))
        c_info, s_info = pair.handshake()
        assert c_info.group == s_info.group == group
        _exchange_data(pair)


@pytest.mark.parametrize("group", NEW_GROUPS)
def test_default_server_accepts_a_client_offering_only_it(backend: Any, group: int) -> None:
    ccfg = client_config(backend, groups=(group,), key_share_groups=(group,))
    pair = ConnectionPair(ccfg, server_config(backend))
    c_info, s_info = pair.handshake()
    assert c_info.group == s_info.group == group
    assert len(pair.c2s) == 2  # no HelloRetryRequest


@pytest.mark.parametrize("group", NEW_GROUPS)
def test_default_server_prefers_x25519(backend: Any, group: int) -> None:
    """Shares for the new group (listed first) and X25519: the server picks X25519."""
    ccfg = client_config(backend, groups=(group, X25519), key_share_groups=(group, X25519))
    pair = ConnectionPair(ccfg, server_config(backend))
    c_info, s_info = pair.handshake()
    assert c_info.group == s_info.group == X25519


@pytest.mark.parametrize("group", NEW_GROUPS)
def test_default_server_asks_for_it_when_no_share_fits(backend: Any, group: int) -> None:
    """Listed without a share, and the only group in common: HelloRetryRequest to it."""
    ccfg = client_config(backend, groups=(X25519, group), key_share_groups=(X25519,))
    pair = ConnectionPair(ccfg, server_config(backend, groups=(group, NamedGroup.SECP256R1)))
    c_info, s_info = pair.handshake()
    assert c_info.group == s_info.group == group
    assert len(pair.c2s) == 3  # ClientHello, second ClientHello, Finished


@pytest.mark.parametrize("group", NEW_GROUPS)
def test_hello_retry_request_to_it(backend: Any, group: int) -> None:
    """A server preferring only the new group and a client that lists it (without a
    share): one HRR, then it."""
    seen: list[ClientHello] = []
    ccfg = client_config(backend, groups=DEFAULT_GROUPS, client_hello_hook=_hello_recorder(seen))
    pair = ConnectionPair(ccfg, server_config(backend, groups=(group,)))
    c_info, s_info = pair.handshake()
    assert c_info.group == s_info.group == group
    content_type, record = split_records(pair.s2c[0])[0]
    assert content_type == CT_HANDSHAKE
    hrr = decode_handshake_message(record[5:])
    assert isinstance(hrr, HelloRetryRequest)
    selected = ext.get_extension(hrr.extensions, ext.KeyShareHelloRetryRequest)
    assert selected is not None and selected.selected_group == group
    assert len(seen) == 2
    second = ext.get_extension(seen[1].extensions, ext.KeyShareClientHello)
    assert second is not None
    offered = [(s.group, len(s.key_exchange)) for s in second.client_shares]
    assert offered == [(group, SHARE_LEN[group])]
    _exchange_data(pair)


# --------------------------------------------------------------------------- malformed shares


def _replace_client_share(group: int, share: bytes) -> Any:
    def hook(hello: ClientHello) -> ClientHello:
        extensions = [
            ext.KeyShareClientHello([ext.KeyShareEntry(group, share)])
            if isinstance(e, ext.KeyShareClientHello)
            else e
            for e in hello.extensions
        ]
        return dataclasses.replace(hello, extensions=extensions)

    return hook


@pytest.mark.parametrize("group,share", BAD_SHARES)
def test_server_rejects_bad_client_share(backend: Any, group: int, share: bytes) -> None:
    hook = _replace_client_share(group, share)
    ccfg = client_config(
        backend, groups=(group,), key_share_groups=(group,), client_hello_hook=hook
    )
    client = ClientConnection(ccfg, SERVER_NAME)
    server = ServerConnection(server_config(backend))
    with pytest.raises(IllegalParameter):
        server.receive_data(client.data_to_send())
    wire = server.data_to_send()
    assert wire == ILLEGAL_PARAMETER
    with pytest.raises(AlertReceived) as received:
        client.receive_data(wire)
    assert received.value.description == 47


@pytest.mark.parametrize("group,share", BAD_SHARES)
def test_client_rejects_bad_server_share(backend: Any, group: int, share: bytes) -> None:
    ccfg = client_config(
        backend, groups=(group,), key_share_groups=(group,), middlebox_compat=False
    )
    client = ClientConnection(ccfg, SERVER_NAME)
    server = ServerConnection(server_config(backend))
    server.receive_data(client.data_to_send())
    content_type, record = split_records(server.data_to_send())[0]
    assert content_type == CT_HANDSHAKE
    sh = decode_handshake_message(record[5:])
    assert isinstance(sh, ServerHello)
    sh = dataclasses.replace(
        sh,
        extensions=[
            ext.KeyShareServerHello(ext.KeyShareEntry(group, share))
            if isinstance(e, ext.KeyShareServerHello)
            else e
            for e in sh.extensions
        ],
    )
    body = encode_handshake(sh)
    with pytest.raises(IllegalParameter):
        client.receive_data(record[:3] + len(body).to_bytes(2, "big") + body)
    assert client.data_to_send() == ILLEGAL_PARAMETER


@pytest.mark.parametrize("u", [0, 1, _X448_P, _X448_P + 1], ids=["0", "1", "p", "p+1"])
def test_x448_all_zero_secret_is_refused_by_the_table(backend: Any, u: int) -> None:
    with pytest.raises(IllegalParameter, match="all-zero"):
        kx.server_exchange(backend, X448, _x448_u(u))
    share = kx.start_exchange(backend, X448)
    with pytest.raises(IllegalParameter, match="all-zero"):
        share.finish(_x448_u(u))


def test_exchange_agrees_with_an_independent_computation(backend: Any) -> None:
    """The shared secret is the RFC 7748 / SEC 1 one (pyca/cryptography as the oracle)."""
    from cryptography.hazmat.primitives.asymmetric import x448
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    peer = x448.X448PrivateKey.generate()
    peer_public = peer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ours, secret = kx.server_exchange(backend, X448, peer_public)
    assert len(ours) == 56
    assert secret == peer.exchange(x448.X448PublicKey.from_public_bytes(ours))

    peer_ec = ec.generate_private_key(ec.SECP521R1())
    peer_point = peer_ec.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    ours, secret = kx.server_exchange(backend, P521, peer_point)
    assert len(ours) == 133 and ours[0] == 4
    assert secret == peer_ec.exchange(
        ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP521R1(), ours)
    )
    assert len(secret) == 66
