"""TLS 1.3 handshake state machines (client and server)."""
