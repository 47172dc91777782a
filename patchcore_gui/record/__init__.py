"""The inspection record: every inspected part as a durable, queryable row (no Qt).

SQLite on one PC or PostgreSQL for a plant, through one :class:`InspectionStore`; see store.py.
"""

from .errors import StoreError, StoreUnavailable
from .identity import file_identity
from .schema import SCHEMA_VERSION
from .store import InspectionRecord, InspectionStore, open_store

__all__ = ["InspectionRecord", "InspectionStore", "SCHEMA_VERSION", "StoreError", "StoreUnavailable",
           "file_identity", "open_store"]
