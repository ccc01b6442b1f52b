"""``python -m ferrotls``: see :mod:`ferrotls.apps.cli`."""

from .apps.cli import main

raise SystemExit(main())
