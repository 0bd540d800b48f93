"""Check a parsed SOQL statement against the org's schema and the user's rights; build a plan.

Every name is resolved (case-insensitively) to a field of a readable object, every literal is
checked against the field's type and converted to its stored form. Failures carry Salesforce's
code and text with the caret form (salesforce-wire.md §8; SOQL & SOSL Reference).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from localforce.data.errors import BadRequest
from localforce.data.plan import (
    AggregateExpr,
    ChildPlan,
    DatePart,
    Expr,
    GroupingExpr,
    Hop,
    Path,
    QueryPlan,
    TypeOfBranch,
    TypeOfOutput,
)
from localforce.data.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef, ObjectDef, Schema
from localforce.data.values import format_datetime
from localforce.domain import ids
from localforce.soql import ast, date_literal_range, format_error

INVALID_TYPE = ("sObject type '{}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name. Please reference "
                "your WSDL or the describe call for the appropriate names.")
NO_COLUMN = ("No such column '{}' on entity '{}'. If you are attempting to use a custom field, "
             "be sure to append the '__c' after the custom field name. Please reference your "
             "WSDL or the describe call for the appropriate names.")
BAD_RELATIONSHIP = ("Didn't understand relationship '{}' in field path. If you are attempting "
                    "to use a custom relationship, be sure to append the '__r' after the custom "
                    "relationship name. Please reference your WSDL or the describe call for the "
                    "appropriate names.")
BAD_CHILD = ("Didn't understand relationship '{}' in FROM part of query call. If you are "
             "attempting to use a custom relationship, be sure to append the '__r' after the "
             "custom relationship name. Please reference your WSDL or the describe call for "
             "the appropriate names.")
#: Select functions that only change how a value is displayed: the stored value is returned.
DISPLAY_FUNCTIONS = frozenset({"toLabel", "FORMAT", "convertCurrency"})
#: An object -> the (field, value) its rows are limited to for the caller, or None.
OwnerScope = Callable[[ObjectDef], tuple[FieldDef, str] | None]
DATE_FUNCTIONS = frozenset({"CALENDAR_YEAR", "CALENDAR_MONTH", "CALENDAR_QUARTER",
                            "DAY_IN_MONTH", "DAY_ONLY", "HOUR_IN_DAY"})


class Resolver:
    """Resolves one statement (and its subqueries) for one user."""

    def __init__(self, schema: Schema, text: str, readable: Callable[[ObjectDef], bool],
                 org_id: str, now: dt.datetime, query_all: bool = False,
                 zone: Callable[[], dt.tzinfo] = lambda: dt.UTC,
                 owner_scope: OwnerScope = lambda obj: None, user_id: str | None = None
                 ) -> None:
        """``zone`` gives the user's time zone (looked up only if a date literal needs it);
        ``owner_scope`` the rows of an object the user is limited to (``data/access.py``);
        ``user_id`` the caller, for ``USING SCOPE mine``."""
        self.schema, self.text, self.readable = schema, text, readable
        self.org_id, self.now, self.query_all, self.zone = org_id, now, query_all, zone
        self.owner_scope, self.user_id = owner_scope, user_id

    def fail(self, code: str, detail: str, pos: ast.Pos) -> BadRequest:
        return BadRequest(code, format_error(self.text, detail, pos.row, pos.column))

    # -- objects and fields ----------------------------------------------------------------

    def object(self, name: str, pos: ast.Pos) -> ObjectDef:
        obj = self.schema.get(name)
        if obj is None or not self.readable(obj):
            # Salesforce answers the same for a missing object and one the user can't read.
            raise self.fail("INVALID_TYPE", INVALID_TYPE.format(name), pos)
        return obj

    def path(self, node: ast.FieldPath, obj: ObjectDef) -> Path:
        hops: list[Hop] = []
        current = obj
        positions = node.part_pos or (node.pos,) * len(node.parts)
        for index, rel in enumerate(node.parts[:-1]):
            lookup = current.relationship(rel)
            # A parent the user may not see reads as null (Hop.scope); a polymorphic parent
            # is one of the objects the user sees all of.
            if lookup is not None and lookup.flag("polymorphicForeignKey"):
                target = self.schema.polymorphic_target(lookup, self.whole_parent)
            else:
                target = self.schema.target(lookup) if lookup else None
            if lookup is None or target is None or not (
                    target.kind == "polymorphic" or self.readable(target)):
                raise self.fail("INVALID_FIELD", BAD_RELATIONSHIP.format(rel), positions[index])
            hops.append(Hop(lookup, target, None if target.kind == "polymorphic"
                            else self.owner_scope(target)))
            current = target
        f = current.field(node.parts[-1])
        if f is None:
            raise self.fail("INVALID_FIELD", NO_COLUMN.format(node.parts[-1], current.name),
                            positions[-1])
        return Path(tuple(hops), f, current)

    def whole_parent(self, obj: ObjectDef) -> bool:
        """Readable, and all of it: an object the user sees only part of is no parent."""
        return self.readable(obj) and self.owner_scope(obj) is None

    def using_scope(self, select: ast.Select, root: ObjectDef,
                    scope: tuple[FieldDef, str] | None) -> tuple[FieldDef, str] | None:
        """``USING SCOPE``: ``everything`` is every row the caller sees; ``mine`` (and
        ``mine_and_my_groups``: there are no queues) the caller's own, where the object's
        describe lists the scope. Teams, territories and delegation do not exist here."""
        name = (select.using_scope or "everything").lower()
        if name == "everything":
            return scope
        supported = {str(s.get("name", "")).lower()
                     for s in root.describe.get("supportedScopes") or ()}
        owner = root.field("OwnerId")
        if name in ("mine", "mine_and_my_groups") and name in supported and owner is not None \
                and self.user_id is not None:
            return owner, self.user_id
        raise self.fail("MALFORMED_QUERY", f"USING SCOPE {select.using_scope} is not supported "
                        f"for {root.name} by this server", select.sobject_pos)

    def id_path(self, hops: tuple[Hop, ...], obj: ObjectDef) -> Path:
        id_field = obj.field("Id")
        assert id_field is not None
        return Path(hops, id_field, obj)

    # -- the statement ----------------------------------------------------------------------

    def plan(self, select: ast.Select, obj: ObjectDef | None = None) -> QueryPlan:
        root = obj or self.object(select.sobject, select.sobject_pos)
        plan = QueryPlan(select, root, self.org_id, self.now, self.query_all,
                         self.using_scope(select, root, self.owner_scope(root)))
        items = self.expand(select, root)
        plan.aggregate = bool(select.group_by) or any(
            isinstance(i, ast.Aggregate) for i in items)
        plan.count_only = (len(items) == 1 and isinstance(items[0], ast.Aggregate)
                           and items[0].func == "COUNT" and items[0].arg is None
                           and not select.group_by)
        if select.group_by_kind is not None and len(select.group_by) > 3:
            raise self.fail("MALFORMED_QUERY", f"GROUP BY {select.group_by_kind} can take at "
                            "most 3 fields", select.group_by[0].pos)
        for g in select.group_by:
            self.operand(plan, g, "groupable", "grouped")
        grouped = {self._key(plan.exprs[g]) for g in select.group_by}
        if plan.aggregate:
            self.aggregate_items(plan, items)
        else:
            self.record_items(plan, items)
        if select.where is not None:
            self.condition(plan, select.where)
        if select.having is not None:
            self.condition(plan, select.having)
        for item in select.order_by:
            expr = self.operand(plan, item.field, "sortable", "ordered")
            if plan.aggregate and not isinstance(expr, AggregateExpr) and (
                    plan.count_only or self._key(expr) not in grouped):
                # COUNT() makes the query an aggregate one, so any ORDER BY field fails here.
                label = (item.field.name if isinstance(item.field, ast.FieldPath)
                         else item.field.func)
                raise self.fail("MALFORMED_QUERY",
                                f"Ordered field must be grouped or aggregated: {label}",
                                item.field.pos)
        return plan

    def expand(self, select: ast.Select, obj: ObjectDef) -> list[Any]:
        out: list[Any] = []
        for item in select.fields:
            if isinstance(item, ast.FieldsMacro):
                for f in obj.visible_fields:
                    if (f.stored or f.type == "address") and (
                            item.kind == "ALL" or (item.kind == "CUSTOM") == f.custom):
                        out.append(ast.FieldPath((f.name,), item.pos, (item.pos,)))
            else:
                out.append(item)
        return out

    def record_items(self, plan: QueryPlan, items: list[Any]) -> None:
        plan.selects.append(self.id_path((), plan.root))
        hop_index: dict[tuple[str, ...], int] = {}
        seen: set[tuple[str, ...]] = set()
        for item in items:
            if isinstance(item, ast.SubQuery):
                plan.outputs.append(("child", self.child(plan, item), None))
                continue
            if isinstance(item, ast.TypeOf):
                plan.outputs.append(("typeof", self.type_of(plan, item), None))
                continue
            kind = "field"
            if isinstance(item, ast.FunctionCall):
                node = item.arg
                if item.func not in DISPLAY_FUNCTIONS or not isinstance(node, ast.FieldPath):
                    raise self.fail("MALFORMED_QUERY", f"{item.func} can only be used with "
                                    "GROUP BY or in an aggregate query", item.pos)
                kind = "format" if item.func == "FORMAT" else kind
                item = node
            path = self.path(item, plan.root)
            plan.exprs[item] = path
            key = path.join_key + (path.field.key,)
            if key in seen:
                continue
            seen.add(key)
            hop_ids = []
            for depth in range(1, len(path.hops) + 1):
                prefix = path.join_key[:depth]
                if prefix not in hop_index:
                    hop_index[prefix] = len(plan.selects)
                    plan.selects.append(self.id_path(path.hops[:depth],
                                                     path.hops[depth - 1].target))
                hop_ids.append(hop_index[prefix])
            plan.outputs.append((kind, (len(plan.selects), tuple(hop_ids)), path))
            plan.selects.append(path)
            if path.field.type == "address":  # its parts follow it (query.py composes them)
                plan.selects.extend(Path(path.hops, part, path.obj)
                                    for part in path.obj.parts_of(path.field))

    def type_of(self, plan: QueryPlan, item: ast.TypeOf) -> TypeOfOutput:
        """Each WHEN joins the lookup to that object (a parent of another type finds no
        row there); the ELSE reads the ``Name`` object. query.py picks the branch per row."""
        lookup = plan.root.relationship(item.relationship)
        if lookup is None or not lookup.flag("polymorphicForeignKey"):
            raise self.fail("MALFORMED_QUERY", f"TYPEOF can only be used on a polymorphic "
                            f"relationship: {item.relationship}", item.pos)
        lookup_index = len(plan.selects)
        plan.selects.append(Path((), lookup, plan.root))
        whens = []
        for sobject, pos, fields in item.whens:
            target = self.schema.get(sobject)
            if target is None or target.name not in lookup.reference_to \
                    or not self.readable(target):
                raise self.fail("INVALID_TYPE", f"{sobject} is not a type of "
                                f"{item.relationship}", pos)
            hop = Hop(lookup, target, self.owner_scope(target))
            whens.append(self.branch(plan, hop, fields))
        else_ = None
        if item.else_:
            name_obj = self.schema.polymorphic_target(lookup, self.whole_parent)
            if name_obj is None:
                raise self.fail("INVALID_FIELD", BAD_RELATIONSHIP.format(item.relationship),
                                item.pos)
            else_ = self.branch(plan, Hop(lookup, name_obj), item.else_)
        return TypeOfOutput(lookup.relationship_name or lookup.name, lookup_index,
                            tuple(whens), else_)

    def branch(self, plan: QueryPlan, hop: Hop,
               fields: tuple[ast.FieldPath, ...]) -> TypeOfBranch:
        id_index = len(plan.selects)
        plan.selects.append(self.id_path((hop,), hop.target))
        out = []
        for node in fields:
            f = hop.target.field(node.parts[-1]) if len(node.parts) == 1 else None
            if f is None:
                raise self.fail("INVALID_FIELD", NO_COLUMN.format(".".join(node.parts),
                                                                  hop.target.name), node.pos)
            out.append((f, len(plan.selects)))
            plan.selects.append(Path((hop,), f, hop.target))
        return TypeOfBranch(hop.target, id_index, tuple(out))

    def child(self, parent: QueryPlan, item: ast.SubQuery) -> ChildPlan:
        rel = parent.root.child(item.select.sobject)
        child = self.schema.get(rel.child) if rel else None
        if rel is None or child is None or not self.readable(child):
            raise self.fail("INVALID_TYPE", BAD_CHILD.format(item.select.sobject),
                            item.select.sobject_pos)
        lookup = child.field(rel.field)
        assert lookup is not None
        sub = Resolver(self.schema, self.text, self.readable, self.org_id, self.now,
                       self.query_all, self.zone, self.owner_scope, self.user_id)
        plan = sub.plan(item.select, child)
        return ChildPlan(rel.name, lookup, plan)

    def aggregate_items(self, plan: QueryPlan, items: list[Any]) -> None:
        grouped = {self._key(plan.exprs[g]) for g in plan.select.group_by}
        unnamed = 0
        for item in items:
            if isinstance(item, ast.SubQuery):
                raise self.fail("MALFORMED_QUERY", "Aggregate query does not support "
                                "sub-selects", item.pos)
            if isinstance(item, ast.TypeOf):
                raise self.fail("MALFORMED_QUERY", "TYPEOF cannot be used in an aggregate "
                                "query", item.pos)
            expr = self.operand(plan, item, None, None)
            if isinstance(item, ast.Aggregate):
                name = item.alias or f"expr{unnamed}"
                unnamed += item.alias is None
            else:
                if self._key(expr) not in grouped and not isinstance(expr, GroupingExpr):
                    label = item.name if isinstance(item, ast.FieldPath) else item.func
                    raise self.fail("MALFORMED_QUERY",
                                    f"Field must be grouped or aggregated: {label}", item.pos)
                if isinstance(expr, DatePart | GroupingExpr):
                    name = item.alias or f"expr{unnamed}"
                    unnamed += item.alias is None
                else:
                    assert isinstance(expr, Path)
                    name = item.alias or expr.field.name
            plan.outputs.append((name, len(plan.selects), expr if isinstance(expr, Path)
                                 else getattr(expr, "arg", None)))
            plan.selects.append(expr)

    @staticmethod
    def _key(expr: Expr) -> Any:
        if isinstance(expr, Path):
            return ("path", expr.join_key, expr.field.key)
        if isinstance(expr, DatePart):
            return ("date", expr.func, expr.arg.join_key, expr.arg.field.key)
        if isinstance(expr, GroupingExpr):
            return ("grouping", Resolver._key(expr.arg))
        return ("agg", expr.func, Resolver._key(expr.arg) if expr.arg else None)

    def operand(self, plan: QueryPlan, node: Any, flag: str | None, verb: str | None) -> Expr:
        """Resolve a FieldPath / Aggregate / FunctionCall; check ``flag`` on plain fields."""
        if node in plan.exprs:
            return plan.exprs[node]
        expr: Expr
        if isinstance(node, ast.FieldPath):
            expr = self.path(node, plan.root)
            if flag and not expr.field.flag(flag):
                raise self.fail("INVALID_FIELD", f"field '{expr.field.name}' can not be "
                                f"{verb}", node.pos)
        elif isinstance(node, ast.Aggregate):
            arg = None
            if node.arg is not None:
                inner = self.operand(plan, node.arg, None, None)
                if not isinstance(inner, Path):
                    raise self.fail("MALFORMED_QUERY", "Nested aggregate functions are not "
                                    "supported", node.pos)
                arg = inner
                if node.func in ("SUM", "AVG") and arg.field.type not in NUMBER_TYPES:
                    raise self.fail("MALFORMED_QUERY", f"field {arg.field.name} does not "
                                    f"support aggregate operator {node.func}", node.pos)
            expr = AggregateExpr(node.func, arg)
        else:
            expr = self.function(plan, node)
        plan.exprs[node] = expr
        return expr

    def function(self, plan: QueryPlan, node: ast.FunctionCall) -> Expr:
        inner = self.operand(plan, node.arg, None, None)
        if node.func == "GROUPING":
            grouped = {self._key(plan.exprs[g]) for g in plan.select.group_by
                       if g in plan.exprs}
            if plan.select.group_by_kind is None or self._key(inner) not in grouped or not \
                    isinstance(inner, Path | DatePart):
                raise self.fail("MALFORMED_QUERY", "GROUPING can only be used with a field "
                                "of GROUP BY ROLLUP or CUBE", node.pos)
            return GroupingExpr(inner)
        if node.func in DISPLAY_FUNCTIONS:
            return inner
        if node.func in DATE_FUNCTIONS and isinstance(inner, Path) and inner.field.type in (
                "date", "datetime"):
            return DatePart(node.func, inner)
        raise self.fail("MALFORMED_QUERY", f"{node.func} is not supported by this server",
                        node.pos)

    # -- conditions --------------------------------------------------------------------------

    def condition(self, plan: QueryPlan, node: ast.Condition) -> None:
        if isinstance(node, ast.And | ast.Or):
            for item in node.items:
                self.condition(plan, item)
        elif isinstance(node, ast.Not):
            self.condition(plan, node.item)
        elif isinstance(node, ast.SemiJoin):
            self.semi_join(plan, node)
        elif isinstance(node, ast.Includes):
            expr = self.operand(plan, node.field, "filterable", "filtered")
            if not isinstance(expr, Path) or expr.field.type != "multipicklist":
                raise self.fail("INVALID_FIELD", "includes or excludes operator only valid on "
                                "multipicklist field", node.pos)
        else:
            expr = self.operand(plan, node.field, "filterable", "filtered")
            values = [node.value] if isinstance(node, ast.Comparison) else list(node.values)
            like = isinstance(node, ast.Comparison) and node.op == "LIKE"
            for value in values:
                if not isinstance(value, ast.NullLit):
                    plan.values[value] = self.literal(expr, value, like)

    def semi_join(self, plan: QueryPlan, node: ast.SemiJoin) -> None:
        outer = self.operand(plan, node.field, "filterable", "filtered")
        if not isinstance(outer, Path) or outer.field.type not in ("id", "reference"):
            raise self.fail("INVALID_FIELD", "semi join sub selects are only supported on id "
                            "and reference fields", node.pos)
        sub = Resolver(self.schema, self.text, self.readable, self.org_id, self.now,
                       zone=self.zone, owner_scope=self.owner_scope)
        inner = sub.plan(node.select)
        selected = [e for e in inner.selects[1:] if isinstance(e, Path)]
        if len(selected) != 1 or selected[0].field.type not in ("id", "reference"):
            raise self.fail("MALFORMED_QUERY", "semi join sub-selects must select one Id or "
                            "reference field", node.select.pos)
        inner.selects = [selected[0]]
        plan.semi_joins[node] = inner

    def literal(self, expr: Expr, value: Any, like: bool = False) -> Any:
        """A literal's stored form for comparing with ``expr``, or Salesforce's error."""
        if not isinstance(expr, Path):
            if isinstance(value, ast.NumberLit):
                return float(value.value) if not value.is_integer else int(value.value)
            raise self.fail("MALFORMED_QUERY", "aggregate and date functions compare with "
                            "numbers", value.pos)
        f = expr.field
        kind = f.type
        if kind in TEXT_TYPES and isinstance(value, ast.StringLit):
            return value.like_pattern() if like else value.value
        if kind in ("id", "reference") and isinstance(value, ast.StringLit):
            if like:
                return value.like_pattern()
            if not ids.is_valid(value.value):
                raise self.fail("INVALID_QUERY_FILTER_OPERATOR",
                                f"invalid ID field: {value.value}", value.pos)
            return ids.to18(value.value)
        if kind == "boolean" and isinstance(value, ast.BoolLit):
            return value.value
        if kind in NUMBER_TYPES and isinstance(value, ast.NumberLit):
            return int(value.value) if kind in ("int", "long") and value.is_integer else float(
                value.value)
        if kind == "date" and isinstance(value, ast.DateLit):
            return value.value.isoformat()
        if kind == "datetime" and isinstance(value, ast.DateTimeLit):
            return format_datetime(value.value)
        if kind in ("date", "datetime") and isinstance(value, ast.DateLiteral):
            # "Date literals are evaluated in the user's time zone" (SOQL and SOSL Reference,
            # Date Formats and Date Literals): the user's today, their local midnights.
            zone = self.zone()
            today = self.now.astimezone(zone).date()
            try:
                start, end = date_literal_range(value.name, value.n, today)
            except OverflowError:  # LAST_N_DAYS:999999999999 leaves the calendar
                raise self.fail("INVALID_QUERY_FILTER_OPERATOR", f"{value.name}:{value.n} is "
                                "out of the range of dates", value.pos) from None
            if kind == "date":
                return start.isoformat(), end.isoformat()
            return tuple(format_datetime(dt.datetime.combine(d, dt.time(), zone))
                         for d in (start, end))
        raise self.fail("INVALID_FIELD", self._type_message(f), value.pos)

    @staticmethod
    def _type_message(f: FieldDef) -> str:
        soap = {"datetime": "dateTime", "reference": "id", "int": "integer",
                "currency": "double", "percent": "double"}.get(f.type, f.type)
        if f.type in TEXT_TYPES or f.type in ("id", "reference"):
            return (f"value of filter criterion for field '{f.name}' must be of type {soap} "
                    "and should be enclosed in quotes")
        return (f"value of filter criterion for field '{f.name}' must be of type {soap} and "
                "should not be enclosed in quotes")
