"""Record create / retrieve / update / delete / upsert (REST API Developer Guide, "Working
with Records"; wire shapes in salesforce-wire.md §6.6).

The server maintains Id, OwnerId (defaults to the caller), CreatedDate/ById,
LastModifiedDate/ById, SystemModstamp and IsDeleted; delete is a soft delete (``queryAll``
still sees the row). Errors use Salesforce's codes and texts.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from localforce.data import assignments, sales
from localforce.data.access import (
    OWNER,
    owner_scope,
    require_api,
    require_record_access,
    require_transfer,
    require_visible,
    require_write,
)
from localforce.data.assignments import AssignmentWrites
from localforce.data.custom import Schemas
from localforce.data.errors import ApiError, BadRequest, InsufficientAccess, NotFound
from localforce.data.platform import cascades, derive, derives
from localforce.data.ports import RecordStore
from localforce.data.schema import (
    SYSTEM_FIELDS,
    TEXT_TYPES,
    FieldDef,
    ObjectDef,
    RecordShape,
    Schema,
)
from localforce.data.values import (
    WIRE_CONVERTED,
    compound_address,
    converter,
    format_datetime,
    to_storage,
    to_wire,
)
from localforce.domain import ids
from localforce.domain.principal import Principal

CASCADE_PAGE = 1000
READ_ONLY_ON_WRITE = "Unable to create/update fields: {}. Please check the security settings " \
                     "of this field and verify that it is read/write for your profile or " \
                     "permission set."


class EntityIsDeleted(ApiError):
    error_code = "ENTITY_IS_DELETED"
    status = 404

    def __init__(self) -> None:
        super().__init__("entity is deleted", [])


class MultipleChoices(ApiError):
    """Upsert by an external ID that matches several records: 300 with their URLs."""

    status = 300

    def __init__(self, urls: list[str]) -> None:
        super().__init__("multiple records match")
        self.urls = urls

    def body(self) -> list[Any]:  # type: ignore[override]
        return list(self.urls)


@dataclass
class Memo:
    """What the bodies of one batch of writes share: the org's schema, per body key of
    ``obj`` the field it names with its converter to stored form (``Records._values``), and the
    last auto-number given per field (the batch's rows are written together at its end)."""

    schema: Schema
    obj: ObjectDef
    fields: dict[str, tuple[FieldDef, Callable[[Any], Any]]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SaveResult:
    id: str
    created: bool

    def body(self, upsert: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "success": True, "errors": []}
        if upsert:
            out["created"] = self.created
        return out


class Records:
    def __init__(self, store: RecordStore, clock: Callable[[], float],
                 schemas: Schemas | None = None, provisioned: set[str] | None = None,
                 in_transaction: bool = False,
                 assignments: AssignmentWrites | None = None,
                 declarations: RecordStore | None = None) -> None:
        self.store, self.clock, self.assignments = store, clock, assignments
        #: Where the org's custom-object declarations are read: the store, unless a caller
        #: writing many rows in one transaction shares a (cached) outer store's copy.
        self.declarations = declarations or store
        self.schemas = schemas or Schemas()
        self.provisioned = provisioned if provisioned is not None else set()
        self.in_transaction = in_transaction

    def with_store(self, store: RecordStore, cached_schema: bool = False) -> Records:
        """The same operations on another store (a transaction's); ``cached_schema``: read
        declarations as this one does (not once per call inside the transaction)."""
        return Records(store, self.clock, self.schemas, self.provisioned, in_transaction=True,
                       assignments=self.assignments,
                       declarations=self.declarations if cached_schema else None)

    def schema_for(self, org_id: str) -> Schema:
        source = self.declarations
        schema = self.schemas.get(org_id, source.declarations(org_id), reload=lambda: (
            self.schemas.get(org_id, source.declarations(org_id, fresh=True))))
        if org_id not in self.provisioned:
            self._provision(org_id, schema)
        return schema

    def _provision(self, org_id: str, schema: Schema) -> None:
        """The records every org has without being asked: its standard price book (a fixed
        Id per org, written at most once). Checked once per process and org outside a
        transaction; inside one, each time (a rollback may take the row away again)."""
        book = schema.get("Pricebook2")
        if book is None:
            return
        now = self._now()
        self.store.insert_if_absent(book, org_id, {
            "Id": sales.standard_price_book_id(org_id), "IsDeleted": False,
            "Name": sales.STANDARD_PRICE_BOOK, "IsActive": True, "IsStandard": True,
            "IsArchived": False, "CreatedDate": now, "LastModifiedDate": now,
            "SystemModstamp": now})
        if not self.in_transaction:
            self.provisioned.add(org_id)

    def object(self, principal: Principal, name: str) -> ObjectDef:
        require_api(principal)
        return require_visible(principal, self.schema_for(principal.org_id).get(name))

    # -- create / update --------------------------------------------------------------------

    def create(self, principal: Principal, sobject: str, body: Any) -> SaveResult:
        obj = self.object(principal, sobject)
        require_write(principal, obj, "create")
        obj, values = self._values(principal, obj, body, creating=True)
        if obj.name == assignments.SOBJECT:
            self._required(obj, values)
            return SaveResult(self._assignment_writes().create(principal, values), True)
        record_id, row, follow_up = self._new_record(principal, obj, values)
        with self.store.transaction() as store:  # the row and what it changes elsewhere
            store.insert(obj, principal.org_id, row)
            self.with_store(store)._after_write(principal, obj, values, follow_up)
        return SaveResult(record_id, True)

    def create_many(self, principal: Principal, sobject: str, bodies: Sequence[Any]
                    ) -> list[SaveResult | ApiError]:
        """Bulk inserts: each body checked and completed exactly as ``create`` does, the rows
        that pass written by one multi-row insert; a row's error is its result. Objects whose
        rows change others (line items, assignments) go a row at a time."""
        try:
            obj = self.object(principal, sobject)
            require_write(principal, obj, "create")
        except ApiError as exc:
            return [exc] * len(bodies)
        if obj.name == assignments.SOBJECT or obj.name in sales.ROLLED_UP:
            return [self._attempt(functools.partial(self.create, principal, sobject, body))
                    for body in bodies]
        results: list[SaveResult | ApiError] = []
        rows: list[dict[str, Any]] = []
        new_ids = iter(ids.new_ids(obj.key_prefix, len(bodies)))  # side by side in indexes
        now = self._now()
        memo = Memo(self.schema_for(principal.org_id), obj)
        rules = derives(obj) or obj.name in SALES_RULES
        for body in bodies:
            try:
                obj, values = self._values(principal, obj, body, True, memo)
                record_id, row, _ = self._new_record(principal, obj, values, next(new_ids), now,
                                                     memo.schema, memo.numbers, rules)
            except ApiError as exc:
                results.append(exc)
                continue
            rows.append(row)
            results.append(SaveResult(record_id, True))
        with self.store.transaction() as store:
            store.insert_many(obj, principal.org_id, rows)
        return results

    @staticmethod
    def _attempt(call: Callable[[], SaveResult]) -> SaveResult | ApiError:
        try:
            return call()
        except ApiError as exc:
            return exc

    def _new_record(self, principal: Principal, obj: ObjectDef, values: dict[str, Any],
                    record_id: str | None = None, now: str | None = None,
                    schema: Schema | None = None, numbers: dict[str, int] | None = None,
                    rules: bool | None = None
                    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """A new record's Id, its stored row (``values`` completed in place with the system
        fields, defaults, derived fields and sales rules) and its opportunity's update.
        ``record_id``/``now``/``schema``: what a batch of creates minted or read for all;
        ``numbers``: the batch's last auto-numbers (its rows are not in the table yet);
        ``rules``: whether ``obj`` derives fields or has sales rules, if the batch knows."""
        self._check_references(principal, obj, values, schema)
        if rules is None:
            rules = derives(obj) or obj.name in SALES_RULES
        given = dict(values) if rules else values
        record_id = record_id or ids.new_id(obj.key_prefix)
        now = now or self._now()
        system = {"Id": record_id, "IsDeleted": False, "CreatedDate": now,
                  "CreatedById": principal.user_id, "LastModifiedDate": now,
                  "LastModifiedById": principal.user_id, "SystemModstamp": now}
        for name, what, default in obj.create_plan:
            if what == "system":
                values[name] = system[name]
            elif what == "owner":
                if values.get(name) is None:
                    values[name] = principal.user_id
            elif what == "default":
                values.setdefault(name, default)
            else:
                f = obj.field(name)
                assert f is not None
                if numbers is None:
                    number = self.store.next_number(obj, principal.org_id, f)
                else:
                    number = numbers[name] = numbers[name] + 1 if name in numbers else \
                        self.store.next_number(obj, principal.org_id, f)
                values[name] = f"{number:08d}"
        follow_up = None
        if rules:  # what the record's other values make of it
            values.update(derive(obj, values, given))
            follow_up = self._sales_rules(principal, obj, values, given, creating=True)
        self._required(obj, values)
        stored = obj.stored_keys
        row = values if stored.issuperset(values) else {
            k: v for k, v in values.items() if k in stored}
        return record_id, row, follow_up

    def update(self, principal: Principal, sobject: str, record_id: str, body: Any) -> None:
        obj = self.object(principal, sobject)
        require_write(principal, obj, "update")
        current = self._live(principal, obj, record_id)
        require_record_access(principal, obj, current.get(OWNER))
        obj, values = self._values(principal, obj, body, creating=False)
        require_transfer(principal, obj, current.get(OWNER), values.get(OWNER))
        self._check_references(principal, obj, values)
        merged = {**current, **values}
        merged.update(derive(obj, merged, values))
        self._sales_rules(principal, obj, merged, values, creating=False)
        values = {k: v for k, v in merged.items() if k in values or current.get(k) != v}
        now = self._now()
        values.update(LastModifiedDate=now, LastModifiedById=principal.user_id,
                      SystemModstamp=now)
        self._required(obj, merged)
        with self.store.transaction() as store:
            store.update(obj, principal.org_id, ids.to18(record_id), values)
            self.with_store(store)._after_write(principal, obj, merged, None)

    def _values(self, principal: Principal, obj: ObjectDef, body: Any,
                creating: bool, memo: Memo | None = None) -> tuple[ObjectDef, dict[str, Any]]:
        """The body's values in stored form, and the object they belong to (reloaded when
        the body names a custom field this process has not seen yet). ``memo``: shared by
        the bodies of one batch, what their keys resolved to (once per key, not per row)."""
        if not isinstance(body, Mapping):
            raise BadRequest("JSON_PARSER_ERROR", "The request body must be a JSON object")
        schema = memo.schema if memo is not None else self.schema_for(principal.org_id)
        out: dict[str, Any] = {}
        known = memo.fields if memo is not None and memo.obj is obj else None
        for key, value in body.items():
            if known is not None and key in known:
                seen, convert = known[key]
                out[seen.name] = None if value is None else convert(value)
                continue
            if key == "attributes":
                continue
            f = obj.field(key)
            if f is None and key.lower().endswith("__c"):
                obj = schema.refreshed(obj.name) or obj
                f = obj.field(key)
            if f is None and isinstance(value, Mapping) and obj.relationship(key) is not None:
                lookup = obj.relationship(key)
                assert lookup is not None
                self._check_writable(lookup, creating)
                out[lookup.name] = self._parent_by_external_id(principal, schema, lookup, value)
                continue
            if f is None:
                raise BadRequest("INVALID_FIELD",
                                 f"No such column '{key}' on sobject of type {obj.name}")
            if f.name == "Id":
                if creating:
                    raise BadRequest("INVALID_FIELD",
                                     "The Id field should not be specified in the sobject data.")
                continue
            self._check_writable(f, creating)
            prefixes = reference_prefixes(schema, f)
            out[f.name] = to_storage(f, value, prefixes)
            if memo is not None and memo.obj is obj:
                memo.fields[key] = (f, converter(f, prefixes))
        return obj, out

    def _check_references(self, principal: Principal, obj: ObjectDef,
                          values: Mapping[str, Any], schema: Schema | None = None) -> None:
        """Each lookup the body sets names a live record of the caller's org that they may
        see (else INVALID_CROSS_REFERENCE_KEY, ENTITY_IS_DELETED); an owner is an active
        user (INACTIVE_OWNER_OR_USER). The id's type was checked when it was parsed."""
        lookups = obj.reference_keys
        if lookups.isdisjoint(values):
            return
        named = [n for n in values if n in lookups and values[n]]
        if not named:
            return
        schema = schema or self.schema_for(principal.org_id)
        for name in named:
            f, value = obj.field(name), values[name]
            assert f is not None
            cross = BadRequest("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                               [f.name])
            target = schema.by_prefix(value[:3])
            if target is None:
                raise cross
            scope = owner_scope(principal, target)
            wanted = [w for w in (target.field("Id"), scope[0] if scope else None,
                                  target.field("IsActive") if f.name == OWNER else None) if w]
            row = self.store.get(target, principal.org_id, value, wanted)
            if row is None or (scope is not None and row.get(scope[0].name) != scope[1]):
                raise cross
            if row.get("IsDeleted"):
                raise BadRequest("ENTITY_IS_DELETED", "entity is deleted", [f.name])
            if f.name == OWNER and row.get("IsActive") is False:
                raise BadRequest("INACTIVE_OWNER_OR_USER", f"operation performed with inactive "
                                 f"user [{value}] as owner of {obj.name}", [f.name])

    # -- products, price books, line items (data/sales.py) ---------------------------------

    def _fetch(self, principal: Principal, sobject: str, record_id: str) -> dict[str, Any] | None:
        obj = self.schema_for(principal.org_id).get(sobject)
        if obj is None or not ids.is_valid(record_id):
            return None
        row = self.store.get(obj, principal.org_id, ids.to18(record_id), obj.fields)
        return None if row is None or row["IsDeleted"] else row

    def _find(self, principal: Principal, sobject: str, field_name: str, value: Any) -> list[str]:
        obj = self.schema_for(principal.org_id).get(sobject)
        f = obj.field(field_name) if obj else None
        assert obj is not None and f is not None
        return self.store.find_ids(obj, principal.org_id, f, value, limit=100_000)

    def _sales_rules(self, principal: Principal, obj: ObjectDef, merged: dict[str, Any],
                     given: Mapping[str, Any], creating: bool) -> dict[str, Any] | None:
        """Apply the price book and line item rules to ``merged`` in place; return what the
        line item's opportunity must be updated with first, if anything."""
        def fetch(sobject: str, record_id: str) -> dict[str, Any] | None:
            return self._fetch(principal, sobject, record_id)

        if obj.name == "PricebookEntry":
            merged.update(sales.pricebook_entry(
                merged, creating, fetch, lambda *a: self._find(principal, *a),
                sales.standard_price_book_id(principal.org_id)))
        elif obj.name == "OpportunityLineItem":
            derived, opportunity_update = sales.line_item(merged, given, creating, fetch)
            merged.update(derived)
            return opportunity_update
        return None

    def _after_write(self, principal: Principal, obj: ObjectDef, record: Mapping[str, Any],
                     opportunity_update: dict[str, Any] | None) -> None:
        """A line item changed: its opportunity's Amount is the sum of its live items."""
        if obj.name not in sales.ROLLED_UP:
            return
        opportunity = self.schema_for(principal.org_id).get("Opportunity")
        opportunity_id = str(record.get("OpportunityId") or "")
        if opportunity is None or self._fetch(principal, "Opportunity", opportunity_id) is None:
            return
        total_price = obj.field("TotalPrice")
        assert total_price is not None
        rows = (self.store.get(obj, principal.org_id, i, [total_price]) for i in
                self._find(principal, obj.name, "OpportunityId", opportunity_id))
        total = sum(float(r.get("TotalPrice") or 0) for r in rows if r is not None)
        self.store.update(opportunity, principal.org_id, opportunity_id,
                          {**(opportunity_update or {}), "Amount": round(total, 2)})

    @staticmethod
    def _check_writable(f: FieldDef, creating: bool) -> None:
        if not f.flag("createable" if creating else "updateable"):
            raise BadRequest("INVALID_FIELD_FOR_INSERT_UPDATE",
                             READ_ONLY_ON_WRITE.format(f.name), [f.name])

    def _parent_by_external_id(self, principal: Principal, schema: Schema, lookup: FieldDef,
                               ref: Mapping[str, Any]) -> str:
        """``"Account": {"Ext__c": "A-1"}`` in a body: the Id of the one live Account whose
        ``Ext__c`` is ``A-1`` (REST API Developer Guide, "Insert or Update (Upsert) a Record
        Using an External ID", relationship fields; polymorphic lookups name the parent's type
        in ``attributes``)."""
        attributes = ref.get("attributes")
        named = attributes.get("type") if isinstance(attributes, Mapping) else None
        targets = [named] if named else list(lookup.reference_to[:1])
        parent = schema.get(str(targets[0])) if targets else None
        keys = [k for k in ref if k != "attributes"]
        if parent is None or parent.kind != "records" or len(keys) != 1 or (
                named and parent.name.lower() not in (t.lower() for t in lookup.reference_to)):
            raise BadRequest("INVALID_FIELD", f"Invalid foreign key relationship name "
                             f"{lookup.relationship_name}", [lookup.name])
        key_field = parent.field(keys[0])
        if key_field is None and keys[0].lower().endswith("__c"):
            parent = schema.refreshed(parent.name) or parent
            key_field = parent.field(keys[0])
        if key_field is None or not (key_field.flag("externalId") or key_field.name == "Id"):
            raise BadRequest("INVALID_FIELD", f"Field name provided, {keys[0]} is not an "
                             f"External ID or indexed field for {parent.name}", [lookup.name])
        value = ref[keys[0]]
        found = [] if value in (None, "") else self.store.find_ids(
            parent, principal.org_id, key_field, to_storage(key_field, value), limit=2)
        if not found:
            raise BadRequest("INVALID_FIELD", f"Foreign key external ID: {value} not found for "
                             f"field {key_field.name} in entity {parent.name}", [lookup.name])
        if len(found) > 1:
            raise BadRequest("DUPLICATE_EXTERNAL_ID", f"Foreign key external ID: {value} "
                             f"matched more than one record for field {key_field.name} in "
                             f"entity {parent.name}", [lookup.name])
        return found[0]

    @staticmethod
    def _required(obj: ObjectDef, values: Mapping[str, Any]) -> None:
        missing = [name for name in obj.required_on_create if values.get(name) in (None, "")]
        if missing:
            raise Records.required_error(missing)

    @staticmethod
    def required_error(missing: list[str]) -> BadRequest:
        return BadRequest("REQUIRED_FIELD_MISSING",
                          f"Required fields are missing: [{', '.join(missing)}]", missing)

    # -- retrieve / delete ----------------------------------------------------------------

    def retrieve(self, principal: Principal, sobject: str, record_id: str, version: str,
                 fields: str | None = None) -> dict[str, Any]:
        obj = self.object(principal, sobject)
        shape = RecordShape.of(obj, self._fields(obj, fields)) if fields else obj.whole_record
        record_id, row = self._visible_row(principal, obj, record_id, shape.reads)
        url = f"/services/data/v{version}/sobjects/{obj.name}/{record_id}"
        out: dict[str, Any] = {"attributes": {"type": obj.name, "url": url}}
        for f, parts in shape.answers:
            if parts:
                out[f.name] = compound_address(f, [(p, row.get(p.name)) for p in parts])
            elif f.type in WIRE_CONVERTED:
                out[f.name] = to_wire(f, row.get(f.name), url)
            else:  # as stored (to_wire's answer for every other type)
                out[f.name] = row.get(f.name)
        return out

    def last_modified(self, principal: Principal, sobject: str, record_id: str) -> str | None:
        """The record's ``SystemModstamp`` (wire form), for ``If-Modified-Since``; 404 as
        ``retrieve``."""
        obj = self.object(principal, sobject)
        stamp = obj.field("SystemModstamp") or obj.field("LastModifiedDate")
        if stamp is None:
            return None
        _, row = self._visible_row(principal, obj, record_id, [stamp])
        value = row.get(stamp.name)
        return None if value is None else str(value)

    def _visible_row(self, principal: Principal, obj: ObjectDef, record_id: str,
                     fields: Sequence[FieldDef]) -> tuple[str, dict[str, Any]]:
        """The 18-character Id and the live row of a record the caller may see, else 404."""
        id18 = ids.valid18(record_id)
        if id18 is None:
            raise NotFound()
        scope = owner_scope(principal, obj)
        if scope is not None and all(f.name != scope[0].name for f in fields):
            fields = [*fields, scope[0]]
        row = self.store.get(obj, principal.org_id, id18, fields)
        if row is None or row["IsDeleted"]:
            raise NotFound()
        if scope is not None and row.get(scope[0].name) != scope[1]:
            raise NotFound()  # another user's row: as if it did not exist
        return id18, row

    def blob(self, principal: Principal, sobject: str, record_id: str,
             field_name: str) -> tuple[bytes, str] | None:
        """``GET /sobjects/Attachment/{id}/Body``: a blob field's bytes and content type; None
        when the path names no record's blob field (it is then an external id lookup: field
        names never start with a key prefix)."""
        obj = self.object(principal, sobject)
        f = obj.field(field_name)
        if f is None or f.type != "base64" or not ids.is_valid(record_id) \
                or ids.to18(record_id)[:3] != obj.key_prefix:
            return None
        content_type = obj.field("ContentType")
        _, row = self._visible_row(principal, obj, record_id,
                                   [f] + ([content_type] if content_type else []))
        return (base64.b64decode(str(row.get(f.name) or "")),
                str(row.get("ContentType") or "application/octet-stream"))

    @staticmethod
    def _fields(obj: ObjectDef, fields: str | None) -> list[FieldDef]:
        if not fields:
            return list(obj.visible_fields)
        out = []
        for name in (n.strip() for n in fields.split(",") if n.strip()):
            f = obj.field(name)
            if f is None:
                raise BadRequest("INVALID_FIELD", f"No such column '{name}' on entity "
                                 f"'{obj.name}'. If you are attempting to use a custom field, "
                                 "be sure to append the '__c' after the custom field name. "
                                 "Please reference your WSDL or the describe call for the "
                                 "appropriate names.")
            out.append(f)
        return out

    def delete(self, principal: Principal, sobject: str, record_id: str) -> None:
        """A soft delete of the record and, in the same transaction, of the children the
        platform deletes with it (``platform.cascades``)."""
        obj = self.object(principal, sobject)
        require_write(principal, obj, "delete")
        if obj.name == assignments.SOBJECT:
            self._check_id(obj, record_id)
            return self._assignment_writes().delete(principal, record_id)
        require_record_access(principal, obj, self._live(principal, obj, record_id).get(OWNER))
        with self.store.transaction() as store:  # no schema change in it: the cached one
            self.with_store(store, cached_schema=True)._delete_tree(principal, obj,
                                                                    ids.to18(record_id))

    def _delete_tree(self, principal: Principal, obj: ObjectDef, record_id: str) -> None:
        now = self._now()
        row = (self._fetch(principal, obj.name, record_id) or {}) \
            if obj.name in sales.ROLLED_UP else {}
        self.store.update(obj, principal.org_id, record_id, {
            "IsDeleted": True, "LastModifiedDate": now, "LastModifiedById": principal.user_id,
            "SystemModstamp": now})
        self._after_write(principal, obj, row, None)
        for child, lookup in cascades(self.schema_for(principal.org_id), obj):
            while found := self.store.find_ids(child, principal.org_id, lookup, record_id,
                                               limit=CASCADE_PAGE):
                for child_id in found:
                    self._delete_tree(principal, child, child_id)

    def hard_delete(self, principal: Principal, sobject: str, record_id: str) -> None:
        """Bulk ``hardDelete``: the record and the children the platform deletes with it are
        gone for good: no recycle bin, so neither ``queryAll`` nor ``/deleted`` sees them. The
        job's creator holds "Bulk API Hard Delete" (checked when the job is created)."""
        obj = self.object(principal, sobject)
        require_write(principal, obj, "delete")
        if obj.name == assignments.SOBJECT:
            return self.delete(principal, sobject, record_id)  # no recycle bin there anyway
        require_record_access(principal, obj, self._live(principal, obj, record_id).get(OWNER))
        with self.store.transaction() as store:
            self.with_store(store, cached_schema=True)._remove_tree(principal, obj,
                                                                    ids.to18(record_id))

    def _remove_tree(self, principal: Principal, obj: ObjectDef, record_id: str) -> None:
        row = (self._fetch(principal, obj.name, record_id) or {}) \
            if obj.name in sales.ROLLED_UP else {}
        self.store.remove(obj, principal.org_id, record_id)
        self._after_write(principal, obj, row, None)
        for child, lookup in cascades(self.schema_for(principal.org_id), obj):
            while found := self.store.find_ids(child, principal.org_id, lookup, record_id,
                                               limit=CASCADE_PAGE):
                for child_id in found:
                    self._remove_tree(principal, child, child_id)

    def _assignment_writes(self) -> AssignmentWrites:
        """Assignments are written in the directory's own transaction: never inside a
        record transaction (Salesforce refuses mixing setup and other DML the same way)."""
        if self.assignments is None:
            raise InsufficientAccess("entity is read-only")
        if self.in_transaction:
            raise BadRequest("MIXED_DML_OPERATION", "DML operation on setup object is not "
                             "permitted in an allOrNone transaction: PermissionSetAssignment")
        return self.assignments

    @staticmethod
    def _check_id(obj: ObjectDef, record_id: str) -> None:
        if not ids.is_valid(record_id) or ids.to18(record_id)[:3] != obj.key_prefix:
            raise BadRequest("MALFORMED_ID", f"{obj.describe.get('label', obj.name)} ID: id "
                             f"value of incorrect type: {record_id}", ["Id"])

    def _live(self, principal: Principal, obj: ObjectDef, record_id: str) -> dict[str, Any]:
        self._check_id(obj, record_id)
        row = self.store.get(obj, principal.org_id, ids.to18(record_id), obj.fields)
        if row is None:
            raise NotFound()
        if row["IsDeleted"]:
            raise EntityIsDeleted()
        return row

    # -- external IDs -----------------------------------------------------------------------

    def external_field(self, obj: ObjectDef, name: str) -> FieldDef:
        f = obj.field(name)
        if f is None or not (f.flag("externalId") or f.name == "Id"):
            raise NotFound("Provided external ID field does not exist or is not accessible: "
                           f"{name}")
        return f

    def by_external_id(self, principal: Principal, sobject: str, field_name: str, value: str,
                       version: str, fields: str | None = None) -> dict[str, Any]:
        obj = self.object(principal, sobject)
        f = self.external_field(obj, field_name)
        found = self.store.find_ids(obj, principal.org_id, f, to_storage(f, value))
        if not found:
            raise NotFound()
        if len(found) > 1:
            raise MultipleChoices(self._urls(obj, found, version))
        return self.retrieve(principal, sobject, found[0], version, fields)

    def upsert(self, principal: Principal, sobject: str, field_name: str, value: str,
               body: Any, version: str, update_only: bool = False) -> SaveResult:
        """PATCH /sobjects/T/ExtField/value: insert (201), update (200) or 300.

        With ``update_only`` (``?updateOnly=true``, API v61+) no match is a 404, not an insert.
        """
        obj = self.object(principal, sobject)
        f = self.external_field(obj, field_name)
        if isinstance(body, Mapping) and any(k.lower() == f.key for k in body) and f.name != "Id":
            body = {k: v for k, v in body.items() if k.lower() != f.key}
        found = [] if not value else self.store.find_ids(
            obj, principal.org_id, f, to_storage(f, value))
        if len(found) > 1:
            raise MultipleChoices(self._urls(obj, found, version))
        if found:
            self.update(principal, sobject, found[0], body)
            return SaveResult(found[0], False)
        if (f.name == "Id" and value) or update_only:
            raise NotFound()
        data = dict(body) if isinstance(body, Mapping) else body
        if isinstance(data, dict) and f.name != "Id":
            data[f.name] = value
        return self.create(principal, sobject, data)

    # -- many records at once (Bulk jobs) ------------------------------------------------

    def update_many(self, principal: Principal, sobject: str,
                    items: Sequence[tuple[str, Any]]) -> list[SaveResult | ApiError]:
        """Bulk updates ``(Id, body)``: each row checked exactly as ``update`` checks it, in
        order (a row sees what the rows before it changed); the records read by one query
        and written by one ``executemany`` per set of changed columns."""
        try:
            obj = self.object(principal, sobject)
            require_write(principal, obj, "update")
        except ApiError as exc:
            return [exc] * len(items)
        if _row_at_a_time(obj, self.schema_for(principal.org_id)):
            return [self._attempt(functools.partial(self._update_saved, principal, sobject, i, b))
                    for i, b in items]
        batch = _Batch(self, principal, obj)
        batch.load([i for i, _ in items], _Batch.update_fields(obj))
        results = [self._attempt(functools.partial(batch.update, i, b)) for i, b in items]
        batch.flush()
        return results

    def _update_saved(self, principal: Principal, sobject: str, record_id: str,
                      body: Any) -> SaveResult:
        self.update(principal, sobject, record_id, body)
        return SaveResult(ids.to18(record_id), False)

    def delete_many(self, principal: Principal, sobject: str, record_ids: Sequence[str],
                    hard: bool = False) -> list[SaveResult | ApiError]:
        """Bulk deletes (``hard``: Bulk ``hardDelete``): each Id checked as ``delete`` /
        ``hard_delete`` check it, in order (an Id twice: the second is already gone); the
        records, then the children the platform deletes with them, a statement per object."""
        try:
            obj = self.object(principal, sobject)
            require_write(principal, obj, "delete")
        except ApiError as exc:
            return [exc] * len(record_ids)
        if _row_at_a_time(obj, self.schema_for(principal.org_id)):
            return [self._attempt(functools.partial(self._deleted, principal, sobject, i, hard))
                    for i in record_ids]
        batch = _Batch(self, principal, obj)
        owner = obj.field(OWNER)
        batch.load(record_ids, [owner] if owner is not None else [])
        results: list[SaveResult | ApiError] = []
        gone: list[str] = []
        for record_id in record_ids:
            try:
                row = batch.live(record_id)
                require_record_access(principal, obj, row.get(OWNER))
            except ApiError as exc:
                results.append(exc)
                continue
            key = str(batch.key(record_id))
            if hard:
                del batch.rows[key]
            else:
                row["IsDeleted"] = True
            gone.append(key)
            results.append(SaveResult(key, False))
        with self.store.transaction() as store:
            self.with_store(store)._delete_trees(principal, obj, gone, hard)
        return results

    def _deleted(self, principal: Principal, sobject: str, record_id: str,
                 hard: bool) -> SaveResult:
        (self.hard_delete if hard else self.delete)(principal, sobject, record_id)
        return SaveResult(ids.to18(record_id), False)

    def _delete_trees(self, principal: Principal, obj: ObjectDef, record_ids: list[str],
                      hard: bool) -> None:
        """``_delete_tree``/``_remove_tree`` of many records of ``obj`` (none of them a line
        item): the records, then per child object its live children of them, and so on."""
        if not record_ids:
            return
        if hard:
            self.store.remove_many(obj, principal.org_id, record_ids)
        else:
            now = self._now()
            gone = {"IsDeleted": True, "LastModifiedDate": now,
                    "LastModifiedById": principal.user_id, "SystemModstamp": now}
            self.store.update_many(obj, principal.org_id, [(i, gone) for i in record_ids])
        for child, lookup in cascades(self.schema_for(principal.org_id), obj):
            for start in range(0, len(record_ids), CASCADE_PAGE):
                parents = record_ids[start:start + CASCADE_PAGE]
                while found := self.store.find_many(child, principal.org_id, lookup, parents,
                                                    limit=CASCADE_PAGE):
                    children = [i for i, _ in found]
                    if child.name in sales.ROLLED_UP:  # their opportunity's Amount
                        for child_id in children:
                            (self._remove_tree if hard else self._delete_tree)(
                                principal, child, child_id)
                    else:
                        self._delete_trees(principal, child, children, hard)

    def upsert_many(self, principal: Principal, sobject: str, field_name: str,
                    items: Sequence[tuple[str, Any]], version: str
                    ) -> list[SaveResult | ApiError]:
        """Bulk upserts ``(external id value, body)``: each row as ``upsert`` does it, in
        order (a value a row created, a later row of the batch updates); the records that
        match found by one query, the new ones inserted and the changed ones updated a
        statement per shape."""
        try:
            obj = self.object(principal, sobject)
            f = self.external_field(obj, field_name)
        except ApiError as exc:
            return [exc] * len(items)
        if _row_at_a_time(obj, self.schema_for(principal.org_id)):
            return [self._upsert_row(principal, sobject, f, v, b, version) for v, b in items]
        text = f.type in TEXT_TYPES

        def key(stored: Any) -> Any:
            return stored.lower() if text and isinstance(stored, str) else stored

        stored: list[Any] = []
        for value, _ in items:
            try:
                stored.append(to_storage(f, value) if value else None)
            except ApiError as exc:
                stored.append(exc)
        wanted = [v for v in stored if v is not None and not isinstance(v, ApiError)]
        matches: dict[Any, list[str]] = {}
        batch = _Batch(self, principal, obj, len(items))
        if f.name == "Id":
            batch.load(wanted, _Batch.update_fields(obj))
            matches = {i: [i] for i, row in batch.rows.items() if not row["IsDeleted"]}
        else:
            for record_id, value in self.store.find_many(obj, principal.org_id, f, wanted):
                matches.setdefault(key(value), []).append(record_id)
            batch.load([found[0] for found in matches.values() if len(found) == 1],
                       _Batch.update_fields(obj))
        results: list[SaveResult | ApiError] = []
        for (value, body), given in zip(items, stored, strict=True):
            try:
                if isinstance(body, Mapping) and f.name != "Id" and any(
                        k.lower() == f.key for k in body):
                    body = {k: v for k, v in body.items() if k.lower() != f.key}
                if isinstance(given, ApiError):
                    raise given
                found = matches.get(key(given), []) if value else []
                if len(found) > 1:
                    raise _duplicate_external_id(f, found)
                if found:
                    results.append(batch.update(found[0], body))
                    continue
                if f.name == "Id" and value:
                    raise NotFound()
                data = dict(body) if isinstance(body, Mapping) else body
                if isinstance(data, dict) and f.name != "Id":
                    data[f.name] = value
                result = batch.create(data)
                if value:
                    matches[key(given)] = [result.id]
                results.append(result)
            except ApiError as exc:
                results.append(exc)
        batch.flush()
        return results

    def _upsert_row(self, principal: Principal, sobject: str, f: FieldDef, value: str,
                    body: Any, version: str) -> SaveResult | ApiError:
        """One row of a Bulk upsert through ``upsert``: its error is the row's result, and
        several matches are Salesforce's DUPLICATE_EXTERNAL_ID, not REST's 300."""
        try:
            return self.upsert(principal, sobject, f.name, value, body, version)
        except MultipleChoices as exc:
            return _duplicate_external_id(f, [url.rsplit("/", 1)[1] for url in exc.urls])
        except ApiError as exc:
            return exc

    @staticmethod
    def _urls(obj: ObjectDef, found: list[str], version: str) -> list[str]:
        return [f"/services/data/v{version}/sobjects/{obj.name}/{i}" for i in found]

    def _now(self) -> str:
        return format_datetime(dt.datetime.fromtimestamp(self.clock(), dt.UTC))


def _duplicate_external_id(f: FieldDef, found: list[str]) -> BadRequest:
    """A Bulk upsert row whose external ID several records have: Salesforce fails the row
    with ``DUPLICATE_EXTERNAL_ID:<label>: more than one record found for external id field:
    [<Id>, <Id>]`` (REST's one-record upsert answers 300 with their URLs instead)."""
    label = f.describe.get("label") or f.name
    return BadRequest("DUPLICATE_EXTERNAL_ID", f"{label}: more than one record found for "
                      f"external id field: [{', '.join(sorted(found))}]", [f.name])


def reference_prefixes(schema: Schema, f: FieldDef) -> tuple[str, ...]:
    """The key prefixes a value of lookup ``f`` may start with (none for other fields)."""
    return tuple(o.key_prefix for o in (schema.get(n) for n in f.reference_to)
                 if o) if f.type == "reference" else ()


#: Objects whose writes ``_sales_rules`` completes.
SALES_RULES = frozenset({"PricebookEntry", "OpportunityLineItem"})


def _row_at_a_time(obj: ObjectDef, schema: Schema) -> bool:
    """Objects a batch of writes still goes through a row at a time: those outside the
    record tables, assignments, the price book and line item rules (their writes read and
    change other rows), and objects whose deletes cascade to their own kind."""
    return (obj.kind != "records" or obj.name in ROW_AT_A_TIME
            or any(child.name == obj.name for child, _ in cascades(schema, obj)))


ROW_AT_A_TIME = frozenset({assignments.SOBJECT, "PricebookEntry", *sales.ROLLED_UP})


class _Batch:
    """One batch of writes to ``obj``'s records, each row checked as the one-record calls
    check it, in order: ``rows`` holds the records as the rows so far left them (read by one
    query up front), and the writes wait in ``inserts``/``updates`` for ``flush`` (a record
    that several rows change written once). A row whose lookups name a record the batch has
    not written yet flushes first, so its checks read what the one-record calls would."""

    def __init__(self, records: Records, principal: Principal, obj: ObjectDef,
                 creates: int = 0) -> None:
        """``creates``: at most how many rows the batch creates (Ids side by side)."""
        self.records, self.principal, self.obj = records, principal, obj
        self.creates = creates
        schema = records.schema_for(principal.org_id)
        self.update_memo, self.create_memo = Memo(schema, obj), Memo(schema, obj)
        self.rows: dict[str, dict[str, Any]] = {}
        self.inserts: dict[str, dict[str, Any]] = {}
        self.updates: dict[str, dict[str, Any]] = {}
        self.now = records._now()
        self._create_error: ApiError | None = None
        self._create_checked = False
        self._update_error: ApiError | None = None
        self._update_checked = False
        self._new_ids: Iterator[str] | None = None
        self._keys: dict[str, str | None] = {}

    @staticmethod
    def update_fields(obj: ObjectDef) -> list[FieldDef]:
        """What an update reads of the record: its owner and the fields it must keep set,
        or, for an object with derived fields, everything (``update`` reads it all)."""
        if derives(obj):
            return list(obj.fields)
        wanted = [OWNER, *obj.required_on_create]
        return [f for f in (obj.field(n) for n in wanted) if f is not None]

    def key(self, record_id: str) -> str | None:
        """The 18-character Id of a record of ``obj`` that ``record_id`` names, None when it
        names none (not an Id, or another object's); worked out once per value."""
        found = self._keys.get(record_id, "")
        if found == "":
            found = ids.to18(record_id) if ids.is_valid(record_id) else None
            if found is not None and found[:3] != self.obj.key_prefix:
                found = None
            self._keys[record_id] = found
        return found

    def load(self, record_ids: Sequence[str], fields: Sequence[FieldDef]) -> None:
        """Read the records ``record_ids`` name (those of ``obj``'s kind) in one go."""
        wanted = [k for k in map(self.key, record_ids) if k is not None and k not in self.rows]
        if wanted:
            self.rows.update(self.records.store.get_many(self.obj, self.principal.org_id,
                                                         wanted, fields))

    def live(self, record_id: str) -> dict[str, Any]:
        """``Records._live`` on the batch's copy."""
        key = self.key(record_id)
        if key is None:
            Records._check_id(self.obj, record_id)  # raises MALFORMED_ID
        row = self.rows.get(str(key))
        if row is None:
            raise NotFound()
        if row["IsDeleted"]:
            raise EntityIsDeleted()
        return row

    def _require(self, verb: str) -> None:
        """``require_write`` once per batch and verb (its answer does not change)."""
        if verb == "create":
            if not self._create_checked:
                self._create_checked = True
                try:
                    require_write(self.principal, self.obj, "create")
                except ApiError as exc:
                    self._create_error = exc
            error = self._create_error
        else:
            if not self._update_checked:
                self._update_checked = True
                try:
                    require_write(self.principal, self.obj, "update")
                except ApiError as exc:
                    self._update_error = exc
            error = self._update_error
        if error is not None:
            raise error

    def _before_body(self, body: Any) -> None:
        """A relationship to ``obj`` by external ID is looked up while the body is read: the
        batch's rows must be in the table by then."""
        if (self.inserts or self.updates) and isinstance(body, Mapping) and any(
                isinstance(v, Mapping) and (lookup := self.obj.relationship(k)) is not None
                and self.obj.name in lookup.reference_to for k, v in body.items()):
            self.flush()

    def _before_references(self, values: Mapping[str, Any]) -> None:
        if self.inserts or self.updates:
            lookups = self.obj.reference_keys
            if any(n in lookups and (values[n] in self.inserts or values[n] in self.updates)
                   for n in values):
                self.flush()

    def update(self, record_id: str, body: Any) -> SaveResult:
        """``Records.update`` of one row."""
        r, principal = self.records, self.principal
        self._require("update")
        current = self.live(record_id)
        require_record_access(principal, self.obj, current.get(OWNER))
        self._before_body(body)
        obj, values = r._values(principal, self.obj, body, False, self.update_memo)
        require_transfer(principal, obj, current.get(OWNER), values.get(OWNER))
        self._before_references(values)
        r._check_references(principal, obj, values, self.update_memo.schema)
        merged = {**current, **values}
        if derives(obj):  # what changed: what the body set and what follows from it
            merged.update(derive(obj, merged, values))
            values = {k: v for k, v in merged.items() if k in values or current.get(k) != v}
        else:
            values = dict(values)
        values.update(LastModifiedDate=self.now, LastModifiedById=principal.user_id,
                      SystemModstamp=self.now)
        r._required(obj, merged)
        self.obj = obj if len(obj.stored_keys) > len(self.obj.stored_keys) else self.obj
        key = str(self.key(record_id))
        current.update(values)
        if key in self.inserts:
            self.inserts[key].update(values)
        else:
            self.updates.setdefault(key, {}).update(values)
        return SaveResult(key, False)

    def create(self, body: Any) -> SaveResult:
        """``Records.create`` of one row (as ``create_many`` makes it)."""
        r, principal = self.records, self.principal
        self._require("create")
        self._before_body(body)
        obj, values = r._values(principal, self.obj, body, True, self.create_memo)
        self._before_references(values)
        if self._new_ids is None:
            self._new_ids = iter(ids.new_ids(self.obj.key_prefix, max(1, self.creates)))
        record_id, row, _ = r._new_record(principal, obj, values, next(self._new_ids),
                                          self.now, self.create_memo.schema,
                                          self.create_memo.numbers)
        self.obj = obj if len(obj.stored_keys) > len(self.obj.stored_keys) else self.obj
        self.inserts[record_id] = row
        self.rows[record_id] = {**row, "IsDeleted": False}
        return SaveResult(record_id, True)

    def flush(self) -> None:
        """Write what the rows so far changed, in one transaction (the caller's, in a job)."""
        if not (self.inserts or self.updates):
            return
        org_id = self.principal.org_id
        with self.records.store.transaction() as store:
            store.insert_many(self.obj, org_id, list(self.inserts.values()))
            store.update_many(self.obj, org_id, list(self.updates.items()))
        self.inserts, self.updates = {}, {}


__all__ = ["SYSTEM_FIELDS", "EntityIsDeleted", "MultipleChoices", "Records", "SaveResult"]
