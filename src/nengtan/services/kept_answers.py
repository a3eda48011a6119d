"""Answers of a costly read kept for a short time, for screens that many people watch.

The overview dashboard and the wall display (:mod:`nengtan.services.dashboard`) assemble
their answer from a dozen services — about 170 queries for the demo park — and every open
screen asks again every minute.  A :class:`KeptAnswers` keeps each answer for at most
``max_age_s`` seconds (``NENGTAN_DASHBOARD_MAX_AGE_S``; 0 reads on every request) and, when
many ask for the same answer at the same moment, reads it once while the others wait for it.

What bounds the age of what a user sees:

* a write through the API (any request that is not GET/HEAD/OPTIONS) forgets every kept
  answer of the process before its response leaves (:func:`nengtan.api.auth.install`), so a
  user who changes something sees the change at once, and an answer being read while the
  write happened is not kept;
* data written by other processes (collectors, the command line, other API workers) shows
  after ``max_age_s`` at the latest — meter data arrives every 15 minutes, a screen refreshes
  every 60 s;
* every answer says when it was read (the dashboard's ``now``) and for how long it may be
  kept (``max_age_s``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class KeptAnswers:
    """At most ``size`` answers by key, each for at most ``max_age_s`` seconds."""

    def __init__(self, max_age_s: float, size: int = 256):
        self.max_age_s = max(0.0, float(max_age_s))
        self.size = size
        self._answers: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._reading: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self._generation = 0  # moves on at every clear(): answers read before are not kept

    def _fresh(self, key: Hashable) -> tuple[bool, Any]:
        hit = self._answers.get(key)
        if hit is not None and time.monotonic() - hit[0] <= self.max_age_s:
            self._answers.move_to_end(key)
            return True, hit[1]
        return False, None

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        """The kept answer for ``key``, or ``read()`` (once, however many ask meanwhile)."""
        if self.max_age_s <= 0:
            return read()
        with self._lock:
            found, answer = self._fresh(key)
            if found:
                return answer
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
            with self._lock:  # read by the one we waited for?
                found, answer = self._fresh(key)
                if found:
                    return answer
                generation = self._generation
            started = time.monotonic()
            answer = read()
            with self._lock:
                if generation == self._generation:
                    self._answers[key] = (started, answer)
                    self._answers.move_to_end(key)
                    while len(self._answers) > self.size:
                        old, _ = self._answers.popitem(last=False)
                        self._reading.pop(old, None)
            return answer

    def clear(self) -> None:
        """Forget every answer, and every answer being read now."""
        with self._lock:
            self._answers.clear()
            self._generation += 1

    def __len__(self) -> int:
        return len(self._answers)
