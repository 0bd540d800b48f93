"""Replication: ``/sobjects/{T}/updated`` and ``/deleted``, and ``/limits/recordCount``.

REST API Developer Guide, "Get a List of Updated Records" / "Get a List of Deleted Records"
(the SOAP getUpdated/getDeleted rules): ``start`` and ``end`` are ISO 8601 date-times, their
seconds ignored (each is cut down to its minute); the window must span at least a minute,
``start`` may be at most 30 days back for updates and no earlier than
``earliestDateAvailable`` (15 days, the recycle bin) for deletions; at most 600,000 ids.
``latestDateCovered`` is the end of the window, or the current minute if that is earlier.
Both look at ``SystemModstamp``, through the SOQL plan (so the caller's rights apply).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from localforce.data.access import readable, require_api
from localforce.data.errors import BadRequest, NotFound
from localforce.data.query import QueryService
from localforce.data.values import format_datetime, parse_datetime
from localforce.data.versions import LATEST
from localforce.domain.principal import Principal

LATEST_VERSION = f"{LATEST}.0"  # the records' attributes are not answered
UPDATED_DAYS = 30
DELETED_DAYS = 15
MAX_IDS = 600_000
_BARE_OFFSET = re.compile(r" (\d{2}:?\d{2})$")  # a '+' that arrived unencoded, as a space


class Replication:
    def __init__(self, queries: QueryService) -> None:
        self.queries = queries

    def updated(self, principal: Principal, sobject: str, start: str | None,
                end: str | None) -> dict[str, Any]:
        sobject, begin, finish, covered = self._window(principal, sobject, start, end,
                                                       UPDATED_DAYS)
        rows = self._rows(principal, sobject, "false", begin, finish, False)
        return {"ids": [row["Id"] for row in rows], "latestDateCovered": covered}

    def deleted(self, principal: Principal, sobject: str, start: str | None,
                end: str | None) -> dict[str, Any]:
        sobject, begin, finish, covered = self._window(principal, sobject, start, end,
                                                       DELETED_DAYS)
        rows = self._rows(principal, sobject, "true", begin, finish, True)
        earliest = self._minute(self._now() - dt.timedelta(days=DELETED_DAYS))
        return {"deletedRecords": [{"id": r["Id"], "deletedDate": r["SystemModstamp"]}
                                   for r in rows],
                "earliestDateAvailable": format_datetime(earliest),
                "latestDateCovered": covered}

    def record_count(self, principal: Principal, names: str | None) -> dict[str, Any]:
        """``/limits/recordCount?sObjects=A,B``: live records per object (the ones the caller
        may read); without ``sObjects`` every readable record object."""
        require_api(principal)
        schema = self.queries.schema_for(principal.org_id)
        if names:
            objects = [o for o in (schema.get(n.strip()) for n in names.split(",") if n.strip())
                       if o is not None]
        else:
            objects = list(schema)
        out = []
        for obj in objects:
            if obj.kind != "records":
                continue
            try:
                plan = self.queries.plan(principal, f"SELECT COUNT() FROM {obj.name}")
            except BadRequest:  # not readable: not listed
                continue
            out.append({"count": self.queries.store.count(plan), "name": obj.name})
        return {"sObjects": out}

    # -- helpers --------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.queries.clock(), dt.UTC)

    @staticmethod
    def _minute(moment: dt.datetime) -> dt.datetime:
        return moment.replace(second=0, microsecond=0)

    def _window(self, principal: Principal, sobject: str, start: str | None, end: str | None,
                days: int) -> tuple[str, dt.datetime, dt.datetime, str]:
        """The object's name and the window (start, end, ``latestDateCovered``)."""
        require_api(principal)
        obj = self.queries.schema_for(principal.org_id).get(sobject)
        if obj is None or obj.kind != "records" or not readable(principal, obj):
            raise NotFound()
        if not obj.describe.get("replicateable"):
            raise BadRequest("INVALID_TYPE", f"replication is not enabled for {obj.name}")
        begin = self._minute(_moment("start", start))
        finish = self._minute(_moment("end", end))
        if finish - begin < dt.timedelta(minutes=1):
            # Recorded (restforce#667), Salesforce's own inverted wording.
            raise BadRequest("INVALID_REPLICATION_DATE",
                             "startDate must be at least one minute greater than endDate")
        now = self._now()
        if begin < self._minute(now - dt.timedelta(days=days)):
            raise BadRequest("INVALID_REPLICATION_DATE",
                             f"startDate cannot be more than {days} days ago")
        covered = min(finish, self._minute(now))
        return obj.name, begin, finish, format_datetime(covered)

    def _rows(self, principal: Principal, sobject: str, deleted: str, begin: dt.datetime,
              finish: dt.datetime, query_all: bool) -> list[dict[str, Any]]:
        soql = (f"SELECT Id, SystemModstamp FROM {sobject} WHERE IsDeleted = {deleted} AND "
                f"SystemModstamp >= {_literal(begin)} AND SystemModstamp < {_literal(finish)}")
        plan = self.queries.plan(principal, soql, query_all)
        rows = self.queries.store.run(plan, limit=MAX_IDS + 1)
        if len(rows) > MAX_IDS:
            raise BadRequest("EXCEEDED_ID_LIMIT", f"The number of results exceeds "
                             f"{MAX_IDS:,}; use a shorter window")
        return self.queries.records(plan, LATEST_VERSION, rows)


def _moment(name: str, value: str | None) -> dt.datetime:
    if not value:
        raise BadRequest("MISSING_ARGUMENT", f"Missing required parameter: {name}")
    try:
        return parse_datetime(_BARE_OFFSET.sub(r"+\1", value))
    except ValueError:
        raise BadRequest("INVALID_REPLICATION_DATE", f"Invalid date/time for {name}: "
                         f"{value}") from None


def _literal(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
