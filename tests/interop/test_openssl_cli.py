"""ferrotls against the ``openssl`` CLI (3.0): ``s_server`` and ``s_client`` on 127.0.0.1.

* ferrotls client -> ``openssl s_server -tls1_3 -accept 127.0.0.1:0 -naccept 1`` in its
  default (echo to stdout) mode; commands typed on its stdin: ``K``/``k`` KeyUpdate,
  ``q`` close the connection (close_notify).
* ``openssl s_client -connect 127.0.0.1:PORT -tls1_3`` -> a threaded ferrotls server
  (``peers.FerroServer``) that echoes with an ``echo:`` prefix; ``K``/``k`` and ``Q`` on
  s_client's stdin send a KeyUpdate / close_notify.

Every wait is bounded (``peers.TIMEOUT``); subprocesses are always killed.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any, Self

import pytest
from ferrotls.config import DEFAULT_CIPHER_SUITES, DEFAULT_GROUPS, ClientAuth
from ferrotls.connection import ClientConnection, ConnectionState, ServerConnection
from ferrotls.errors import AlertDescription, AlertReceived, CertificateRequired, TruncationError
from ferrotls.events import KeyUpdated
from ferrotls.suites import CipherSuite, NamedGroup

from .peers import (
    OTHER_NAME,
    PKI,
    SERVER_NAME,
    FerroServer,
    FerroSocket,
    client_config,
    connect,
    contains_hrr,
    echo_handler,
    ferrotls_cli,
    ferrotls_cli_server,
    openssl_client,
    openssl_server,
    server_config,
)

pytestmark = [pytest.mark.interop, pytest.mark.usefixtures("openssl_bin")]

SUITES: dict[int, str] = {
    CipherSuite.TLS_AES_128_GCM_SHA256: "TLS_AES_128_GCM_SHA256",
    CipherSuite.TLS_AES_256_GCM_SHA384: "TLS_AES_256_GCM_SHA384",
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256: "TLS_CHACHA20_POLY1305_SHA256",
    CipherSuite.TLS_AES_128_CCM_SHA256: "TLS_AES_128_CCM_SHA256",
    CipherSuite.TLS_AES_128_CCM_8_SHA256: "TLS_AES_128_CCM_8_SHA256",
}


def offering(suite: int) -> tuple[int, ...]:
    """The default suites plus ``suite`` (the CCM suites are off by default)."""
    return DEFAULT_CIPHER_SUITES + ((suite,) if suite not in DEFAULT_CIPHER_SUITES else ())
# openssl -groups name, ferrotls group, s_client's "Server Temp Key" text
GROUPS = {
    "X25519": (NamedGroup.X25519, "X25519"),
    "P-256": (NamedGroup.SECP256R1, "ECDH, prime256v1"),
    "P-384": (NamedGroup.SECP384R1, "ECDH, secp384r1"),
    "P-521": (NamedGroup.SECP521R1, "ECDH, secp521r1"),
    "X448": (NamedGroup.X448, "X448"),
}
#: Supported by default, without a default key share (issue #11)
EXTRA_GROUPS = ["P-521", "X448"]


def s_server_args(pki: PKI, leaf: Any = None, *extra: str) -> list[str]:
    leaf = leaf or pki.server_p256
    return ["-cert", str(leaf.cert_pem), "-key", str(leaf.key_pem), *extra]


def s_client_args(pki: PKI, *extra: str, name: str = SERVER_NAME) -> list[str]:
    return [
        "-CAfile",
        str(pki.ca_pem),
        "-verify_return_error",
        "-servername",
        name,
        "-verify_hostname",
        name,
        *extra,
    ]


def converse_with_s_server(server: Any, fs: FerroSocket, tag: str = "x") -> None:
    """Data both ways through s_server's echo mode."""
    fs.send(f"from-ferrotls-{tag}\n".encode())
    server.wait_for(f"from-ferrotls-{tag}".encode())
    server.write(f"from-openssl-{tag}\n".encode())
    fs.read_until(f"from-openssl-{tag}\n".encode())


def close_with_s_server(server: Any, fs: FerroSocket) -> None:
    """ferrotls sends close_notify; s_server answers with its own and exits."""
    fs.close()
    fs.wait_closed()
    assert fs.conn.state is ConnectionState.CLOSED
    assert server.wait() == 0


# --------------------------------------------------------------------------- ferrotls client -> s_server


@pytest.mark.parametrize("suite", list(SUITES), ids=list(SUITES.values()))
def test_client_cipher_suites(backend: Any, pki: PKI, suite: int) -> None:
    with openssl_server(*s_server_args(pki, None, "-ciphersuites", SUITES[suite])) as (
        server,
        port,
    ):
        cfg = client_config(backend, pki, cipher_suites=offering(suite))
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        info = fs.handshake()
        assert info.cipher_suite == suite
        converse_with_s_server(server, fs)
        # several full records each way (8-byte tags with CCM_8)
        fs.send(b"b" * 40_000 + b"\n")
        server.wait_for(b"b" * 1000 + b"\n")
        server.write(b"c" * 40_000 + b"\n")
        assert fs.read_until(b"c" * 1000 + b"\n").count(b"c" * 40_000 + b"\n") == 1
        server.wait_for(f"CIPHER is {SUITES[suite]}".encode())
        close_with_s_server(server, fs)
        fs.shutdown()


@pytest.mark.parametrize("name", list(GROUPS))
def test_client_groups(backend: Any, pki: PKI, name: str) -> None:
    """Default key shares are X25519MLKEM768 + X25519: the other groups need a
    HelloRetryRequest (P-521 and X448 once the client lists them)."""
    group = GROUPS[name][0]
    with openssl_server(*s_server_args(pki, None, "-groups", name)) as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki, groups=DEFAULT_GROUPS), SERVER_NAME), port)
        info = fs.handshake()
        assert info.group == group
        assert contains_hrr(bytes(fs.raw_in)) == (group != NamedGroup.X25519)
        converse_with_s_server(server, fs)
        close_with_s_server(server, fs)
        fs.shutdown()


@pytest.mark.parametrize("name", list(GROUPS))
def test_client_single_key_share_no_retry(backend: Any, pki: PKI, name: str) -> None:
    group = GROUPS[name][0]
    with openssl_server(*s_server_args(pki, None, "-groups", name)) as (server, port):
        cfg = client_config(backend, pki, groups=(group,), key_share_groups=(group,))
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        assert fs.handshake().group == group
        assert not contains_hrr(bytes(fs.raw_in))
        converse_with_s_server(server, fs)
        close_with_s_server(server, fs)
        fs.shutdown()


@pytest.mark.parametrize("leaf", ["server_p384", "server_rsa"])
def test_client_server_key_types(backend: Any, pki: PKI, leaf: str) -> None:
    with openssl_server(*s_server_args(pki, getattr(pki, leaf))) as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        info = fs.handshake()
        assert info.peer_certificates[0] == getattr(pki, leaf).issued.der_chain()[0]
        converse_with_s_server(server, fs)
        close_with_s_server(server, fs)
        fs.shutdown()


@pytest.mark.parametrize("leaf", ["client_p256", "client_rsa"])
def test_client_certificate_to_s_server(backend: Any, pki: PKI, leaf: str) -> None:
    args = s_server_args(
        pki, None, "-CAfile", str(pki.ca_pem), "-Verify", "1", "-verify_return_error"
    )
    with openssl_server(*args) as (server, port):
        cfg = client_config(backend, pki, certificate=getattr(pki, leaf).certified)
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        fs.handshake()
        converse_with_s_server(server, fs)
        server.wait_for(b"verify return:1")
        close_with_s_server(server, fs)
        fs.shutdown()


def test_client_without_certificate_rejected_by_s_server(backend: Any, pki: PKI) -> None:
    args = s_server_args(
        pki, None, "-CAfile", str(pki.ca_pem), "-Verify", "1", "-verify_return_error"
    )
    with openssl_server(*args) as (_server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        fs.handshake()  # TLS 1.3: the client finishes first, the server's verdict comes after
        with pytest.raises(AlertReceived) as info:
            fs.wait_for(lambda: False, "the server's alert")
        assert info.value.description == AlertDescription.CERTIFICATE_REQUIRED
        fs.shutdown()


def test_client_alpn(backend: Any, pki: PKI) -> None:
    with openssl_server(*s_server_args(pki, None, "-alpn", "h2,http/1.1")) as (server, port):
        cfg = client_config(backend, pki, alpn_protocols=("http/1.1", "h2"))
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        info = fs.handshake()
        assert info.alpn_protocol == "h2"  # s_server's preference wins
        converse_with_s_server(server, fs)
        close_with_s_server(server, fs)
        fs.shutdown()


def test_client_sni_selects_s_server_cert2(backend: Any, pki: PKI) -> None:
    # (s_server installs its -alpn callback on the first context only, so ALPN and
    # -servername switching are tested separately.)
    args = s_server_args(
        pki,
        None,
        "-servername",
        OTHER_NAME,
        "-cert2",
        str(pki.server_other.cert_pem),
        "-key2",
        str(pki.server_other.key_pem),
    )
    with openssl_server(*args) as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), OTHER_NAME), port)
        info = fs.handshake()  # verifies the certificate for OTHER_NAME: cert2 was chosen
        assert info.peer_certificates[0] == pki.server_other.issued.der_chain()[0]
        server.wait_for(f'Hostname in TLS extension: "{OTHER_NAME}"'.encode())
        server.wait_for(b"Switching server context.")
        converse_with_s_server(server, fs)
        close_with_s_server(server, fs)
        fs.shutdown()


def test_client_key_updates_with_s_server(backend: Any, pki: PKI) -> None:
    with openssl_server(*s_server_args(pki)) as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        fs.handshake()
        converse_with_s_server(server, fs, "0")
        # ferrotls asks for an update: s_server answers with its own KeyUpdate
        fs.conn.update_keys(request_peer_update=True)
        fs.flush()
        converse_with_s_server(server, fs, "1")
        assert fs.key_updates() == [KeyUpdated(update_requested=False)]
        # s_server "K": update and request ours
        server.write(b"K\n")
        fs.wait_for(lambda: len(fs.key_updates()) == 2, "s_server's KeyUpdate")
        assert fs.key_updates()[1] == KeyUpdated(update_requested=True)
        converse_with_s_server(server, fs, "2")
        # s_server "k": update without a request
        server.write(b"k\n")
        fs.wait_for(lambda: len(fs.key_updates()) == 3, "s_server's KeyUpdate")
        assert fs.key_updates()[2] == KeyUpdated(update_requested=False)
        converse_with_s_server(server, fs, "3")
        close_with_s_server(server, fs)
        fs.shutdown()


def test_s_server_quit_without_close_notify_is_truncation(backend: Any, pki: PKI) -> None:
    """s_server's "q" closes the socket before SSL_shutdown: ferrotls reports truncation."""
    with openssl_server(*s_server_args(pki)) as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        fs.handshake()
        converse_with_s_server(server, fs)
        server.write(b"q\n")
        with pytest.raises(TruncationError):
            fs.wait_for(lambda: False, "EOF")
        assert fs.conn.state is ConnectionState.ERROR
        assert server.wait() == 0
        fs.shutdown()


def test_client_against_s_server_www(backend: Any, pki: PKI) -> None:
    with openssl_server(*s_server_args(pki, None, "-www")) as (_server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        info = fs.handshake()
        fs.send(b"GET / HTTP/1.0\r\n\r\n")
        fs.wait_closed()  # s_server -www answers, then sends close_notify
        page = bytes(fs.data).decode("latin-1")
        assert page.startswith("HTTP/1.0 200 ok")
        assert f"New, TLSv1.3, Cipher is {SUITES[info.cipher_suite]}" in page
        fs.close()
        fs.shutdown()


def test_client_bulk_data_to_s_server(backend: Any, pki: PKI) -> None:
    """100 KB through s_server's echo: s_server prints what it receives."""
    with openssl_server(*s_server_args(pki)) as (server, port):
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), port)
        fs.handshake()
        lines = b"".join(b"line %06d %s\n" % (i, b"z" * 80) for i in range(1200))
        fs.send(lines)
        server.wait_for(b"line 001199 ")
        assert lines in bytes(server.output)
        close_with_s_server(server, fs)
        fs.shutdown()


# --------------------------------------------------------------------------- s_client -> ferrotls server


class SClientSession:
    """A FerroServer plus an s_client connected to it, closed together."""

    def __init__(
        self,
        backend: Any,
        pki: PKI,
        *client_args: str,
        name: str = SERVER_NAME,
        handler: Any = echo_handler,
        expect_error: bool = False,
        **server_kw: Any,
    ) -> None:
        cfg = server_config(backend, pki, **server_kw)
        self.server = FerroServer(lambda: ServerConnection(cfg), handler, expect_error=expect_error)
        self.args = s_client_args(pki, *client_args, name=name)

    def __enter__(self) -> Self:
        self.server.__enter__()
        self._client_cm = openssl_client(self.server.port, *self.args)
        self.client = self._client_cm.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._client_cm.__exit__(exc_type, exc, tb)
        finally:
            self.server.__exit__(exc_type, exc, tb)

    def say(self, tag: str) -> None:
        """A line through s_client to the ferrotls server and its echo back."""
        self.client.write(f"from-openssl-{tag}\n".encode())
        self.client.wait_for(f"echo:from-openssl-{tag}".encode())


CONNECTED = re.compile(rb"Verify return code: 0 \(ok\)")


@pytest.mark.parametrize("suite", list(SUITES), ids=list(SUITES.values()))
def test_s_client_cipher_suites(backend: Any, pki: PKI, suite: int) -> None:
    with SClientSession(
        backend, pki, "-ciphersuites", SUITES[suite], cipher_suites=offering(suite)
    ) as s:
        s.client.wait_for(CONNECTED)
        s.client.wait_for(f"Cipher is {SUITES[suite]}".encode())
        s.say("a")
        s.client.write(b"Q\n")
        assert s.client.wait() == 0
    assert s.server.fs is not None and s.server.fs.conn.info.cipher_suite == suite
    assert s.server.fs.peer_closed


@pytest.mark.parametrize("name", list(GROUPS))
def test_s_client_groups(backend: Any, pki: PKI, name: str) -> None:
    group, temp_key = GROUPS[name]
    with SClientSession(backend, pki, "-groups", name) as s:
        s.client.wait_for(f"Server Temp Key: {temp_key}".encode())
        s.say("g")
        s.client.write(b"Q\n")
        s.client.wait()
    fs = s.server.fs
    assert fs is not None and fs.conn.info.group == group
    assert not contains_hrr(bytes(fs.raw_out))


def test_s_client_hello_retry_request(backend: Any, pki: PKI) -> None:
    """s_client -groups P-256:X25519 sends only a P-256 share; an X25519-only server retries."""
    with SClientSession(backend, pki, "-groups", "P-256:X25519", groups=(NamedGroup.X25519,)) as s:
        s.client.wait_for(b"Server Temp Key: X25519")
        s.say("hrr")
        s.client.write(b"Q\n")
        s.client.wait()
    fs = s.server.fs
    assert fs is not None and fs.conn.info.group == NamedGroup.X25519
    assert contains_hrr(bytes(fs.raw_out))


@pytest.mark.parametrize("leaf", ["server_p384", "server_rsa"])
def test_s_client_server_key_types(backend: Any, pki: PKI, leaf: str) -> None:
    with SClientSession(backend, pki, leaf=getattr(pki, leaf)) as s:
        s.client.wait_for(CONNECTED)
        s.say("k")
        s.client.write(b"Q\n")
        s.client.wait()


@pytest.mark.parametrize("leaf", ["client_p256", "client_rsa"])
def test_s_client_certificate_to_ferrotls(backend: Any, pki: PKI, leaf: str) -> None:
    client_leaf = getattr(pki, leaf)
    with SClientSession(
        backend,
        pki,
        "-cert",
        str(client_leaf.cert_pem),
        "-key",
        str(client_leaf.key_pem),
        client_auth=ClientAuth.REQUIRED,
    ) as s:
        s.client.wait_for(CONNECTED)
        s.say("c")
        s.client.write(b"Q\n")
        s.client.wait()
    fs = s.server.fs
    assert fs is not None
    assert fs.conn.info.peer_certificates[0] == client_leaf.issued.der_chain()[0]


def test_s_client_without_certificate_rejected(backend: Any, pki: PKI) -> None:
    with SClientSession(backend, pki, client_auth=ClientAuth.REQUIRED, expect_error=True) as s:
        s.client.wait_for(re.compile(rb"alert certificate required|alert number 116"))
        s.client.wait()
    assert isinstance(s.server.error, CertificateRequired)


def test_s_client_alpn_and_sni(backend: Any, pki: PKI) -> None:
    certs = (pki.server_p256.certified, pki.server_other.certified)
    with SClientSession(
        backend,
        pki,
        "-alpn",
        "h2,http/1.1",
        name=OTHER_NAME,
        certificates=certs,
        alpn_protocols=("http/1.1", "h2"),
    ) as s:
        s.client.wait_for(CONNECTED)  # -verify_hostname OTHER_NAME: the right certificate
        s.client.wait_for(b"ALPN protocol: http/1.1")
        s.say("alpn")
        s.client.write(b"Q\n")
        s.client.wait()
    fs = s.server.fs
    assert fs is not None
    assert fs.conn.info.server_name == OTHER_NAME
    assert fs.conn.info.alpn_protocol == "http/1.1"


def test_s_client_key_updates(backend: Any, pki: PKI) -> None:
    with SClientSession(backend, pki) as s:
        s.client.wait_for(CONNECTED)
        s.say("0")
        s.client.write(b"K\n")  # KeyUpdate, update_requested
        s.client.wait_for(b"KEYUPDATE")
        s.say("1")
        s.client.write(b"k\n")  # KeyUpdate, not requested
        # s_client takes a whole stdin read as one command: wait before the next line
        s.client.wait_for(re.compile(rb"KEYUPDATE[\s\S]*KEYUPDATE"))
        s.say("2")
        s.client.write(b"Q\n")
        assert s.client.wait() == 0
    fs = s.server.fs
    assert fs is not None
    assert fs.key_updates() == [KeyUpdated(True), KeyUpdated(False)]
    assert fs.data == b"from-openssl-0\nfrom-openssl-1\nfrom-openssl-2\n"


def _server_updates_then_echoes(fs: FerroSocket) -> FerroSocket:
    fs.handshake()
    fs.read_until(b"first\n")
    fs.conn.update_keys(request_peer_update=True)
    fs.send(b"updated\n")
    fs.wait_for(lambda: bool(fs.key_updates()), "s_client's KeyUpdate answer")
    fs.read_until(b"second\n")
    fs.send(b"got second\n")
    fs.close()  # ferrotls closes first; s_client answers with close_notify
    fs.wait_closed()
    return fs


def test_ferrotls_server_key_update_and_close_to_s_client(backend: Any, pki: PKI) -> None:
    with SClientSession(backend, pki, handler=_server_updates_then_echoes) as s:
        s.client.wait_for(CONNECTED)
        s.client.write(b"first\n")
        s.client.wait_for(b"updated\n")
        s.client.write(b"second\n")  # s_client sends its KeyUpdate answer before this
        s.client.wait_for(b"got second\n")
        s.client.wait_for(b"closed")
        s.client.wait()
    fs = s.server.fs
    assert fs is not None
    assert fs.key_updates() == [KeyUpdated(update_requested=False)]
    assert fs.conn.state is ConnectionState.CLOSED


# --------------------------------------------------------------------------- CLIs: P-521, X448


@pytest.mark.parametrize("name", EXTRA_GROUPS)
def test_s_client_groups_to_ferrotls_server_cli(pki: PKI, name: str) -> None:
    """``openssl s_client -groups NAME`` -> ``ferrotls server --echo`` with its default groups."""
    group, temp_key = GROUPS[name]
    with ferrotls_cli_server(
        "--echo", "--cert", str(pki.server_p256.cert_pem), "--key", str(pki.server_p256.key_pem)
    ) as (server, port):
        with openssl_client(port, *s_client_args(pki, "-groups", name)) as client:
            client.wait_for(CONNECTED)
            client.wait_for(f"Server Temp Key: {temp_key}".encode())
            client.write(f"through {name}\n".encode())
            client.wait_for(f"through {name}\n".encode())  # the echo (s_client prints no input)
            client.write(b"Q\n")
            assert client.wait() == 0
        server.wait_for(f"{NamedGroup(group).name}, client anonymous".encode())
        server.wait_for(b"closed after echoing")


@pytest.mark.parametrize("name", EXTRA_GROUPS)
def test_ferrotls_client_cli_key_share_to_s_server(pki: PKI, name: str) -> None:
    """``ferrotls client --groups NAME`` (one key share) -> ``openssl s_server -groups NAME``."""
    group = GROUPS[name][0]
    with openssl_server(*s_server_args(pki, None, "-groups", name)) as (server, port):
        args = ("client", f"127.0.0.1:{port}", "--ca", str(pki.ca_pem), "--servername", SERVER_NAME,
                "--groups", name)
        with ferrotls_cli(*args) as client:
            client.wait_for(f"Group        : {NamedGroup(group).name}".encode())
            client.write(b"from-ferrotls-cli\n")
            server.wait_for(b"from-ferrotls-cli\n")
            server.write(b"from-openssl\n")
            client.wait_for(b"from-openssl\n")
            client.close_stdin()  # close_notify; s_server answers with its own and exits
            assert client.wait() == 0
            assert server.wait() == 0
        assert "Verification : OK" in client.text
        assert "(close_notify)" in client.text
