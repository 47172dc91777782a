"""What can go wrong with the inspection record, in one line a person can act on."""

from __future__ import annotations

from ..core.errors import PatchCoreError


class StoreError(PatchCoreError):
    """The store cannot be used at all: not a store, written by a newer program, a bad URL."""


class StoreUnavailable(StoreError):
    """The store cannot take or give records right now: disk full, connection lost, locked too long.

    Whatever was being written was not committed. Writing the same record again once the store is
    back is safe: a record is never stored twice.
    """
