"""``python -m ferrotls``: see :mod:`ferrotls.cli`."""

from .cli import main

raise SystemExit(main())
