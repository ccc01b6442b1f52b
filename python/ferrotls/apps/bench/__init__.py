"""``ferrotls bench`` (being split by concept: :mod:`.sockets` holds the drivers for now)."""

from .sockets import add_arguments, main

__all__ = ["add_arguments", "main"]
