"""sObject metadata: fields, types, relationships; shared by describe, DML checks and SOQL.

The standard objects come from ``sobjects.json`` (recorded Salesforce describes, see
``research/sobjects.md``); custom objects (``Thing__c``) and custom fields on standard objects
are declared at runtime (``localforce objects create`` or ``[[objects]]`` in the seed file) and
built by :func:`custom_object` / :func:`with_custom_fields`.

A :class:`Schema` is the set of objects one org sees. Names are case-insensitive everywhere
("Object and field names are not case-sensitive", REST API Developer Guide, resources list);
lookups go through lower-cased keys and answers carry the canonical spelling.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Any, NamedTuple

#: Objects stored in their own record table (one SQL table per sObject).
RECORD_OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "Case", "Task", "Event",
                  "Campaign", "OpportunityContactRole", "Product2", "Pricebook2",
                  "PricebookEntry", "OpportunityLineItem", "CampaignMember", "Note",
                  "Attachment", "RecordType")

#: Objects read from the org's directory (users, profiles...): read-only over the data API,
#: except PermissionSetAssignment (created and deleted through the directory).
DIRECTORY_OBJECTS = ("User", "Organization", "Profile", "PermissionSet",
                     "PermissionSetAssignment", "LoginHistory", "SetupAuditTrail")

#: Directory objects the data API writes (through the directory's service, never its own
#: table): the verbs, and the fields a create may set.
DIRECTORY_WRITES = {"PermissionSetAssignment": (frozenset({"create", "delete"}),
                                                frozenset({"AssigneeId", "PermissionSetId"}))}

#: Field types with no column: compound fields are read as null (their parts are columns).
UNSTORED_TYPES = frozenset({"address", "location", "anyType", "complexvalue"})
TEXT_TYPES = frozenset({"string", "textarea", "picklist", "multipicklist", "combobox", "email",
                        "phone", "url", "encryptedstring", "time"})
NUMBER_TYPES = frozenset({"int", "long", "double", "currency", "percent"})

#: Audit fields the server maintains on every record (REST API Developer Guide, "System
#: Fields"): never accepted from the client.
SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                 "LastModifiedById", "SystemModstamp")

@dataclass(frozen=True)
class FieldDef:
    """One field: the describe entry plus the few properties the server acts on."""

    name: str
    type: str
    describe: Mapping[str, Any]

    @property
    def key(self) -> str:
        return self.name.lower()

    def flag(self, name: str) -> bool:
        return bool(self.describe.get(name))

    @cached_property
    def length(self) -> int:
        return int(self.describe.get("length") or 0)

    @property
    def reference_to(self) -> tuple[str, ...]:
        return tuple(self.describe.get("referenceTo") or ())

    @property
    def relationship_name(self) -> str | None:
        value = self.describe.get("relationshipName")
        return str(value) if value else None

    @property
    def picklist_values(self) -> tuple[str, ...]:
        return tuple(p["value"] for p in self.describe.get("picklistValues") or () if p["active"])

    @property
    def default_value(self) -> Any:
        for entry in self.describe.get("picklistValues") or ():
            if entry.get("defaultValue"):
                return entry["value"]
        return self.describe.get("defaultValue")

    @property
    def stored(self) -> bool:
        return self.type not in UNSTORED_TYPES

    @property
    def custom(self) -> bool:
        return self.name.lower().endswith("__c")


@dataclass(frozen=True)
class ChildRelationship:
    name: str
    child: str  # child sObject
    field: str  # the lookup field on the child


@dataclass(frozen=True)
class ObjectDef:
    """One sObject: header flags (``describe``), fields in describe order, child relationships.

    ``kind`` says where its rows live: ``records`` (a record table) or ``directory``.
    """

    name: str
    key_prefix: str
    describe: Mapping[str, Any]
    fields: tuple[FieldDef, ...]
    children: tuple[ChildRelationship, ...] = ()
    kind: str = "records"
    #: Child relationships marked ``cascadeDelete`` (named or not), for platform.cascades.
    cascades: tuple[ChildRelationship, ...] = ()
    _index: Mapping[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {f.key: f for f in self.fields})

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def custom(self) -> bool:
        return self.name.lower().endswith("__c")

    def flag(self, name: str) -> bool:
        return bool(self.describe.get(name))

    def field(self, name: str) -> FieldDef | None:
        return self._index.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The lookup field whose relationshipName is ``name`` (``Owner`` -> OwnerId)."""
        lowered = name.lower()
        return next((f for f in self.fields if f.relationship_name
                     and f.relationship_name.lower() == lowered), None)

    def child(self, name: str) -> ChildRelationship | None:
        lowered = name.lower()
        return next((c for c in self.children if c.name.lower() == lowered), None)

    @property
    def name_field(self) -> FieldDef | None:
        return next((f for f in self.fields if f.flag("nameField")), None)

    def parts_of(self, compound: FieldDef) -> tuple[FieldDef, ...]:
        """The stored fields a compound field (``BillingAddress``) is built from."""
        return self._parts.get(compound.name, ())

    @cached_property
    def _parts(self) -> dict[str, tuple[FieldDef, ...]]:
        """Each compound field's parts, in field order (every retrieve asks, per address)."""
        parts: dict[str, list[FieldDef]] = {}
        for f in self.fields:
            compound = f.describe.get("compoundFieldName")
            if f.stored and compound and compound != f.name:
                parts.setdefault(compound, []).append(f)
        return {name: tuple(found) for name, found in parts.items()}

    @cached_property
    def whole_record(self) -> RecordShape:
        """What a record GET without ``fields`` answers and reads (every retrieve asks)."""
        return RecordShape.of(self, self.visible_fields)

    @cached_property
    def visible_fields(self) -> tuple[FieldDef, ...]:
        """The fields a client sees (describe, default retrieve, FIELDS()): all but the ones
        the server keeps for itself (``x-hidden``, e.g. RecordType's IsDeleted)."""
        return tuple(f for f in self.fields if not f.describe.get("x-hidden"))

    @cached_property
    def stored_fields(self) -> tuple[FieldDef, ...]:
        # Read on every record call and query; the fields never change once built.
        return tuple(f for f in self.fields if f.stored)

    @cached_property
    def stored_names(self) -> tuple[str, ...]:
        """The stored fields' names: what an object's table looks like."""
        return tuple(f.name for f in self.stored_fields)

    @cached_property
    def stored_keys(self) -> frozenset[str]:
        return frozenset(self.stored_names)

    @cached_property
    def reference_keys(self) -> frozenset[str]:
        """Names of the stored lookup fields."""
        return frozenset(f.name for f in self.stored_fields if f.type == "reference")

    @cached_property
    def create_plan(self) -> tuple[tuple[str, str, Any], ...]:
        """What a create adds to the values a body gave, field by field in stored order, as
        ``(name, what, default)``: ``system`` (the server's), ``owner`` (the caller unless
        set), ``default`` (``defaultedOnCreate`` with a default, unless set), ``auto`` (an
        auto-number). Worked out once per object, not per record."""
        out = []
        for f in self.stored_fields:
            if f.name in SYSTEM_FIELDS:
                out.append((f.name, "system", None))
            elif f.name == "OwnerId":
                out.append((f.name, "owner", None))
            elif f.default_value is not None and f.flag("defaultedOnCreate"):
                out.append((f.name, "default", f.default_value))
            elif f.flag("autoNumber"):
                out.append((f.name, "auto", None))
        return tuple(out)

    @cached_property
    def required_on_create(self) -> tuple[str, ...]:
        """Stored fields a write must leave non-empty: not nillable, createable and not
        defaulted on create."""
        return tuple(f.name for f in self.stored_fields if not f.flag("nillable")
                     and f.flag("createable") and not f.flag("defaultedOnCreate"))


class RecordShape(NamedTuple):
    """A record GET of some fields: each field answered, with the stored parts it is built
    from (an address field's; none for any other field), and the fields read for them (the
    fields, then the parts not among them)."""

    answers: tuple[tuple[FieldDef, tuple[FieldDef, ...]], ...]
    reads: tuple[FieldDef, ...]

    @classmethod
    def of(cls, obj: ObjectDef, fields: Iterable[FieldDef]) -> RecordShape:
        answers = tuple((f, obj.parts_of(f) if f.type == "address" else ()) for f in fields)
        names = {f.name for f, _ in answers}
        parts = [p for _, parts in answers for p in parts if p.name not in names]
        return cls(answers, tuple(f for f, _ in answers) + tuple(parts))


class Schema:
    """The objects one org sees, looked up case-insensitively.

    Built from a per-process copy of the org's custom-object declarations that may be up to a
    second old; ``reload`` reads them afresh. A custom object not in the copy triggers one
    reload, so an object created a moment ago through another process (``localforce objects
    create``) is found at once rather than answered NOT_FOUND.

    ``token`` names the objects this schema holds: schemas with the same token hold the very
    same :class:`ObjectDef` values, so what was derived from one (a resolved query plan) is
    valid for the other. A reload takes the fresh schema's token.
    """

    def __init__(self, objects: Iterable[ObjectDef],
                 reload: Callable[[], Schema] | None = None, token: object = None) -> None:
        self._objects = {o.key: o for o in objects}
        self._reload = reload
        self.token = token if token is not None else object()

    def get(self, name: str) -> ObjectDef | None:
        key = name.lower()
        found = self._objects.get(key)
        if found is None and self._reload is not None and key.endswith("__c"):
            fresh = self._reload()
            self._objects, self.token, self._reload = fresh._objects, fresh.token, None
            found = self._objects.get(key)
        return found

    def refreshed(self, name: str) -> ObjectDef | None:
        """``name`` after one reload of the declarations (a custom field another process has
        just declared); as it is when this schema cannot reload or has already."""
        if self._reload is not None:
            fresh = self._reload()
            self._objects, self.token, self._reload = fresh._objects, fresh.token, None
        return self._objects.get(name.lower())

    def polymorphic_target(self, lookup: FieldDef,
                           usable: Callable[[ObjectDef], bool]) -> ObjectDef | None:
        """The ``Name`` object a polymorphic lookup (Task.What, Task.Who, Owner) leads to:
        Id, Name and Type (the parent's object name) over every usable parent object served
        here (SOQL & SOSL Reference, "Understanding Polymorphic Keys and Relationships")."""
        targets = [o for o in (self.get(n) for n in lookup.reference_to)
                   if o is not None and o.kind in ("records", "directory")
                   and o.field("Name") is not None and usable(o)]
        if not targets:
            return None
        return ObjectDef("Name", "000", {
            "name": "Name", "x-targets": tuple(o.name for o in targets),
            "x-prefixes": {o.key_prefix: o.name for o in targets}}, NAME_FIELDS,
            kind="polymorphic")

    def reloading(self, reload: Callable[[], Schema] | None) -> Schema:
        """The same objects (and token), with its own ``reload``."""
        out = Schema((), reload, self.token)
        out._objects = self._objects  # never changed in place: a reload replaces it
        return out

    def by_prefix(self, prefix: str) -> ObjectDef | None:
        return next((o for o in self._objects.values() if o.key_prefix == prefix), None)

    def __iter__(self) -> Any:
        return iter(sorted(self._objects.values(), key=lambda o: o.name))

    def target(self, lookup: FieldDef) -> ObjectDef | None:
        """The object a lookup points at; for polymorphic lookups the first one known here."""
        return next((o for o in (self.get(n) for n in lookup.reference_to) if o), None)


# -- the standard catalogue --------------------------------------------------------------


class Describe(Mapping[str, Any]):
    """A recorded field's describe entry, read-only and compact: its values in a tuple, its
    keys in an index shared by every entry with the same keys in the same order (all but a few
    of the catalogue's). Each entry as a dict of its own was most of what the catalogue kept
    in every worker (bench/README.md, twenty-fifth pass)."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: Mapping[str, int], values: tuple[Any, ...]) -> None:
        self._index, self._values = index, values

    def __getitem__(self, key: str) -> Any:
        return self._values[self._index[key]]

    def get(self, key: str, default: Any = None) -> Any:
        at = self._index.get(key)
        return default if at is None else self._values[at]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Describe({dict(self)!r})"


class _Compactor:
    """Makes :class:`Describe` entries, sharing their key indexes and equal strings."""

    def __init__(self) -> None:
        self._indexes: dict[tuple[str, ...], Mapping[str, int]] = {}
        self._strings: dict[str, str] = {}

    def __call__(self, entry: Mapping[str, Any]) -> Describe:
        keys = tuple(entry)
        index = self._indexes.get(keys)
        if index is None:
            index = self._indexes[keys] = {key: at for at, key in enumerate(keys)}
        return Describe(index, tuple(self._strings.setdefault(v, v) if isinstance(v, str)
                                     else v for v in entry.values()))


@cache
def _catalogue() -> tuple[Mapping[str, Any], tuple[ObjectDef, ...]]:
    """``fieldDefaults`` and the standard objects served, from the recorded describes. The
    parsed file is not kept: each field's entry is made a :class:`Describe` and its dict
    dropped, object by object, and the objects not served are dropped."""
    text = resources.files("localforce.data").joinpath("sobjects.json").read_text()
    data: dict[str, Any] = json.loads(text)
    del text
    objects, compact = data.pop("objects"), _Compactor()
    deleted = next(f for f in objects["Account"]["fields"] if f["name"] == "IsDeleted")
    return data["fieldDefaults"], tuple(
        _standard(objects.pop(name), name in DIRECTORY_OBJECTS, deleted, compact)
        for name in RECORD_OBJECTS + DIRECTORY_OBJECTS)


def _name_field(name: str, kind: str) -> FieldDef:
    return FieldDef(name, kind, {"name": name, "type": kind, "nillable": True,
                                 "filterable": True, "sortable": True, "groupable": True,
                                 "nameField": name == "Name"})


#: The fields of the ``Name`` object reached through a polymorphic lookup.
NAME_FIELDS = (_name_field("Id", "id"), _name_field("Name", "string"),
               _name_field("Type", "string"))


def field_defaults() -> Mapping[str, Any]:
    return dict(_catalogue()[0])


def standard_objects() -> tuple[ObjectDef, ...]:
    """The standard objects this server serves, read-only where it cannot write them."""
    return _catalogue()[1]


def _standard(entry: Mapping[str, Any], directory: bool, deleted: Mapping[str, Any],
              compact: Callable[[Mapping[str, Any]], Describe]) -> ObjectDef:
    header = {k: v for k, v in entry.items()
              if k not in ("fields", "childRelationships", "urlKeys")}
    described: Iterable[Mapping[str, Any]] = entry["fields"]
    if not directory and not any(f["name"] == "IsDeleted" for f in described):
        # Every record table soft-deletes; RecordType's describe has no IsDeleted to show.
        described = [*described, {**deleted, "x-hidden": True}]
    if directory:
        # The directory is managed by the admin CLI, Setup and seed file, not the data API,
        # except the few writes DIRECTORY_WRITES lists.
        verbs, settable = DIRECTORY_WRITES.get(entry["name"], (frozenset(), frozenset()))
        header.update(createable="create" in verbs, updateable=False,
                      deletable="delete" in verbs, undeletable=False)
        described = ({**f, "createable": f["name"] in settable, "updateable": False}
                     for f in described)
    fields = tuple(FieldDef(d["name"], d["type"], d) for d in map(compact, described))
    children = tuple(ChildRelationship(c["relationshipName"], c["childSObject"], c["field"])
                     for c in entry["childRelationships"] if c.get("relationshipName"))
    cascades = tuple(ChildRelationship(c.get("relationshipName") or "", c["childSObject"],
                                       c["field"])
                     for c in entry["childRelationships"] if c.get("cascadeDelete"))
    header["urlKeys"] = entry.get("urlKeys", {})
    return ObjectDef(entry["name"], entry["keyPrefix"], header, fields, children,
                     "directory" if directory else "records", cascades=cascades)


def standard_schema() -> Schema:
    return Schema(standard_objects())
