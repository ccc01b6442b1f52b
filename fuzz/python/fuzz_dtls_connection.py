"""atheris harness: fuzz_targets.target_dtls_connection, the DTLS 1.3 server's datagram receiver."""

from _common import run

if __name__ == "__main__":
    run("dtls_connection")
