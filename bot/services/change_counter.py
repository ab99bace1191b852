"""A change counter shared by the worker processes of one server."""

from __future__ import annotations

import ctypes
import multiprocessing


class SharedGeneration:
    """A number in shared memory: one worker bumps it after a change, the others see it at once.

    Made before the server forks its workers, which inherit the same memory. Without it a
    worker would answer from a rule table up to a cache interval older than one that a sibling
    worker had just changed.
    """

    def __init__(self) -> None:
        self._value: ctypes.c_uint64 = multiprocessing.RawValue(ctypes.c_uint64, 0)

    def read(self) -> int:
        """Return the current generation; read on every question, so without a lock."""
        return int(self._value.value)

    def bump(self) -> None:
        """Tell every worker that the rule table or customers changed.

        No lock, on purpose: a worker killed while holding one would hang every later change.
        Two bumps racing may count as one, which is enough: both changes were committed before
        either bump, and readers only look for a different number.
        """
        self._value.value += 1
