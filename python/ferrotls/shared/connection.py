"""One Redis server as the shared stores see it: a redis-py client with short
timeouts and no retries, and a health state that logs an outage once and the
recovery once (logger ``ferrotls.redis``).

While Redis is marked down, calls fail at once without touching the network,
except one probe every ``retry_interval`` seconds: a dead or stalled Redis costs
a handshake nothing, and at most one caller per interval waits for the timeout.
redis-py is imported here, lazily: ``import ferrotls`` never needs it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from .errors import SharedStateUnavailable

if TYPE_CHECKING:
    import redis

__all__ = ["RedisConnection", "DEFAULT_TIMEOUT", "LOGGER_NAME"]

LOGGER_NAME = "ferrotls.redis"
DEFAULT_TIMEOUT = 0.005
"""Seconds: a Redis on the same network answers in well under a millisecond."""

log = logging.getLogger(LOGGER_NAME)
T = TypeVar("T")


_MISSING = "ferrotls.shared needs redis-py: pip install 'ferrotls[redis]'"


def redacted_url(url: str) -> str:
    """``url`` without user name or password (for logs and reprs)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable Redis URL>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


class RedisConnection:
    """A Redis server shared by a :class:`RedisTicketKeyRing` and a
    :class:`RedisReplayStore` (they can share one, so an outage is logged once).

    ``url``: ``redis://[user:password@]host:port/db``, ``rediss://`` (TLS) or
    ``unix:///path?db=N``.  ``timeout``: seconds for connecting and for each
    reply (default 5 ms).  ``retry_interval``: while Redis is down, how often
    one call probes it.  ``name`` goes into log lines (an instance name).
    ``client``: an already built ``redis.Redis`` (then ``url`` is only a label).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
        retry_interval: float = 1.0,
        name: str | None = None,
        client: redis.Redis | None = None,
    ) -> None:
        if timeout <= 0 or retry_interval < 0:
            raise ValueError("timeout must be positive and retry_interval not negative")
        self.url = redacted_url(url)
        self.timeout = timeout
        self.retry_interval = retry_interval
        self.name = name
        try:
            import redis as redis_mod
            from redis.backoff import NoBackoff
            from redis.exceptions import RedisError, WatchError
            from redis.retry import Retry
        except ImportError as exc:
            raise ImportError(_MISSING) from exc
        self._errors: tuple[type[BaseException], ...] = (RedisError, OSError)
        self.watch_error: type[BaseException] = WatchError
        """redis-py's WatchError (a transaction lost a race; not a failure)."""
        if client is None:
            client = redis_mod.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=connect_timeout if connect_timeout is not None else timeout,
                retry=Retry(NoBackoff(), 0),  # one attempt: the caller falls back at once
                decode_responses=False,
                client_name="ferrotls",
            )
        self.client: redis.Redis = client
        self._lock = threading.Lock()
        self._down_since: float | None = None  # monotonic
        self._next_probe = 0.0
        self.recovered_at: float | None = None
        """``time.monotonic()`` of the last recovery from an outage (None: none yet)."""

    def __repr__(self) -> str:
        state = "up" if self._down_since is None else "down"
        label = f" {self.name}" if self.name else ""
        return f"RedisConnection({self.url}{label}, {state})"

    @property
    def available(self) -> bool:
        """False from a failed call until a later call succeeds."""
        return self._down_since is None

    @property
    def label(self) -> str:
        """``Redis <url> (<name>)``, for log lines."""
        return f"Redis {self.url}" + (f" ({self.name})" if self.name else "")

    def call(self, op: Callable[[redis.Redis], T], *, force: bool = False) -> T:
        """``op(client)``; :class:`SharedStateUnavailable` if Redis fails or is
        marked down (``force``: try even then, as a probe)."""
        if self._down_since is not None and not force:
            with self._lock:
                now = time.monotonic()
                if self._down_since is not None and now < self._next_probe:
                    raise SharedStateUnavailable(f"{self.label} is unavailable")
                self._next_probe = now + self.retry_interval  # this caller probes
        try:
            result = op(self.client)
        except self.watch_error:
            raise  # not a failure: a transaction lost a race (WatchError)
        except self._errors as exc:
            self._failed(exc)
            raise SharedStateUnavailable(f"{self.label} is unavailable: {_reason(exc)}") from exc
        if self._down_since is not None:
            self._recovered()
        return result

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            now = time.monotonic()
            self._next_probe = now + self.retry_interval
            if self._down_since is not None:
                return
            self._down_since = now
        log.warning(
            "%s unavailable (%s): 0-RTT is refused and tickets use the key ring held in"
            " memory until it answers again", self.label, _reason(exc),
        )

    def _recovered(self) -> None:
        with self._lock:
            since = self._down_since
            if since is None:
                return
            self._down_since = None
            self.recovered_at = time.monotonic()
        log.info("%s recovered after %.1f s", self.label, time.monotonic() - since)

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
