"""Fault injection for the sandbox: make clients prove their retry and idempotency logic.

A spec is a comma-separated list of ``key=value``:

* ``429=0.1``, ``500=0.05``, ``502=…``, ``503=…``: answer that status *before* the handler runs
  (nothing was written). 429 and 503 carry ``Retry-After``.
* ``500after=0.05``: run the handler (its writes are committed), then answer 500 anyway.
* ``reset=0.02``: drop the connection before handling; ``resetafter=0.02``: drop it after handling.
  Over a socket the connection is closed without a response; in-process
  :class:`ConnectionDropped` (an ``httpx.RemoteProtocolError``) is raised through the transport.
* ``latency=50ms`` (``ms``/``s`` suffix, bare numbers are ms): delay every request.
* ``retry-after=2``: seconds advertised on 429/503 (default 1).
* ``match=/v1/orchestration``: only paths with this prefix are subject to faults (default ``/v1/``).
* ``seed=7``: seed of the random draw (deterministic sequences for tests).

Probabilities are checked in the order above with one draw per request, so their sum should be <= 1.
Example: ``429=0.1,500=0.05,503=0.05,reset=0.02,latency=50ms,seed=7``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

import httpx

BEFORE_STATUSES = ("429", "500", "502", "503")
KINDS = (*BEFORE_STATUSES, "500after", "reset", "resetafter")


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app to simulate a connection closed without a response."""

    def __init__(self, message: str = "sandbox fault: connection dropped without a response") -> None:
        super().__init__(message)


@dataclass
class FaultSpec:
    probabilities: dict[str, float] = field(default_factory=dict)
    latency_s: float = 0.0
    retry_after_s: int = 1
    match: str = "/v1/"
    seed: int | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        probs: dict[str, float] = {}
        latency = 0.0
        retry_after = 1
        match = "/v1/"
        seed: int | None = None
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            key, sep, value = item.partition("=")
            key, value = key.strip().lower(), value.strip()
            if not sep:
                raise ValueError(f"fault {item!r}: expected key=value")
            if key in KINDS:
                prob = float(value)
                if not 0.0 <= prob <= 1.0:
                    raise ValueError(f"fault {key}: probability must be between 0 and 1")
                probs[key] = prob
            elif key == "latency":
                latency = _duration(value)
            elif key == "retry-after":
                retry_after = int(value)
            elif key == "match":
                match = value
            elif key == "seed":
                seed = int(value)
            else:
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(KINDS)}, latency, retry-after, match, seed")
        if sum(probs.values()) > 1.0 + 1e-9:
            raise ValueError("fault probabilities add up to more than 1")
        return cls(probs, latency, retry_after, match, seed)

    def draw(self, path: str) -> str | None:
        """The fault to apply to this request, or None."""
        if not path.startswith(self.match) or not self.probabilities:
            return None
        with self._lock:
            roll = self._rng.random()
        acc = 0.0
        for kind in KINDS:
            acc += self.probabilities.get(kind, 0.0)
            if roll < acc:
                return kind
        return None


def _duration(value: str) -> float:
    value = value.lower()
    if value.endswith("ms"):
        return float(value[:-2]) / 1000
    if value.endswith("s"):
        return float(value[:-1])
    return float(value) / 1000
