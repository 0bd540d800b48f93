"""Bulk API jobs: Bulk API 2.0 ingest and query jobs and the runner that processes them in the
background inside ``serve`` (DESIGN.md: long work never runs inside a request).

- ``ports.py``: the job record and what the jobs need from storage (SQL adapter:
  ``storage/sql/bulk_store.py``).
- ``csvio.py``: CSV read from stored parts a line at a time, and written back.
- ``ingest.py``: the job resource: create, upload, close, abort, delete, info, list, results.
- ``runner.py``: processes closed jobs a transaction of rows at a time, resumably.
"""
