"""DTLS 1.3 (RFC 9147) on the TLS 1.3 handshake engine: sans-I/O connections
over :mod:`ferrotls.dtls_record`.

* :class:`DTLSClientConnection`, :class:`DTLSServerConnection` (``connection.py``);
* :class:`DTLSConfig`: MTU, retransmission timer, buffer limits (``config.py``);
* ``reliability.py``: handshake fragmentation, reassembly, ACKs, retransmission;
* ``keys.py``: the "dtls13" label prefix of the key schedule;
* ``cookie.py``: stateless HelloRetryRequest cookies; ``profile.py``: ``dtls_iot_profile()``.
"""

from .config import DTLSConfig
from .connection import DTLSClientConnection, DTLSConnection, DTLSServerConnection, DTLSState
from .profile import DtlsIotProfile, dtls_iot_profile

__all__ = [
    "DTLSConfig", "DTLSConnection", "DTLSClientConnection", "DTLSServerConnection", "DTLSState",
    "DtlsIotProfile", "dtls_iot_profile",
]
