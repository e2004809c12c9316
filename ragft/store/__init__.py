"""The class database: one embedded SQLite file for what is class-wide (workspaces, spend, caps, votes,
evaluation summaries, activity). :mod:`ragft.store.db` owns the file and its schema; the other modules read and
write one kind of record each."""

from ragft.store.db import DB_FILE, ClassStore, StoreError, open_store

__all__ = ["DB_FILE", "ClassStore", "StoreError", "open_store"]
