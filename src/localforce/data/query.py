"""``/query`` and ``/queryAll``: parse -> resolve -> store -> page, with query locators.

REST API Developer Guide, "Execute a SOQL Query" and "Query More Results": at most 2,000
records per batch (``Sforce-Query-Options: batchSize=200..2000`` asks for fewer), ``totalSize``
is the full count on every page, and ``nextRecordsUrl`` is
``/services/data/vNN.0/query/01g…-2000``. The locator's state is a row in the database (any
replica serves the next page). Pages are keyset pages: each starts after the sort key (ORDER BY
values, then Id) of the previous page's last row, so rows inserted or deleted meanwhile never
make another record appear twice or go missing (paging by OFFSET would).
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localforce import commits
from localforce.caching import Lru
from localforce.data.access import owner_scope, readable, require_api
from localforce.data.columns import column_metadata
from localforce.data.errors import BadRequest
from localforce.data.plan import ChildPlan, GroupingExpr, Path, QueryPlan, TypeOfOutput
from localforce.data.ports import Cursor, RecordStore
from localforce.data.resolve import INVALID_TYPE, Resolver
from localforce.data.schema import FieldDef, ObjectDef, Schema
from localforce.data.values import (
    FLOAT_TYPES,
    WIRE_CONVERTED,
    FloatFree,
    compound_address,
    formatted,
    to_wire,
)
from localforce.domain import ids
from localforce.domain.principal import Principal
from localforce.soql import SoqlError, ast, format_error, parse

DEFAULT_BATCH = 2000
MIN_BATCH = 200
#: Salesforce keeps an idle locator for 15 minutes.
CURSOR_TTL = 15 * 60


#: Parsed statements kept per process, by text: parsing is pure and its tree immutable (frozen
#: dataclasses), and clients repeat their queries. Bounded in count and in text length.
PARSED_MAX = 1024
PARSED_MAX_CHARS = 4000
_parse_cached = functools.lru_cache(maxsize=PARSED_MAX)(parse)


def parse_soql(soql: str) -> ast.Select:
    """``soql.parse`` through the cache; raises the parser's ``SoqlError`` as it does."""
    return _parse_cached(soql) if len(soql) <= PARSED_MAX_CHARS else parse(soql)


#: Resolved plans kept per process (and, in the SQL store, the statements compiled from each):
#: resolving names and rights and building SQL cost more than running a short query.
PLANS_MAX = 1024
#: ``commits.kept``'s key for a call's plan (a call tried again after its page's read).
_PLAN = "query plan"

#: What the resolver asks about the caller for one object: may they read it, and the rows
#: they are limited to (``data/access.py``).
Rights = tuple[bool, Any]


def rights(principal: Principal, obj: ObjectDef) -> Rights:
    visible = readable(principal, obj)
    return visible, owner_scope(principal, obj) if visible else None


@dataclass(frozen=True)
class Resolved:
    """A plan, and every object whose rights the resolver asked about with the answers it
    got: the plan serves another call only if that caller gets the same answers, so a changed
    permission is seen on the next call."""

    plan: QueryPlan
    asked: tuple[tuple[ObjectDef, Rights], ...]
    #: The user a ``USING SCOPE`` plan is for (``mine`` names them in its filter); ``None``:
    #: any caller whose rights answer alike.
    user_id: str | None = None
    #: A plan of date literals (``TODAY``): the time zone its days were taken in, and when
    #: its day begins and ends there (``clock``); it serves a caller in that zone on that day.
    day: tuple[dt.tzinfo, float, float] | None = None
    #: The last caller that fit: a principal is immutable, and the session cache hands out
    #: the same one for a while, so only another one is asked again.
    last_fit: list[Principal | None] = field(default_factory=lambda: [None], compare=False,
                                             repr=False)

    def fits(self, principal: Principal) -> bool:
        if self.last_fit[0] is principal:
            return True
        if self.user_id is not None and principal.user_id != self.user_id:
            return False
        if all(rights(principal, obj) == answer for obj, answer in self.asked):
            self.last_fit[0] = principal
            return True
        return False


def _day(now: dt.datetime, zone: dt.tzinfo) -> tuple[dt.tzinfo, float, float]:
    """``zone``, and when ``now``'s day begins and ends there (POSIX times)."""
    today = now.astimezone(zone).date()
    begins = dt.datetime.combine(today, dt.time(), zone).timestamp()
    ends = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone).timestamp()
    return zone, begins, ends


def query_error(error: SoqlError) -> BadRequest:
    """Translate the parser's error at the boundary (style §7.2 habit 5)."""
    return BadRequest(error.error_code, error.message)


def batch_size(header: str | None) -> int:
    """``Sforce-Query-Options: batchSize=N``; out-of-range values are clamped."""
    if not header:
        return DEFAULT_BATCH
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH, min(DEFAULT_BATCH, int(value)))
    return DEFAULT_BATCH


class QueryService:
    def __init__(self, store: RecordStore, schema_for: Callable[[str], Schema],
                 clock: Callable[[], float], max_plans: int = PLANS_MAX) -> None:
        self.store, self.schema_for, self.clock = store, schema_for, clock
        self.plans: Lru[tuple[Any, ...], Resolved] = Lru(max_plans)

    def plan(self, principal: Principal, soql: str, query_all: bool = False) -> QueryPlan:
        """The statement resolved for this caller: a cached plan when the schema is the same
        build, the text the same and the caller's rights answer alike, else resolved now."""
        schema = self.schema_for(principal.org_id)
        key = (schema.token, principal.org_id, soql, query_all)
        cached = self.plans.get(key)
        if cached is not None and cached.fits(principal) and (
                cached.day is None or self._same_day(cached.day, schema, principal)):
            return cached.plan
        try:
            select = parse_soql(soql)
        except SoqlError as exc:
            raise query_error(exc) from None
        asked: dict[str, tuple[ObjectDef, Rights]] = {}

        def ask(obj: ObjectDef) -> Rights:
            asked[obj.key] = (obj, rights(principal, obj))
            return asked[obj.key][1]

        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        zone = functools.cache(lambda: self.time_zone(schema, principal))
        resolver = Resolver(schema, soql, lambda obj: ask(obj)[0], principal.org_id, now,
                            query_all, zone, lambda obj: ask(obj)[1], principal.user_id)
        plan = resolver.plan(select)
        if len(soql) <= PARSED_MAX_CHARS:
            key = (schema.token, principal.org_id, soql, query_all)  # a reload changes it
            # USING SCOPE mine is the user's own rows: that plan serves that user only. Date
            # literals are the user's today in their zone: that day's, in that zone.
            owner = principal.user_id if select.using_scope is not None else None
            day = _day(now, zone()) if plan.uses_date_literals() else None
            self.plans.put(key, Resolved(plan, tuple(asked.values()), owner, day))
        return plan

    def _same_day(self, day: tuple[dt.tzinfo, float, float], schema: Schema,
                  principal: Principal) -> bool:
        """Whether a plan of date literals taken in ``day`` is this caller's today (their zone
        is read each time, as resolving the plan would; a clock set back is seen too)."""
        zone, begins, ends = day
        return begins <= self.clock() < ends and self.time_zone(schema, principal) == zone

    def time_zone(self, schema: Schema, principal: Principal) -> dt.tzinfo:
        """The user's ``TimeZoneSidKey`` (an IANA name); UTC when unknown or not a zone."""
        user = schema.get("User")
        key = user.field("TimeZoneSidKey") if user else None
        if user is None or key is None:
            return dt.UTC
        row = self.store.get(user, principal.org_id, principal.user_id, [key]) or {}
        try:
            return zoneinfo.ZoneInfo(str(row.get("TimeZoneSidKey") or "UTC"))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return dt.UTC

    def columns(self, principal: Principal, soql: str, query_all: bool = False
                ) -> dict[str, Any]:
        """``/query?q=…&columns=true``: the statement is checked, not run (``data/columns.py``)."""
        require_api(principal)
        return column_metadata(self.plan(principal, soql, query_all))

    def tooling_query(self, principal: Principal, soql: str) -> dict[str, Any]:
        """``/tooling/query``: no Tooling API objects are served, so every well-formed query
        names an unknown type (what ``sf`` expects of an org without sandboxes, clients.md §3)."""
        require_api(principal)
        try:
            select = parse_soql(soql)
        except SoqlError as exc:
            raise query_error(exc) from None
        pos = select.sobject_pos
        raise BadRequest("INVALID_TYPE", format_error(
            soql, INVALID_TYPE.format(select.sobject), pos.row, pos.column))

    def query(self, principal: Principal, soql: str, version: str, query_all: bool = False,
              batch: int = DEFAULT_BATCH) -> dict[str, Any]:
        require_api(principal)
        plan = commits.kept((_PLAN, soql, query_all), self.plan, principal, soql, query_all)
        if plan.count_only:
            count = self._limited(plan, self.store.count(plan))
            return {"totalSize": count, "done": True, "records": []}
        if plan.aggregate:
            return self._aggregate(plan)
        limit = plan.select.limit
        first = min(batch, limit) if limit is not None else batch
        keyed = self.store.page(plan, first + 1, offset=plan.select.offset or 0)
        rows = [row for row, _ in keyed[:first]]
        if len(keyed) <= first or (limit is not None and limit <= first):
            return self._page(plan, version, rows, len(rows), None, principal)
        total = self._limited(plan, self.store.count(plan))
        cursor = Cursor(ids.new_id("01g"), principal.org_id, principal.user_id, soql, query_all,
                        batch, total, {str(first): keyed[first - 1][1]},
                        int(self.clock()) + CURSOR_TTL)
        self.store.save_cursor(cursor)
        return self._page(plan, version, rows, total, f"{cursor.id}-{first}", principal)

    def more(self, principal: Principal, locator: str, version: str) -> dict[str, Any]:
        require_api(principal)
        cursor_id, _, start = locator.partition("-")
        cursor = self.store.get_cursor(cursor_id) if ids.is_valid(cursor_id) else None
        if (cursor is None or not start.isdigit() or cursor.user_id != principal.user_id
                or cursor.org_id != principal.org_id or cursor.expires_at < self.clock()
                or int(start) >= cursor.total_size):
            raise BadRequest("INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(start)
        plan = self.plan(principal, cursor.soql, cursor.query_all)  # rights checked again
        size = min(cursor.batch_size, cursor.total_size - offset)
        after = self._after(plan, cursor.keys.get(str(offset)))
        if after is not None:
            keyed = self.store.page(plan, size, after=after)
        else:  # a locator the server holds no key for: by position, as before
            keyed = self.store.page(plan, size, offset=(plan.select.offset or 0) + offset)
        rows = [row for row, _ in keyed]
        end = offset + len(rows)
        next_locator = None
        keys = dict(cursor.keys)
        if end < cursor.total_size and rows:
            next_locator = f"{cursor.id}-{end}"
            keys[str(end)] = keyed[-1][1]
        self.store.save_cursor(Cursor(cursor.id, cursor.org_id, cursor.user_id, cursor.soql,
                                      cursor.query_all, cursor.batch_size, cursor.total_size,
                                      keys, int(self.clock()) + CURSOR_TTL))
        return self._page(plan, version, rows, cursor.total_size, next_locator,
                          principal)

    @staticmethod
    def _after(plan: QueryPlan, key: Any) -> list[Any] | None:
        """A stored sort key that fits this plan's ORDER BY (+ Id), else None."""
        key = [key] if isinstance(key, str) else key  # older servers stored the bare Id
        if isinstance(key, list) and len(key) == len(plan.select.order_by) + 1:
            return key
        return None

    @staticmethod
    def _limited(plan: QueryPlan, count: int) -> int:
        count = max(0, count - (plan.select.offset or 0))
        return min(count, plan.select.limit) if plan.select.limit is not None else count

    # -- shaping ------------------------------------------------------------------------

    def _page(self, plan: QueryPlan, version: str, rows: list[Any], total: int,
              locator: str | None, principal: Principal) -> dict[str, Any]:
        out: dict[str, Any] = FloatFree() if self._float_free(plan) else {}
        out["totalSize"], out["done"] = total, locator is None
        if locator is not None:
            out["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}"
        out["records"] = self.records(plan, version, rows, self.zone_for(plan, principal))
        return out

    def zone_for(self, plan: QueryPlan, principal: Principal) -> dt.tzinfo:
        """The caller's time zone when the plan formats values (``FORMAT()``), else UTC."""
        if any(kind == "format" for kind, _, _ in plan.outputs):
            return self.time_zone(self.schema_for(principal.org_id), principal)
        return dt.UTC

    @staticmethod
    def _flat(plan: QueryPlan) -> FlatFields | None:
        flat = plan.shaping.get("flat", _UNSEEN)
        if flat is _UNSEEN:
            flat = plan.shaping["flat"] = flat_fields(plan)
        return flat  # type: ignore[no-any-return]

    def _float_free(self, plan: QueryPlan) -> bool:
        """Whether the plan's records hold no float: each output a field of its own object
        (``flat_fields``), none of a float type."""
        free = plan.shaping.get("float_free")
        if free is None:
            flat = self._flat(plan)
            free = plan.shaping["float_free"] = flat is not None and not any(
                convert is not None and convert.type in FLOAT_TYPES for _, _, convert in flat)
        return bool(free)

    def records(self, plan: QueryPlan, version: str, rows: list[Any],
                zone: dt.tzinfo = dt.UTC) -> list[dict[str, Any]]:
        flat = self._flat(plan)
        if flat is not None:
            return flat_records(plan.root.name, version, rows, flat)
        children = {c.name: self._children(c, version, [r[0] for r in rows])
                    for _, c, _ in plan.outputs if isinstance(c, ChildPlan)}
        return [self._record(plan, version, row, children, zone) for row in rows]

    def _record(self, plan: QueryPlan, version: str, row: Any,
                children: dict[str, dict[str, Any]], zone: dt.tzinfo) -> dict[str, Any]:
        record: dict[str, Any] = {"attributes": attributes(plan.root, row[0], version)}
        for kind, spec, path in plan.outputs:
            if kind == "child":
                record[spec.name] = children[spec.name].get(row[0])
                continue
            if kind == "typeof":
                record[spec.name] = self._type_of(plan, spec, row, version)
                continue
            assert isinstance(path, Path)
            index, hop_ids = spec
            node: dict[str, Any] | None = record
            for hop, id_index in zip(path.hops, hop_ids, strict=True):
                name = hop.lookup.relationship_name or hop.lookup.name
                if name not in node:  # type: ignore[operator]
                    parent_id = row[id_index]
                    node[name] = None if parent_id is None else {  # type: ignore[index]
                        "attributes": attributes(hop.target, parent_id, version)}
                node = node[name]  # type: ignore[index]
                if node is None:
                    break
            if node is not None and path.field.type == "address":
                parts = path.obj.parts_of(path.field)
                node[path.field.name] = compound_address(path.field, list(zip(
                    parts, row[index + 1:index + 1 + len(parts)], strict=True)))
            elif node is not None:
                value = to_wire(path.field, row[index], node["attributes"]["url"])
                node[path.field.name] = value if kind != "format" else formatted(
                    path.field, value, zone)
        return record

    def _type_of(self, plan: QueryPlan, spec: TypeOfOutput, row: Any,
                 version: str) -> dict[str, Any] | None:
        """The parent as the branch for its type shapes it: the WHEN whose join found it,
        else the ELSE (``Name`` fields); its attributes alone when no branch applies."""
        parent_id = row[spec.lookup_index]
        if parent_id is None:
            return None
        branch = next((b for b in spec.whens if row[b.id_index] is not None), spec.else_)
        found = self.schema_for(plan.org_id).by_prefix(parent_id[:3])
        sobject = found.name if found is not None else "Name"
        url = f"/services/data/v{version}/sobjects/{sobject}/{parent_id}"
        node: dict[str, Any] = {"attributes": {"type": sobject, "url": url}}
        for f, index in branch.fields if branch is not None else ():
            node[f.name] = to_wire(f, row[index], url)
        return node

    def _children(self, child: ChildPlan, version: str,
                  parent_ids: list[str]) -> dict[str, Any]:
        rows = self.store.run_children(child.plan, child.lookup, parent_ids)
        grouped: dict[str, list[Any]] = {}
        for row in rows:
            grouped.setdefault(row[-1], []).append(row[:-1])
        out = {}
        limit = child.plan.select.limit
        for parent_id, items in grouped.items():
            items = items[:limit] if limit is not None else items
            records = self.records(child.plan, version, items)
            out[parent_id] = {"totalSize": len(records), "done": True, "records": records}
        return out

    def _aggregate(self, plan: QueryPlan) -> dict[str, Any]:
        limit = plan.select.limit if plan.select.limit is not None else DEFAULT_BATCH + 1
        rows = self.store.run(plan, offset=plan.select.offset or 0, limit=limit)
        if len(rows) > DEFAULT_BATCH:
            raise BadRequest("MALFORMED_QUERY", "Aggregate query does not support "
                             "queryMore(), use LIMIT to restrict the results to a single batch")
        records = []
        for row in rows:
            record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
            for name, index, path in plan.outputs:
                expr = plan.selects[index]
                value = row[index]
                func = getattr(expr, "func", None)
                if func in ("COUNT", "COUNT_DISTINCT") or isinstance(expr, GroupingExpr):
                    record[name] = int(value or 0)
                elif func in ("SUM", "AVG"):
                    record[name] = None if value is None else float(value)
                elif isinstance(path, Path) and func in (None, "MIN", "MAX"):
                    record[name] = to_wire(path.field, value)
                else:
                    record[name] = value
            records.append(record)
        return {"totalSize": len(records), "done": True, "records": records}


_UNSEEN = object()
#: A flat record query's outputs: (key, select index, the field when ``to_wire`` converts it).
FlatFields = list[tuple[str, int, FieldDef | None]]


def flat_fields(plan: QueryPlan) -> FlatFields | None:
    """The outputs of a record query whose every item is a field of its own object (no
    parent, no child, TYPEOF, FORMAT or address) on an object that is not polymorphic: what
    ``flat_records`` shapes as ``_record`` does, without its general walk. Else None."""
    if plan.root.kind == "polymorphic" or plan.aggregate:  # aggregates: ``_aggregate``
        return None
    out: FlatFields = []
    for kind, spec, path in plan.outputs:
        if kind != "field" or not isinstance(path, Path) or path.hops \
                or path.field.type == "address":
            return None
        out.append((path.field.name, spec[0],
                    path.field if path.field.type in WIRE_CONVERTED else None))
    return out


def flat_records(sobject: str, version: str, rows: list[Any], fields: FlatFields
                 ) -> list[dict[str, Any]]:
    prefix = f"/services/data/v{version}/sobjects/{sobject}/"
    out = []
    for row in rows:
        url = prefix + row[0]
        record: dict[str, Any] = {"attributes": {"type": sobject, "url": url}}
        for name, index, convert in fields:
            value = row[index]
            record[name] = value if convert is None or value is None else \
                to_wire(convert, value, url)
        out.append(record)
    return out


def attributes(obj: ObjectDef, record_id: str, version: str) -> dict[str, str]:
    """A record's ``attributes``; a parent through a polymorphic lookup is of type ``Name``
    with the URL of its own object."""
    name = obj.describe["x-prefixes"].get(record_id[:3], obj.name) \
        if obj.kind == "polymorphic" else obj.name
    return {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{name}/{record_id}"}
