"""The IoT profile presets (ferrotls.profiles) and check_iot_profile."""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.config import PSK_KE, ClientConfig, ServerConfig
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.events import HandshakeComplete
from ferrotls.profiles import (
    IOT_CIPHER_SUITES,
    IOT_RECORD_SIZE_LIMIT,
    check_iot_profile,
    iot_client_config,
    iot_server_config,
)
from ferrotls.psk import ExternalPsk
from ferrotls.suites import SUITES, CipherSuite, NamedGroup
from helpers_tls import SERVER_NAME, ConnectionPair, certified, verifier
from resumption_helpers import full_handshake

PSK = ExternalPsk(b"device-17", bytes(range(32)))


def handshake(pair: ConnectionPair) -> tuple[Any, Any]:
    pair.pump()
    c = [e for e in pair.client.events() if isinstance(e, HandshakeComplete)]
    s = [e for e in pair.server.events() if isinstance(e, HandshakeComplete)]
    return c[0], s[0]
CCM8 = CipherSuite.TLS_AES_128_CCM_8_SHA256


def test_suites_follow_the_backends() -> None:
    assert CipherSuite.TLS_AES_128_GCM_SHA256 in IOT_CIPHER_SUITES
    assert (CCM8 in IOT_CIPHER_SUITES) == (CCM8 in SUITES)
    assert IOT_CIPHER_SUITES[0] == (CCM8 if CCM8 in SUITES else CipherSuite.TLS_AES_128_GCM_SHA256)


def test_presets_conform() -> None:
    assert check_iot_profile(iot_client_config(psk=PSK)) == []
    assert check_iot_profile(iot_server_config(psks=[PSK])) == []
    assert check_iot_profile(iot_client_config(verifier=verifier())) == []
    assert check_iot_profile(iot_server_config(certificates=[certified("p256")])) == []


def test_defaults_depart_in_many_ways() -> None:
    problems = check_iot_profile(ClientConfig(verifier=verifier()))
    names = [p.split(":")[0] for p in problems]
    assert names == [
        "cipher_suites", "groups", "key_share_groups", "signature_schemes", "record_size_limit",
        "middlebox_compat",
    ]
    assert "TLS_AES_256_GCM_SHA384" in problems[0] and "X25519MLKEM768" in problems[1]
    server = check_iot_profile(ServerConfig(certificates=(certified("p256"),), early_data=True))
    assert [p.split(":")[0] for p in server] == [
        "cipher_suites", "groups", "signature_schemes", "record_size_limit", "psk_modes",
        "middlebox_compat", "early_data",
    ]


def test_overrides_are_checked() -> None:
    cfg = iot_client_config(psk=PSK, psk_modes=(PSK_KE,), record_size_limit=4096,
                            groups=(NamedGroup.X25519, NamedGroup.SECP256R1))
    assert [p.split(":")[0] for p in check_iot_profile(cfg)] == ["groups", "record_size_limit", "psk_modes"]
    assert check_iot_profile(iot_server_config(psks=[PSK], early_data=True)) == [
        "early_data: on (0-RTT only when the application asks for it: replayable)"
    ]


def test_psk_handshake(backend: Any) -> None:
    cc = iot_client_config(psk=PSK, backend=backend, check_hostname=False)
    sc = iot_server_config(psks={PSK.identity: PSK}, backend=backend)
    pair = ConnectionPair(cc, sc)
    c, s = handshake(pair)
    assert c.psk_identity == s.psk_identity == PSK.identity
    assert c.cipher_suite == IOT_CIPHER_SUITES[0] and c.group == NamedGroup.X25519
    assert c.record_size_limit == s.record_size_limit == IOT_RECORD_SIZE_LIMIT
    stats = pair.client.handshake_stats
    assert stats is not None and stats.round_trips == 1 and stats.client_hello_size < 300
    assert not stats.hello_retry and not any(d[0] == 20 for d in pair.c2s)  # no CCS


def test_certificate_handshake_with_client_auth(backend: Any) -> None:
    from ferrotls.config import ClientAuth

    cc = iot_client_config(verifier=verifier(), certificate=certified("p256", "device.test"), backend=backend)
    sc = iot_server_config(
        certificates=[certified("p256")], backend=backend,
        client_auth=ClientAuth.REQUIRED, client_verifier=verifier(),
    )
    pair = ConnectionPair(cc, sc)
    c, s = handshake(pair)
    assert c.signature_scheme == 0x0403 and s.peer_certificates
    assert c.certificate_compression is not None and s.certificate_compression is not None
    assert pair.client.handshake_stats is not None
    assert pair.client.handshake_stats.client_hello_fits(1200)


def test_no_early_data_unless_asked(backend: Any) -> None:
    from resumption_helpers import Clock
    from ferrotls.tickets import SessionCache, TicketKeyManager

    clock = Clock()
    cc = iot_client_config(verifier=verifier(), backend=backend, session_cache=SessionCache(), clock=clock)
    keys = TicketKeyManager(rotation_interval=None)
    sc = iot_server_config(certificates=[certified("p256")], backend=backend, ticket_keys=keys, clock=clock)
    _, sessions = full_handshake(cc, sc)
    assert len(sessions) == 1 and sessions[0].max_early_data == 0  # one ticket, no 0-RTT
    sc0 = iot_server_config(certificates=[certified("p256")], backend=backend, ticket_keys=keys,
                            clock=clock, early_data=True)
    cc = iot_client_config(verifier=verifier(), backend=backend, session_cache=SessionCache(), clock=clock)
    _, sessions = full_handshake(cc, sc0)
    client = ClientConnection(cc, SERVER_NAME, session=sessions[0], early_data=b"reading=21.5C")
    pair = ConnectionPair.__new__(ConnectionPair)
    pair.client, pair.server, pair.c2s, pair.s2c = client, ServerConnection(sc0), [], []
    pair.pump()
    assert client.info.early_data_accepted


@pytest.mark.parametrize("limit", [64, 256])
def test_record_size_limit_option(limit: int) -> None:
    assert iot_client_config(psk=PSK, record_size_limit=limit).record_size_limit == limit
