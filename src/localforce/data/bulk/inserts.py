"""A Bulk insert transaction a column at a time (issue #14): the rows of a CSV chunk checked
and completed as ``Records.create_many`` does it a body at a time, with the same results.

Each column is converted as a list (a text column whose cells all fit stays the list it
is), the system fields, owner and defaults are constant columns, and the rows that pass are
written as value tuples by one ``insert_rows``. A row's error is the one the row path finds
first: its cells' conversions in column order (a column the user may not set fails every
row that gives it a value), then its lookups (``Records._check_references``), then the
required fields after defaults. Objects the row path completes with more than that (derived
fields, sales rules, assignments, rows that change others), columns that are not plain
stored fields of the object as loaded, or a field named twice: ``None``, the caller goes a
body at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from localforce.data import assignments, sales
from localforce.data.access import require_write
from localforce.data.bulk.csvio import NULL
from localforce.data.errors import ApiError
from localforce.data.platform import derives
from localforce.data.records import SALES_RULES, Records, reference_prefixes
from localforce.data.schema import FieldDef
from localforce.data.values import converter, plain_text
from localforce.domain import ids
from localforce.domain.principal import Principal

#: An empty cell in a converted column: the field left out of the row's body.
ABSENT = ""


def insert(records: Records, principal: Principal, sobject: str, names: Sequence[str],
           rows: Sequence[Sequence[str]]) -> list[str | ApiError] | None:
    """Per row of ``rows`` (the cells of the columns ``names``, no Id among them): the new
    record's Id or the row's error; None when the rows must go a body at a time."""
    try:
        obj = records.object(principal, sobject)
        require_write(principal, obj, "create")
    except ApiError as exc:
        return [exc] * len(rows)
    if (obj.kind != "records" or obj.name == assignments.SOBJECT
            or obj.name in sales.ROLLED_UP or derives(obj) or obj.name in SALES_RULES):
        return None
    fields: list[FieldDef] = []
    for name in names:
        f = obj.field(name)
        if f is None or f.name == "Id" or f.name not in obj.stored_keys or any(
                f.name == seen.name for seen in fields):
            return None
        fields.append(f)
    org_id = principal.org_id
    schema = records.schema_for(org_id)
    n = len(rows)
    errors: list[ApiError | None] = [None] * n
    failed = False
    given: dict[str, list[Any]] = {}
    for j, f in enumerate(fields):
        cells = [row[j] for row in rows]
        try:
            Records._check_writable(f, True)
        except ApiError as exc:
            for i, cell in enumerate(cells):
                if cell != "" and errors[i] is None:
                    errors[i], failed = exc, True
            continue
        length = plain_text(f)
        if length is not None and NULL not in cells and (
                not length or max(map(len, cells), default=0) <= length):
            given[f.name] = cells  # stored as given, "" still meaning absent
            continue
        convert = converter(f, reference_prefixes(schema, f))
        values: list[Any] = [ABSENT] * n
        for i, cell in enumerate(cells):
            if cell == "" or errors[i] is not None:
                continue
            if cell == NULL:
                values[i] = None
                continue
            try:
                values[i] = convert(cell)
            except ApiError as exc:
                errors[i], failed = exc, True
        given[f.name] = values
    lookups = [(name, values) for name, values in given.items() if name in obj.reference_keys]
    if lookups:
        for i in range(n):
            if errors[i] is None:
                named = {name: values[i] for name, values in lookups if values[i]}
                if named:
                    try:
                        records._check_references(principal, obj, named, schema)
                    except ApiError as exc:
                        errors[i], failed = exc, True
    alive = [i for i in range(n) if errors[i] is None] if failed else list(range(n))
    new_ids = ids.new_ids(obj.key_prefix, len(alive)) if alive else []
    now, user = records._now(), principal.user_id
    system = {"Id": new_ids, "IsDeleted": False, "CreatedDate": now, "CreatedById": user,
              "LastModifiedDate": now, "LastModifiedById": user, "SystemModstamp": now}
    #: Per stored field written: a value per row alive, or one value for all.
    columns: dict[str, list[Any] | Constant] = {}

    def alive_of(values: list[Any]) -> list[Any]:
        return values if not failed else [values[i] for i in alive]

    for name, what, default in obj.create_plan:
        set_by: list[Any] | None = given.pop(name, None)
        if what == "system":
            value = system[name]
            columns[name] = value if isinstance(value, list) else Constant(value)
        elif what == "owner":
            columns[name] = Constant(user) if set_by is None else [
                user if v is None or v == ABSENT else v for v in alive_of(set_by)]
        elif what == "default":
            columns[name] = Constant(default) if set_by is None else [
                default if v.__class__ is str and v == ABSENT else v for v in alive_of(set_by)]
        elif alive:  # an auto-number: one per row alive, in order
            f = obj.field(name)
            assert f is not None
            first = records.store.next_number(obj, org_id, f)
            columns[name] = [f"{number:08d}" for number in range(first, first + len(alive))]
    for name, values in given.items():
        columns[name] = [None if v.__class__ is str and v == ABSENT else v
                         for v in alive_of(values)]
    missing: dict[int, list[str]] = {}  # what ``Records._required`` finds, per row alive
    for name in obj.required_on_create:
        column = columns.get(name, Constant(None))
        unset: Sequence[int]
        if isinstance(column, Constant):
            unset = range(len(alive)) if column.value in (None, "") else ()
        else:
            unset = [at for at, v in enumerate(column) if v is None or v == ""]
        for at in unset:
            missing.setdefault(at, []).append(name)
    done: list[str | ApiError] = list(errors)  # type: ignore[arg-type]
    for at, i in enumerate(alive):
        absent = missing.get(at)
        done[i] = new_ids[at] if absent is None else Records.required_error(absent)
    count = len(alive) - len(missing)
    if count:
        keep = [at for at in range(len(alive)) if at not in missing] if missing else None
        names_out = list(columns)
        out_columns = []
        for name in names_out:
            column = columns[name]
            if isinstance(column, Constant):
                out_columns.append([column.value] * count)
            else:
                out_columns.append(column if keep is None else [column[at] for at in keep])
        with records.store.transaction() as store:
            store.insert_rows(obj, org_id, names_out, list(zip(*out_columns, strict=True)))
    return done


class Constant:
    """A column with one value for every row."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value
