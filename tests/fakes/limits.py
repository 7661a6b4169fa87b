"""Rate limits as the fake messenger APIs enforce them."""

from __future__ import annotations

from collections import deque


class Bucket:
    """A token bucket (the generic cell rate algorithm): ``rate`` a second on average, ``burst`` at once.

    ``slack`` forgives requests that arrive a little early: a client that paces its sends exactly
    still sees them arrive with some jitter, and no real service counts to the millisecond.
    """

    def __init__(self, rate: float, burst: float, slack: float = 0.05) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval + slack
        self._due = 0.0

    def wait(self, now: float) -> float:
        """Seconds until one more would be within the limit (0: it is)."""
        return max(0.0, max(self._due, now) - self.tolerance - now)

    def take(self, now: float) -> None:
        self._due = max(self._due, now) + self.interval


class Window:
    """At most ``limit`` in any ``seconds`` (a sliding window): how a published limit such as "30
    messages a second" reads when taken at its word. ``slack`` as for :class:`Bucket`."""

    def __init__(self, limit: int, seconds: float, slack: float = 0.05) -> None:
        self.limit = limit
        self.seconds = seconds - slack
        self._times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self._times and now - self._times[0] >= self.seconds:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[0] + self.seconds - now

    def take(self, now: float) -> None:
        self._times.append(now)
