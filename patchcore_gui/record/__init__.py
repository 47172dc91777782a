"""The inspection record: every inspected part as a durable, queryable row (no Qt).

SQLite on one PC or PostgreSQL for a plant, through one :class:`InspectionStore`; see store.py.
"""

from .errors import StoreError, StoreUnavailable
from .identity import file_identity
from .queries import Decision, ModelChange, PeriodSummary, RecordFilter, StoredInspection, Summary
from .records import InspectionRecord
from .schema import SCHEMA_VERSION
from .store import InspectionStore, open_store

__all__ = ["Decision", "InspectionRecord", "InspectionStore", "ModelChange", "PeriodSummary", "RecordFilter",
           "SCHEMA_VERSION",
           "StoreError", "StoreUnavailable", "StoredInspection", "Summary", "file_identity", "open_store"]
