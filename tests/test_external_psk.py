"""External PSKs (RFC 8446 4.2.11) and RFC 9258 imported PSKs between ferrotls peers."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.errors import DecryptError, HandshakeFailure, UnknownPSKIdentity
from ferrotls.psk import ExternalPsk, ImportedIdentity, ImportedPsk
from helpers_tls import SERVER_NAME, ConnectionPair, read_alert
from resumption_helpers import PSK_DHE_KE, PSK_KE, X25519, configs, infos, wire_bytes

PSK = ExternalPsk(b"client-17", bytes(range(32)))


def _pair(
    backend: Any, modes: tuple[int, ...], psk: ExternalPsk = PSK, compat: bool = True, **server: Any
) -> ConnectionPair:
    server.setdefault("psk_callback", {psk.identity: psk}.get)
    server.setdefault("certificates", ())
    server.setdefault("ticket_count", 0)
    cc, sc = configs(backend, client={"external_psks": (psk,), "psk_modes": modes, "session_cache": None,
                                      "key_share_groups": (X25519,), "middlebox_compat": compat},
                     server=server)
    pair = ConnectionPair(cc, sc)
    pair.pump()
    return pair


@pytest.mark.parametrize("modes", [(PSK_KE,), (PSK_DHE_KE,)], ids=["psk_ke", "psk_dhe_ke"])
def test_external_psk(backend: Any, modes: tuple[int, ...]) -> None:
    pair = _pair(backend, modes)
    c, s = infos(pair)
    assert c.resumed and s.resumed and c.psk_identity == s.psk_identity == b"client-17"
    assert c.peer_certificates == () and c.signature_scheme is None
    assert (c.group is None) == (modes == (PSK_KE,))
    pair.client.send(b"hi")
    pair.pump()
    assert [e.data for e in pair.server.events()] == [b"hi"]  # type: ignore[attr-defined]


def test_wire_budget_external_psk_ke(backend: Any) -> None:
    """<= 400 bytes without the middlebox-compatibility padding (legacy_session_id and the
    two dummy change_cipher_spec records: 76 bytes), which PSK deployments can drop."""
    pair = _pair(backend, (PSK_KE,))
    up, down = wire_bytes(pair)
    print(f"external PSK psk_ke, middlebox_compat on: client {up} + server {down} = {up + down} bytes")
    assert up + down <= 500
    pair = _pair(backend, (PSK_KE,), compat=False)
    up, down = wire_bytes(pair)
    print(f"external PSK psk_ke, middlebox_compat off: client {up} + server {down} = {up + down} bytes")
    assert up + down <= 400


def test_wrong_key_is_decrypt_error(backend: Any) -> None:
    wrong = ExternalPsk(PSK.identity, b"\x01" * 32)
    cc, sc = configs(backend, client={"external_psks": (wrong,), "psk_modes": (PSK_KE,), "session_cache": None},
                     server={"psk_callback": {PSK.identity: PSK}.get, "certificates": ()})
    client, server = ClientConnection(cc, SERVER_NAME), ServerConnection(sc)
    with pytest.raises(DecryptError):
        server.receive_data(client.data_to_send())
    assert read_alert(server.data_to_send()).payload == bytes([2, 51])


def test_unknown_identity_fails_or_falls_back(backend: Any) -> None:
    other = ExternalPsk(b"nobody", b"\x02" * 32)
    cc, sc = configs(backend, client={"external_psks": (other,), "session_cache": None},
                     server={"psk_callback": {PSK.identity: PSK}.get, "unknown_psk_fallback": False})
    client, server = ClientConnection(cc, SERVER_NAME), ServerConnection(sc)
    with pytest.raises(UnknownPSKIdentity):
        server.receive_data(client.data_to_send())
    assert read_alert(server.data_to_send()).payload == bytes([2, 115])
    # fallback (the default): a certificate handshake
    cc, sc = configs(backend, client={"external_psks": (other,), "session_cache": None},
                     server={"psk_callback": {PSK.identity: PSK}.get})
    pair = ConnectionPair(cc, sc)
    pair.pump()
    c, _ = infos(pair)
    assert not c.resumed and c.peer_certificates


def test_psk_only_server_without_certificate_cannot_fall_back(backend: Any) -> None:
    cc, sc = configs(backend, client={"session_cache": None},
                     server={"psk_callback": {PSK.identity: PSK}.get, "certificates": ()})
    client, server = ClientConnection(cc, SERVER_NAME), ServerConnection(sc)
    with pytest.raises(HandshakeFailure):
        server.receive_data(client.data_to_send())


def test_callback_may_return_key_bytes(backend: Any) -> None:
    pair = _pair(backend, (PSK_DHE_KE,), psk_callback=lambda ident: PSK.key if ident == PSK.identity else None)
    assert infos(pair)[1].psk_identity == PSK.identity


def test_sha384_psk_selects_a_sha384_suite(backend: Any) -> None:
    psk = ExternalPsk(b"big", b"\x03" * 48, "sha384")
    pair = _pair(backend, (PSK_KE,), psk)
    assert infos(pair)[0].cipher_suite == 0x1302


def test_imported_psk_rfc9258(backend: Any) -> None:
    imported = ImportedPsk(b"device-42", b"\x05" * 32, context=b"ctx")
    derived = imported.derive(0x0001, backend)
    identity = ImportedIdentity(b"device-42", b"ctx", 0x0304, 0x0001).encode()
    assert identity == b"\x00\x09device-42\x00\x03ctx\x03\x04\x00\x01"
    assert derived.identity == identity and derived.binder_label == b"imp binder"
    # independent derivation with pyca/cryptography
    epskx = hmac.new(b"", b"\x05" * 32, "sha256").digest()
    label = b"tls13 derived psk"
    context = hashlib.sha256(identity).digest()
    info = (32).to_bytes(2, "big") + bytes([len(label)]) + label + bytes([len(context)]) + context
    assert derived.key == HKDFExpand(hashes.SHA256(), 32, info).derive(epskx)
    assert imported.derive(0x0002, backend).hash_name == "sha384" and len(imported.derive(0x0002).key) == 48
    pair = _pair(backend, (PSK_DHE_KE,), derived)
    assert infos(pair)[0].psk_identity == identity
