"""The version, PSK and TLS 1.2 cipher flags of ``ferrotls client|server|gateway``.

``--tls1_2`` / ``--tls1_3`` (only that version), ``--min-version`` /
``--max-version``, ``--psk-identity ID --psk-hex KEY`` (an external PSK: TLS 1.3
and the TLS 1.2 PSK suites; on a server a one-entry psk_callback) and
``--ciphers`` (TLS 1.2, OpenSSL names).  The peers are ``openssl s_client`` /
``s_server`` (marked interop) and ferrotls itself.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli import LOOPBACK, Files, _interop_opt_in, ferrotls_cmd, ferrotls_server, openssl, run, running
from test_gateway import EchoBackend

__all__ = ["_interop_opt_in"]

PSK_ID = "device-17"
PSK_HEX = "6d1b0e5e7c2a4f1f9b1c3e8a2d4c6b8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8"
OTHER_HEX = "00" * 32


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("flags-pki"))


def s_client(port: int, *args: str, echo: bool = True) -> tuple[int, str, str]:
    """``openssl s_client``: sends "ping", waits for the echo (if ``echo``), then closes stdin."""
    with running(openssl("s_client", "-connect", f"{LOOPBACK}:{port}", *args), stdin_pipe=True) as proc:
        proc.write(b"ping\n")
        if echo:
            proc.wait_for(re.compile(rb"\nping\n"))
        proc.close_stdin()
        rc = proc.wait()
        return rc, proc.out.decode(errors="replace"), proc.err.decode(errors="replace")


@contextlib.contextmanager
def s_server(*args: str) -> Iterator[int]:
    with running(openssl("s_server", "-accept", f"{LOOPBACK}:0", *args), stdin_pipe=True) as proc:
        m = proc.wait_for(re.compile(rb"ACCEPT 127\.0\.0\.1:(\d+)"))
        yield int(m.group(1))


# --------------------------------------------------------------------------- openssl as the client


@pytest.mark.interop
def test_openssl_tls12_psk_against_ferrotls_server() -> None:
    with ferrotls_server("--echo", "--workers", "1", "--psk-identity", PSK_ID, "--psk-hex", PSK_HEX) as (srv, port):
        rc, out, err = s_client(port, "-tls1_2", "-psk", PSK_HEX, "-psk_identity", PSK_ID,
                                "-cipher", "PSK-AES128-GCM-SHA256")
        assert "New, TLSv1.2, Cipher is PSK-AES128-GCM-SHA256" in out, out + err
        assert "\nping\n" in out  # echoed
        srv.wait_for(b"connected (PSK-AES128-GCM-SHA256", stream="err")
        srv.wait_for(b"client psk:device-17", stream="err")
        # the wrong key: the handshake fails (decrypt_error / bad_record_mac), nothing echoed
        rc, out, err = s_client(port, "-tls1_2", "-psk", OTHER_HEX, "-psk_identity", PSK_ID,
                                "-cipher", "PSK-AES128-GCM-SHA256", echo=False)
        assert "alert bad record mac" in err and "\nping\n" not in out, out + err
        srv.wait_for(b"handshake failed: BadRecordMac", stream="err")


@pytest.mark.interop
def test_openssl_tls13_psk_against_ferrotls_server_tls1_3_only() -> None:
    with ferrotls_server("--echo", "--workers", "1", "--tls1_3", "--psk-identity", PSK_ID,
                         "--psk-hex", PSK_HEX) as (srv, port):
        rc, out, err = s_client(port, "-tls1_3", "-psk", PSK_HEX, "-psk_identity", PSK_ID)
        assert "TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256" in out, out + err
        assert "\nping\n" in out
        srv.wait_for(b"client psk:device-17", stream="err")
        # --tls1_3: a TLS 1.2-only client is refused
        rc, out, err = s_client(port, "-tls1_2", echo=False)
        assert rc != 0 and "Cipher is" not in out.replace("Cipher is (NONE)", "")
        assert "protocol version" in (out + err).lower() or "alert" in (out + err).lower()


@pytest.mark.interop
def test_openssl_tls12_certificate_suite_chosen_by_ciphers(files: Files) -> None:
    with ferrotls_server("--echo", "--workers", "1", "--tls1_2", "--cert", files.ec_cert, "--key", files.ec_key,
                         "--ciphers", "ECDHE-ECDSA-CHACHA20-POLY1305") as (_srv, port):
        rc, out, err = s_client(port, "-CAfile", files.ca, "-servername", "localhost")
        assert "New, TLSv1.2, Cipher is ECDHE-ECDSA-CHACHA20-POLY1305" in out, out + err
        assert "Verify return code: 0 (ok)" in out
        # a client offering only a suite the server does not allow: handshake failure
        rc, out, err = s_client(port, "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-tls1_2", echo=False)
        assert "Cipher is ECDHE" not in out


_NO_EMS_CONF = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -ExtendedMasterSecret
"""


@pytest.mark.interop
def test_allow_no_ems_lets_a_client_without_ems_in(
    files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """s_client without extended_master_secret (OpenSSL config ``Options =
    -ExtendedMasterSecret``): refused by default (handshake_failure), let in with
    ``--allow-no-ems``."""
    conf = tmp_path / "no-ems.cnf"
    conf.write_text(_NO_EMS_CONF)
    monkeypatch.setenv("OPENSSL_CONF", str(conf))
    common = ("--echo", "--workers", "1", "--tls1_2", "--cert", files.ec_cert, "--key", files.ec_key)
    with ferrotls_server(*common) as (srv, port):
        rc, out, err = s_client(port, "-CAfile", files.ca, "-servername", "localhost", echo=False)
        assert "Cipher is ECDHE" not in out and "handshake failure" in out + err
        srv.wait_for(b"extended_master_secret", stream="err")
    with ferrotls_server(*common, "--allow-no-ems") as (srv, port):
        rc, out, err = s_client(port, "-CAfile", files.ca, "-servername", "localhost")
        assert "New, TLSv1.2, Cipher is ECDHE" in out, out + err
        assert "Extended master secret: no" in out


@pytest.mark.interop
def test_openssl_psk_through_the_gateway() -> None:
    backend = EchoBackend()
    try:
        with ferrotls_server("gateway", "--workers", "2", "--accept", f"{LOOPBACK}:0",
                             "--connect", f"{LOOPBACK}:{backend.port}", "--tls1_2",
                             "--psk-identity", PSK_ID, "--psk-hex", PSK_HEX) as (gw, port):
            rc, out, err = s_client(port, "-tls1_2", "-psk", PSK_HEX, "-psk_identity", PSK_ID,
                                    "-cipher", "PSK-AES128-GCM-SHA256")
            assert "Cipher is PSK-AES128-GCM-SHA256" in out and "\nping\n" in out, out + err
            gw.wait_for(re.compile(rb"identity=psk:device-17 worker=\d up=5 down=5"), stream="err")
    finally:
        backend.stop()


# --------------------------------------------------------------------------- ferrotls as the client


@pytest.mark.interop
@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_ferrotls_client_psk_against_openssl_s_server(version: str) -> None:
    flag = "-tls1_2" if version == "1.2" else "-tls1_3"
    with s_server(flag, "-nocert", "-psk", PSK_HEX, "-psk_identity", PSK_ID,
                  *(["-cipher", "PSK-AES128-GCM-SHA256"] if version == "1.2" else [])) as port:
        rc, out, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--psk-identity", PSK_ID,
                                        "--psk-hex", PSK_HEX, f"--tls1_{version[-1]}"),
                           stdin=b"hello\n")
    assert f"Protocol     : TLSv{version}" in err, err
    expected = "PSK-AES128-GCM-SHA256" if version == "1.2" else "TLS_AES_128_GCM_SHA256"
    assert f"Cipher suite : {expected}" in err
    assert "Verification : external PSK 'device-17'" in err


@pytest.mark.interop
def test_ferrotls_client_version_bounds_against_openssl(files: Files) -> None:
    with s_server("-tls1_2", "-www", "-cert", files.ec_cert, "-key", files.ec_key) as port:
        common = ("--ca", files.ca, "--servername", "localhost")
        rc, out, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", *common, "--min-version", "1.3"),
                           stdin=b"GET / HTTP/1.0\r\n\r\n")
        assert rc == 1 and "handshake failed" in err, err
        rc, out, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", *common, "--max-version", "1.2",
                                        "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"),
                           stdin=b"GET / HTTP/1.0\r\n\r\n")
        assert rc == 0, err
        assert "Protocol     : TLSv1.2" in err and "Cipher suite : ECDHE-ECDSA-AES256-GCM-SHA384" in err
        assert "Cipher    : ECDHE-ECDSA-AES256-GCM-SHA384" in out  # what s_server -www saw


def test_ferrotls_client_and_server_psk_and_versions(files: Files) -> None:
    with ferrotls_server("--echo", "--workers", "1", "--cert", files.ec_cert, "--key", files.ec_key,
                         "--psk-identity", PSK_ID, "--psk-hex", PSK_HEX) as (_srv, port):
        base = ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--ca", files.ca, "--servername", "localhost")
        rc, out, err = run([*base, "--tls1_2"], stdin=b"x")
        assert rc == 0 and "Protocol     : TLSv1.2" in err and out == "x", err
        rc, out, err = run([*base, "--tls1_2", "--psk-identity", PSK_ID, "--psk-hex", PSK_HEX,
                            "--ciphers", "ECDHE-PSK-CHACHA20-POLY1305"], stdin=b"y")
        assert rc == 0 and "Cipher suite : ECDHE-PSK-CHACHA20-POLY1305" in err and out == "y", err
        rc, out, err = run([*base, "--tls1_3", "--psk-identity", PSK_ID, "--psk-hex", PSK_HEX], stdin=b"z")
        assert rc == 0 and "Protocol     : TLSv1.3" in err and "external PSK" in err and out == "z", err
        rc, out, err = run([*base, "--tls1_3", "--psk-identity", PSK_ID, "--psk-hex", OTHER_HEX], stdin=b"z")
        assert rc == 1 and "handshake failed" in err


@pytest.mark.parametrize("bad, message", [
    (["--psk-identity", "x"], "--psk-identity and --psk-hex go together"),
    (["--psk-identity", "x", "--psk-hex", "zz"], "--psk-hex: not a hex string"),
    (["--min-version", "1.3", "--max-version", "1.2"], "above --max-version"),
    (["--ciphers", "NO-SUCH-CIPHER"], "No cipher can be selected"),
    (["--ciphers", "AES128-SHA"], "selects no TLS 1.2 suite ferrotls implements"),
])
def test_bad_flags_exit_2(bad: list[str], message: str) -> None:
    rc, _, err = run(ferrotls_cmd("client", f"{LOOPBACK}:1", *bad))
    assert rc == 2 and message in err, err
    rc, _, err = run(ferrotls_cmd("server", "--port", "0", *bad))
    assert rc == 2 and message in err, err


def test_tls1_2_and_tls1_3_are_exclusive() -> None:
    rc, _, err = run(ferrotls_cmd("client", f"{LOOPBACK}:1", "--tls1_2", "--tls1_3"))
    assert rc == 2 and "not allowed with argument" in err
