"""Fixtures and the ``ecosystem`` marker of tests/ecosystem (the helpers are in
``eco_support.py``, imported by name, so no test depends on which ``conftest``
module Python cached)."""

from __future__ import annotations

from eco_support import mode, opened, openssl_https, pki, pytest_collection_modifyitems

__all__ = ["mode", "opened", "openssl_https", "pki", "pytest_collection_modifyitems"]
