"""The ``ferrotls`` command line (also ``python -m ferrotls``).

Each subcommand is one row of :data:`COMMANDS`: its name, the module that
adds its options and runs it (``add_arguments(parser)`` and ``main(args)``,
see :class:`Subcommand`) and the text ``--help`` prints.  See docs/cli.md for
examples.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .. import __version__
from . import bench, client, demo, gateway, info, server

__all__ = ["COMMANDS", "Command", "Subcommand", "build_parser", "main"]


class Subcommand(Protocol):
    """What the module behind a subcommand provides."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the subcommand's options to its parser."""

    def main(self, args: argparse.Namespace) -> int:
        """Run it with the parsed options; returns the exit status."""


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, its module and what ``--help`` says about it."""

    name: str
    module: Subcommand
    help: str
    """The one line in ``ferrotls --help``."""
    description: str
    """The paragraphs of ``ferrotls NAME --help``."""
    epilog: str = ""
    """Examples, after the options."""


# What `--help` prints: plain text for people at a terminal.  The module
# docstrings are for readers of the code and the API reference.
DESCRIPTION = """\
TLS 1.3 for Python, with the record layer in Rust: a client, a test server, a
TLS-terminating gateway, benchmarks and a demonstration.

Run "ferrotls COMMAND --help" for the options of each command."""

COMMANDS: tuple[Command, ...] = (
    Command(
        "info", info,
        "version, active backend and native build features",
        """\
Print the ferrotls and Python versions, the crypto backend in use (chosen by
the FERROTLS_BACKEND environment variable: auto, native or python) and what
each available backend was built with.""",
    ),
    Command(
        "demo", demo,
        "run the live demonstration",
        """\
A ferrotls server on 127.0.0.1 with a throw-away certificate, a ferrotls client
and a Python ssl client connecting to it and what they negotiated; then bulk
throughput per backend, and the primitives beside pyca/cryptography.""",
    ),
    Command(
        "client", client,
        "connect to a TLS server (like openssl s_client)",
        """\
Connect to HOST:PORT, run the TLS 1.3 handshake and print a summary on stderr:
version, cipher suite, key-exchange group, ALPN, the server's certificate
chain, the verification result and the handshake time. Then copy stdin to the
connection and the connection to stdout. At the end of stdin the client sends
close_notify and keeps reading until the server closes.

Exit status: 0 on a clean close, 1 if the connection, the handshake or the
certificate verification fails (the reason is printed), 2 for bad options.""",
        """\
examples:
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | ferrotls client 127.0.0.1:8443 --ca ca.pem
  ferrotls client localhost:8443 --ca ca.pem --alpn h2,http/1.1
  ferrotls client 127.0.0.1:8443 --insecure      (no verification: testing only)""",
    ),
    Command(
        "server", server,
        "a TLS test server: HTTP page or echo (like openssl s_server)",
        """\
A TLS 1.3 test server. By default it answers every HTTP request with a page
describing the connection (protocol, cipher suite, group, ALPN, SNI, client
certificate); with --echo it sends back every byte it receives until the
client's close_notify.

Without --cert it makes a throw-away CA and certificate for localhost and
127.0.0.1, prints the certificate's SHA-256 fingerprint and, with
--write-ca FILE, writes the CA certificate that clients must trust.

It serves many clients at once, in --workers processes (default: one per
CPU) that share the port, the session-ticket keys and the 0-RTT strike
register (or, with --redis, share them with other instances). A client whose
handshake fails gets an alert and a line in the log, and the others are not
affected. It prints "listening on HOST:PORT" once ready. SIGHUP reloads the
certificates and ticket keys; SIGTERM or Ctrl-C stops accepting, lets open
connections finish (--drain-timeout), closes the rest and exits 0.""",
        """\
examples:
  ferrotls server --port 8443 --write-ca ca.pem
  ferrotls server --port 8443 --echo --cert server.pem --key server.key
  ferrotls server --port 8443 --cert server.pem --key server.key --ca clients-ca.pem""",
    ),
    Command(
        "gateway", gateway,
        "TLS-terminating forwarder (like stunnel)",
        """\
Forward connections between TLS and plain TCP.

By default (server mode) it accepts TLS on --accept and forwards the plaintext
to --connect. With --client it accepts plain TCP on --accept and opens TLS
connections to the server at --connect (--ca, --servername, --insecure,
--cert and --key then apply to that connection).

Each connection ends with one log line on stderr: the peer, its identity,
bytes each way, duration and why it closed. A client that does not finish its
handshake within --handshake-timeout seconds is dropped; if the backend cannot
be reached or goes away, the TLS side is closed cleanly.

--workers N processes (default: one per CPU) accept on the same port and share
the session-ticket keys and the 0-RTT strike register, so a client resumes on
any of them; --redis URL --kek-file PATH shares both with other instances. A
worker that dies is restarted. SIGHUP reloads the certificates and ticket keys
without touching open connections; SIGTERM or Ctrl-C stops accepting, lets
open connections finish (--drain-timeout), closes the rest with close_notify
and exits 0.""",
        """\
examples:
  ferrotls gateway --accept 127.0.0.1:8443 --connect 127.0.0.1:8080 --cert server.pem --key server.key
  ferrotls gateway --client --accept 127.0.0.1:8080 --connect localhost:8443 --ca ca.pem
  ferrotls gateway --workers 4 --accept 0.0.0.0:8443 --connect 127.0.0.1:8080 --cert server.pem \\
      --key server.key --redis redis://10.0.0.5:6379/0 --kek-file /etc/ferrotls/kek""",
    ),
    Command(
        "bench", bench,
        "throughput and handshakes/s vs the ssl module",
        """\
Measure ferrotls (native and python backends) beside Python's ssl module
(OpenSSL) on this machine:

  bulk        MB/s per cipher suite and write size
  small       64-byte messages per second
  handshakes  full handshakes per second (X25519, an ECDSA P-256 certificate,
              chain verification)

By default everything runs in memory in one thread. --sockets measures over
127.0.0.1 sockets instead, with the server in a thread: bulk MB/s, request and
reply round trips, one-way messages and connections per second. --modes
compares handshake kinds (bytes on the wire, round trips, handshakes/s).

Where the ssl module cannot choose a TLS 1.3 cipher suite, its rows use
OpenSSL's default suite and say so. Ctrl-C stops the run (exit status 130).""",
        """\
examples:
  ferrotls bench --quick
  ferrotls bench --sockets --backend native
  ferrotls bench --chart bench.png      (needs matplotlib)""",
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The ``ferrotls`` argument parser with every subcommand of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="ferrotls", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ferrotls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(
            command.name, help=command.help, description=command.description,
            epilog=command.epilog or None, formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.module.add_arguments(p)
        p.set_defaults(func=command.module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ferrotls`` console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
