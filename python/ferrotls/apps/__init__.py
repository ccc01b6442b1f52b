"""The applications built on the library: the ``ferrotls`` command and what it runs.

* :mod:`ferrotls.apps.cli` -- the ``ferrotls`` command line (``python -m ferrotls``);
  one table row per subcommand;
* :mod:`ferrotls.apps.client`, :mod:`ferrotls.apps.server` -- like ``openssl
  s_client`` / ``s_server``;
* :mod:`ferrotls.apps.gateway` -- a TLS-terminating forwarder, like stunnel;
* :mod:`ferrotls.apps.bench` -- throughput and handshakes/s beside ``ssl``;
* :mod:`ferrotls.apps.demo` -- the live demonstration;
* :mod:`ferrotls.apps.testpki` -- throw-away certificates (the cryptography X.509 builder).

The library never imports this package: ``import ferrotls`` leaves it unloaded.
"""
