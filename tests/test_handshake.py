"""Full handshakes through ConnectionPair: the negotiation matrix and handshake features.

Matrix: suite x group x server certificate type.  The native backend runs the full
cross product (48 handshakes); the pure-Python backend (~40 ms per handshake) runs a
covering subset in which every suite, every group and every certificate type occurs.
A client on one backend with the server on the other checks that both backends agree.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from ferrotls.config import DEFAULT_CIPHER_SUITES, ClientAuth
from ferrotls.connection import ConnectionState
from ferrotls.errors import AlertReceived, CertificateRequired, NoApplicationProtocol
from ferrotls.events import (
    NEED_DATA,
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
    KeyUpdated,
)
from ferrotls.messages import HRR_RANDOM, ExtensionType, HelloRetryRequest, decode_handshake_message
from helpers_tls import (
    ALL_GROUPS,
    CERT_KINDS,
    CLIENT_SECRETS,
    CT_HANDSHAKE,
    EXPECTED_SCHEME,
    GROUP_NAMES,
    SECP256R1,
    SECP384R1,
    SERVER_NAME,
    SERVER_SECRETS,
    X25519,
    X25519MLKEM768,
    ConnectionPair,
    KeyLog,
    certified,
    client_config,
    issued,
    leaf_der,
    open_record,
    read_alert,
    server_config,
    split_records,
    verifier,
)
from utils import ALL_SUITES, SUITE_NAMES

BIG = bytes(range(256)) * 80  # 20 KiB: more than one record (2^14)
EXPORT_LABEL = b"EXPERIMENTAL ferrotls test"

FULL_MATRIX = list(itertools.product(ALL_SUITES, ALL_GROUPS, CERT_KINDS))
# Every suite, group and certificate type at least once (python backend is slow).
REDUCED_MATRIX = [
    (0x1301, X25519, "p256"),
    (0x1302, SECP256R1, "p384"),
    (0x1303, SECP384R1, "rsa2048"),
    (0x1301, X25519MLKEM768, "ed25519"),
    (0x1303, X25519MLKEM768, "p256"),
    (0x1304, X25519, "ed25519"),  # AES-128-CCM (off by default, IoT profile)
    (0x1305, X25519, "p256"),  # AES-128-CCM_8: 8-byte tags
]


def _id(case: tuple[int, int, str]) -> str:
    suite, group, kind = case
    return f"{SUITE_NAMES[suite]}-{GROUP_NAMES[group]}-{kind}"


def _matrix_pair(
    client_backend: Any, server_backend: Any, suite: int, group: int, kind: str
) -> ConnectionPair:
    ccfg = client_config(
        client_backend,
        cipher_suites=(suite,),
        groups=(group,),
        key_share_groups=(group,),
        alpn_protocols=("h2", "http/1.1"),
    )
    # The CCM suites are off by default (config.DEFAULT_CIPHER_SUITES): enable them.
    server_suites = DEFAULT_CIPHER_SUITES + ((suite,) if suite not in DEFAULT_CIPHER_SUITES else ())
    scfg = server_config(
        server_backend, (kind,), alpn_protocols=("http/1.1",), cipher_suites=server_suites
    )
    return ConnectionPair(ccfg, scfg)


def _run_full_session(pair: ConnectionPair, suite: int, group: int, kind: str) -> None:
    """Handshake, data both ways, exporters, close_notify both ways."""
    c_info, s_info = pair.handshake()
    for info in (c_info, s_info):
        assert info.version == "TLSv1.3"
        assert info.cipher_suite == suite
        assert info.group == group
        assert info.signature_scheme == EXPECTED_SCHEME[kind]
        assert info.alpn_protocol == "http/1.1"
        assert info.server_name == SERVER_NAME
        assert not info.resumed
    assert c_info.peer_certificates[0] == leaf_der(kind)
    assert s_info.peer_certificates == ()
    assert pair.client.state is pair.server.state is ConnectionState.ESTABLISHED
    assert pair.client.info == c_info and pair.server.info == s_info

    pair.client.send(b"ping")
    pair.client.send(BIG)
    pair.pump()
    assert (
        b"".join(e.data for e in pair.server.events() if isinstance(e, ApplicationData))
        == b"ping" + BIG
    )
    pair.server.send(BIG)
    pair.pump()
    got = pair.client.events()
    # records opened in one receive_data call arrive as one event
    assert all(isinstance(e, ApplicationData) for e in got) and len(got) >= 1
    assert b"".join(e.data for e in got if isinstance(e, ApplicationData)) == BIG

    c_exp = pair.client.export_keying_material(EXPORT_LABEL, b"ctx", 32)
    assert c_exp == pair.server.export_keying_material(EXPORT_LABEL, b"ctx", 32)
    assert c_exp != pair.client.export_keying_material(EXPORT_LABEL, b"other", 32)
    assert len(pair.client.export_keying_material("label", None, 100)) == 100

    pair.client.close()
    pair.pump()
    assert pair.server.events() == [ConnectionClosed()]
    assert pair.server.peer_closed and pair.client.state is ConnectionState.ESTABLISHED
    pair.server.close()
    pair.pump()
    assert pair.client.events() == [ConnectionClosed()]
    assert pair.client.state is ConnectionState.CLOSED  # type: ignore[comparison-overlap]
    assert pair.server.state is ConnectionState.CLOSED


@pytest.mark.parametrize("case", FULL_MATRIX, ids=_id)
def test_matrix_native(native_backend: Any, case: tuple[int, int, str]) -> None:
    _run_full_session(_matrix_pair(native_backend, native_backend, *case), *case)


@pytest.mark.parametrize("case", REDUCED_MATRIX, ids=_id)
def test_matrix_python(python_backend: Any, case: tuple[int, int, str]) -> None:
    _run_full_session(_matrix_pair(python_backend, python_backend, *case), *case)


def test_reduced_matrix_covers_everything() -> None:
    assert {c[0] for c in REDUCED_MATRIX} == set(ALL_SUITES)
    assert {c[1] for c in REDUCED_MATRIX} == set(ALL_GROUPS)
    assert {c[2] for c in REDUCED_MATRIX} == set(CERT_KINDS)


@pytest.mark.parametrize("client_on", ["native", "python"])
@pytest.mark.parametrize("case", REDUCED_MATRIX[:4], ids=_id)
def test_cross_backend(
    native_backend: Any, python_backend: Any, client_on: str, case: tuple[int, int, str]
) -> None:
    c, s = (
        (native_backend, python_backend)
        if client_on == "native"
        else (python_backend, native_backend)
    )
    _run_full_session(_matrix_pair(c, s, *case), *case)


# --------------------------------------------------------------------------- HelloRetryRequest


def _first_server_message(pair: ConnectionPair) -> Any:
    content_type, record = split_records(pair.s2c[0])[0]
    assert content_type == CT_HANDSHAKE
    return decode_handshake_message(record[5:])


def test_hello_retry_request(backend: Any) -> None:
    ccfg = client_config(backend, key_share_groups=(X25519,))
    scfg = server_config(backend, groups=(SECP256R1, SECP384R1))
    pair = ConnectionPair(ccfg, scfg)
    c_info, s_info = pair.handshake()
    assert c_info.group == s_info.group == SECP256R1
    hrr = _first_server_message(pair)
    assert isinstance(hrr, HelloRetryRequest)
    assert HRR_RANDOM in pair.s2c[0]
    ext_types = {e.ext_type for e in hrr.extensions}
    # only the group is asked for: no cookie is needed
    assert ext_types == {ExtensionType.KEY_SHARE, ExtensionType.SUPPORTED_VERSIONS}
    assert len(pair.c2s) == 3  # ClientHello, second ClientHello, Finished
    pair.client.send(b"after hrr")
    pair.pump()
    assert pair.server.events() == [ApplicationData(b"after hrr")]


def test_no_hello_retry_when_share_matches(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend), server_config(backend))
    pair.handshake()
    assert HRR_RANDOM not in pair.s2c[0]
    assert len(pair.c2s) == 2


# --------------------------------------------------------------------------- client auth


def _client_auth_pair(
    backend: Any, mode: ClientAuth, with_cert: bool, **server_kw: Any
) -> ConnectionPair:
    ccfg = client_config(
        backend, certificate=certified("p256", "client.example") if with_cert else None
    )
    scfg = server_config(backend, client_auth=mode, client_verifier=verifier(), **server_kw)
    return ConnectionPair(ccfg, scfg)


@pytest.mark.parametrize(
    "mode,with_cert",
    [
        (ClientAuth.NONE, True),
        (ClientAuth.OPTIONAL, False),
        (ClientAuth.OPTIONAL, True),
        (ClientAuth.REQUIRED, True),
    ],
)
def test_client_auth(backend: Any, mode: ClientAuth, with_cert: bool) -> None:
    pair = _client_auth_pair(backend, mode, with_cert)
    _c_info, s_info = pair.handshake()
    sent = with_cert and mode is not ClientAuth.NONE
    expected = tuple(issued("p256", "client.example").der_chain()) if sent else ()
    assert s_info.peer_certificates == expected
    assert s_info.signature_scheme == (0x0403 if sent else EXPECTED_SCHEME["p256"])
    pair.client.send(b"hi")
    pair.pump()
    assert pair.server.events() == [ApplicationData(b"hi")]


def test_client_auth_required_without_certificate(backend: Any) -> None:
    log = KeyLog()
    pair = _client_auth_pair(backend, ClientAuth.REQUIRED, False, key_log=log)
    pair.server.receive_data(pair.client.data_to_send())
    pair.client.receive_data(pair.server.data_to_send())
    with pytest.raises(CertificateRequired):
        pair.server.receive_data(pair.client.data_to_send())
    wire = pair.server.data_to_send()
    assert pair.client.handshake_complete  # the client cannot know yet
    suite = pair.client.info.cipher_suite
    alert = read_alert(wire, suite, log, SERVER_SECRETS)
    assert alert.payload == b"\x02\x74"  # fatal certificate_required (116)
    assert alert.encrypted and alert.secret_label == "SERVER_TRAFFIC_SECRET_0"
    assert pair.server.state is ConnectionState.ERROR
    with pytest.raises(AlertReceived) as exc:
        pair.client.receive_data(wire)
    assert exc.value.description == 116


# --------------------------------------------------------------------------- KeyUpdate


def test_key_update_both_directions(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend), server_config(backend))
    pair.handshake()
    pair.client.update_keys(request_peer_update=True)
    pair.pump()
    assert pair.server.events() == [KeyUpdated(update_requested=True)]
    # the server answered with its own KeyUpdate (not requesting another)
    assert pair.client.events() == [KeyUpdated(update_requested=False)]
    pair.client.send(b"c1")
    pair.server.send(b"s1")
    pair.pump()
    assert pair.server.events() == [ApplicationData(b"c1")]
    assert pair.client.events() == [ApplicationData(b"s1")]

    pair.server.update_keys(request_peer_update=False)
    pair.server.send(b"s2")
    pair.pump()
    assert pair.client.events() == [KeyUpdated(update_requested=False), ApplicationData(b"s2")]
    assert pair.server.events() == []
    pair.client.send(b"c2")
    pair.pump()
    assert pair.server.events() == [ApplicationData(b"c2")]
    exp = pair.client.export_keying_material(EXPORT_LABEL, b"", 16)
    assert exp == pair.server.export_keying_material(EXPORT_LABEL, b"", 16)


# --------------------------------------------------------------------------- ALPN


@pytest.mark.parametrize(
    "client_alpn,server_alpn,expected",
    [
        (("h2", "http/1.1"), ("http/1.1", "h2"), "http/1.1"),  # the server's preference wins
        (("h2", "http/1.1"), ("h2",), "h2"),
        ((), ("h2",), None),
        (("h2",), (), None),
    ],
)
def test_alpn(
    backend: Any, client_alpn: tuple[str, ...], server_alpn: tuple[str, ...], expected: str | None
) -> None:
    pair = ConnectionPair(
        client_config(backend, alpn_protocols=client_alpn),
        server_config(backend, alpn_protocols=server_alpn),
    )
    c_info, s_info = pair.handshake()
    assert c_info.alpn_protocol == s_info.alpn_protocol == expected


def test_alpn_no_overlap(backend: Any) -> None:
    pair = ConnectionPair(
        client_config(backend, alpn_protocols=("h2",)),
        server_config(backend, alpn_protocols=("http/1.1",)),
    )
    with pytest.raises(NoApplicationProtocol):
        pair.server.receive_data(pair.client.data_to_send())
    wire = pair.server.data_to_send()
    assert wire == b"\x15\x03\x03\x00\x02\x02\x78"  # plaintext fatal no_application_protocol
    with pytest.raises(AlertReceived) as exc:
        pair.client.receive_data(wire)
    assert exc.value.description == 120


# --------------------------------------------------------------------------- certificate selection


def test_sni_selects_certificate_by_name(backend: Any) -> None:
    certs = (
        certified("p256", "a.example"),
        certified("p384", "b.example"),
        certified("p256", "*.c.example"),
    )
    for host, kind, names in [
        ("a.example", "p256", ("a.example",)),
        ("b.example", "p384", ("b.example",)),
        ("x.c.example", "p256", ("*.c.example",)),
    ]:
        pair = ConnectionPair(
            client_config(backend), server_config(backend, certificates=certs), host
        )
        c_info, s_info = pair.handshake()
        assert c_info.peer_certificates[0] == leaf_der(kind, *names)
        assert s_info.server_name == host


@pytest.mark.parametrize(
    "schemes,kind",
    [((0x0804,), "rsa2048"), ((0x0403,), "p256"), ((0x0804, 0x0403), "rsa2048")],
)
def test_certificate_selected_by_signature_scheme(
    backend: Any, schemes: tuple[int, ...], kind: str
) -> None:
    certs = (certified("rsa2048", "dual.example"), certified("p256", "dual.example"))
    pair = ConnectionPair(
        client_config(backend, signature_schemes=schemes),
        server_config(backend, certificates=certs),
        "dual.example",
    )
    c_info, s_info = pair.handshake()
    assert c_info.peer_certificates[0] == leaf_der(kind, "dual.example")
    assert c_info.signature_scheme == s_info.signature_scheme == schemes[0]


# --------------------------------------------------------------------------- key log


def test_key_log_lines(backend: Any) -> None:
    c_log, s_log = KeyLog(), KeyLog()
    pair = ConnectionPair(
        client_config(backend, key_log=c_log, cipher_suites=(0x1302,)),
        server_config(backend, key_log=s_log),
    )
    pair.handshake()
    client_random = split_records(pair.c2s[0])[0][1][11:43]
    labels = [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "EXPORTER_SECRET",
    ]
    for log in (c_log, s_log):
        assert sorted(lab for lab, _, _ in log.entries()) == sorted(labels)
        for line in log.lines:
            _label, random_hex, secret_hex = line.split(" ")
            assert random_hex == client_random.hex()
            assert len(secret_hex) == 96 and secret_hex == secret_hex.lower()  # SHA-384
    assert sorted(c_log.lines) == sorted(s_log.lines)
    # the logged secrets are the real ones: they open the server's protected flight
    records = [r for t, r in split_records(pair.s2c[0]) if t == 23]
    inner_type, content = open_record(
        0x1302, s_log.secret("SERVER_HANDSHAKE_TRAFFIC_SECRET"), 0, records[0]
    )
    assert inner_type == CT_HANDSHAKE and content[0] == 8  # EncryptedExtensions first
    pair.client.send(b"logged")
    data = pair.client.data_to_send()
    assert open_record(0x1302, c_log.secret("CLIENT_TRAFFIC_SECRET_0"), 0, data) == (23, b"logged")
    assert all(
        lab in CLIENT_SECRETS + SERVER_SECRETS + ("EXPORTER_SECRET",)
        for lab, _, _ in c_log.entries()
    )


def test_no_key_log_by_default(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend), server_config(backend))
    pair.handshake()
    assert pair.client.config.key_log is None


# --------------------------------------------------------------------------- delivery


def _summary(events: list[Any]) -> list[Any]:
    """Events as comparable values; adjacent ApplicationData events are merged, since
    how a byte stream is cut into events depends on how it was delivered."""
    out: list[Any] = []
    for e in events:
        if isinstance(e, ApplicationData) and out and isinstance(out[-1], ApplicationData):
            out[-1] = ApplicationData(out[-1].data + e.data)
        elif isinstance(e, HandshakeComplete):
            out.append(
                ("hc", e.cipher_suite, e.group, e.alpn_protocol, e.server_name, e.signature_scheme)
            )
        else:
            out.append(e)
    return out


def _scripted(backend: Any, deliver: Any) -> tuple[list[Any], list[Any]]:
    """The same conversation with a chosen delivery function for client->server bytes."""
    pair = ConnectionPair(
        client_config(backend, alpn_protocols=("h2",), cipher_suites=(0x1303,)),
        server_config(backend, alpn_protocols=("h2",)),
    )
    server_events: list[Any] = []
    client_events: list[Any] = []

    def to_server(data: bytes) -> None:
        deliver(pair.server, data)
        server_events.extend(pair.server.events())

    to_server(pair.client.data_to_send())
    deliver(pair.client, pair.server.data_to_send())
    client_events.extend(pair.client.events())
    to_server(pair.client.data_to_send())
    pair.client.send(b"first")
    pair.client.send(b"second" * 3000)
    pair.client.update_keys(request_peer_update=False)
    pair.client.send(b"third")
    pair.client.close()
    to_server(pair.client.data_to_send())
    pair.server.send(b"reply")
    pair.server.close()
    deliver(pair.client, pair.server.data_to_send())
    client_events.extend(pair.client.events())
    assert pair.client.state is pair.server.state is ConnectionState.CLOSED
    return _summary(server_events), _summary(client_events)


def _whole(conn: Any, data: bytes) -> None:
    conn.receive_data(data)


def _byte_by_byte(conn: Any, data: bytes) -> None:
    for i in range(len(data)):
        conn.receive_data(data[i : i + 1])


def test_byte_split_delivery_gives_same_events(backend: Any) -> None:
    whole = _scripted(backend, _whole)
    split = _scripted(backend, _byte_by_byte)
    assert split == whole
    server_events, client_events = whole
    assert server_events[0] == ("hc", 0x1303, X25519MLKEM768, "h2", SERVER_NAME, 0x0403)
    assert server_events[1:] == [
        ApplicationData(b"first" + b"second" * 3000),  # three records, merged by _summary
        KeyUpdated(update_requested=False),
        ApplicationData(b"third"),
        ConnectionClosed(),
    ]
    assert client_events[1:] == [ApplicationData(b"reply"), ConnectionClosed()]


def test_coalesced_delivery(backend: Any) -> None:
    """Client Finished + application data + close_notify arrive in one receive_data call."""
    pair = ConnectionPair(client_config(backend), server_config(backend))
    pair.server.receive_data(pair.client.data_to_send())
    pair.client.receive_data(pair.server.data_to_send())
    assert [type(e) for e in pair.client.events()] == [HandshakeComplete]
    pair.client.send(b"a")
    pair.client.send(b"b")
    pair.client.close()
    flight = pair.client.data_to_send()
    assert len(split_records(flight)) >= 5  # [CCS] Finished, a, b, close_notify
    pair.server.receive_data(flight)
    events = pair.server.events()
    # the two application-data records are opened by one backend call: one event
    assert [type(e) for e in events] == [HandshakeComplete, ApplicationData, ConnectionClosed]
    assert events[1] == ApplicationData(b"ab")
    assert pair.server.next_event() is NEED_DATA


def test_server_flight_is_coalesced(backend: Any) -> None:
    """EE, Certificate, CertificateVerify and Finished travel in one protected record."""
    pair = ConnectionPair(client_config(backend, middlebox_compat=False), server_config(backend))
    pair.handshake()
    types = [t for t, _ in split_records(pair.s2c[0])]
    assert types == [22, 23]
