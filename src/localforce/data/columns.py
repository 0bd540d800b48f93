"""``GET /query?q=…&columns=true``: the columns a query would return, without running it.

Salesforce answers with a ``QueryResultMetadata`` (``@salesforce/types`` tooling.d.ts:
``columnMetadata, entityName, groupBy, idSelected, keyPrefix``); each column is a
``QueryResultColumnMetadata`` (``aggregate, apexType, booleanType, columnName, custom,
displayName, foreignKeyName, insertable, joinColumns, numberType, textType, updatable``).
``sf data query`` reads it to lay out its table (plugin-data ``commands/data/query.js``
``retrieveColumns``):

* a plain field is a column with no ``joinColumns``;
* a parent path (``Account.Owner.Name``) is a column per relationship whose ``joinColumns``
  hold the next step; fields through the same relationship share one column;
* a child subquery is an ``aggregate`` column whose ``joinColumns`` are the child's columns;
* an aggregate or date function is an ``aggregate`` column named by its alias or ``exprN``,
  with the expression as its ``displayName``.
"""

from __future__ import annotations

from typing import Any

from localforce.data.plan import AggregateExpr, ChildPlan, DatePart, Path, QueryPlan
from localforce.data.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef

#: describe ``type`` -> Apex type, for ``apexType``.
APEX_TYPES = {"id": "Id", "reference": "Id", "boolean": "Boolean", "int": "Integer",
              "long": "Long", "double": "Double", "currency": "Decimal", "percent": "Double",
              "date": "Date", "datetime": "Datetime", "time": "Time"}


def column_metadata(plan: QueryPlan) -> dict[str, Any]:
    if plan.count_only:
        columns: list[dict[str, Any]] = []
    elif plan.aggregate:
        columns = [_aggregate_column(plan, name, index, path)
                   for name, index, path in plan.outputs]
    else:
        columns = record_columns(plan)
    id_selected = not plan.aggregate and any(
        isinstance(path, Path) and not path.hops and path.field.name == "Id"
        for _, _, path in plan.outputs)
    return {"columnMetadata": columns, "entityName": plan.root.name,
            "groupBy": bool(plan.select.group_by), "idSelected": id_selected,
            "keyPrefix": plan.root.key_prefix}


def record_columns(plan: QueryPlan) -> list[dict[str, Any]]:
    top: list[dict[str, Any]] = []
    for kind, spec, path in plan.outputs:
        if kind == "child":
            assert isinstance(spec, ChildPlan)
            top.append(_column(spec.name, spec.name, aggregate=True,
                               joins=record_columns(spec.plan)))
            continue
        assert isinstance(path, Path)
        level, names = top, []
        for hop in path.hops:
            name = hop.lookup.relationship_name or hop.lookup.name
            names.append(name)
            parent = next((c for c in level if c["columnName"] == name and c["joinColumns"]),
                          None)
            if parent is None:
                parent = _column(name, ".".join(names), apex_type=hop.target.name, joins=[])
                level.append(parent)
            level = parent["joinColumns"]
        level.append(_field_column(path.field, path.field.name,
                                   ".".join([*names, path.field.name])))
    return top


def _aggregate_column(plan: QueryPlan, name: str, index: int,
                      path: Path | None) -> dict[str, Any]:
    expr = plan.selects[index]
    if isinstance(expr, Path):  # a grouped field: the record carries it under ``name``
        return _field_column(expr.field, name, name)
    if isinstance(expr, AggregateExpr):
        arg = _path_text(expr.arg) if expr.arg is not None else ""
        display = f"{expr.func}({arg})"
        if expr.func in ("COUNT", "COUNT_DISTINCT"):
            apex = "Integer"
        elif expr.func in ("SUM", "AVG") or path is None:
            apex = "Double"
        else:
            apex = APEX_TYPES.get(path.field.type, "String")
    else:
        assert isinstance(expr, DatePart)
        display, apex = f"{expr.func}({_path_text(expr.arg)})", (
            "Date" if expr.func == "DAY_ONLY" else "Integer")
    return _column(name, display, aggregate=True, apex_type=apex,
                   number=apex in ("Integer", "Double"))


def _path_text(path: Path) -> str:
    hops = [h.lookup.relationship_name or h.lookup.name for h in path.hops]
    return ".".join([*hops, path.field.name])


def _field_column(f: FieldDef, name: str, display: str) -> dict[str, Any]:
    return _column(name, display, apex_type=APEX_TYPES.get(f.type, "String"), custom=f.custom,
                   insertable=f.flag("createable"), updatable=f.flag("updateable"),
                   boolean=f.type == "boolean", number=f.type in NUMBER_TYPES,
                   text=f.type in TEXT_TYPES)


def _column(name: str, display: str, *, aggregate: bool = False, apex_type: str | None = None,
            custom: bool = False, insertable: bool = False, updatable: bool = False,
            boolean: bool = False, number: bool = False, text: bool = False,
            joins: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"aggregate": aggregate, "apexType": apex_type, "booleanType": boolean,
            "columnName": name, "custom": custom, "displayName": display,
            "foreignKeyName": None, "insertable": insertable, "joinColumns": joins or [],
            "numberType": number, "textType": text, "updatable": updatable}
