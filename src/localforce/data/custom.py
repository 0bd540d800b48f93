"""Custom objects (``Thing__c``) and custom fields (``Field__c``), declared at runtime.

A declaration is a plain mapping, the same from the seed file's ``[[objects]]`` and from
``localforce objects create``::

    {"name": "Thing__c", "label": "Thing", "plural_label": "Things",
     "fields": [{"name": "Code__c", "type": "Text", "length": 20, "external_id": true},
                {"name": "Account__c", "type": "Lookup", "reference_to": "Account",
                 "relationship_name": "Account__r", "child_relationship": "Things__r"},
                {"name": "Stage__c", "type": "Picklist", "values": ["New", "Done"]}]}

A declaration whose ``name`` is a standard object (``Account``) adds custom fields to it.
Types use the Setup names (Text, Number, Checkbox, Lookup...) or describe names (string,
double, boolean, reference...). :func:`parse_declaration` validates and normalises;
:func:`build_objects` turns the stored declarations into :class:`ObjectDef` values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from localforce.caching import Lru
from localforce.data.schema import (
    ChildRelationship,
    FieldDef,
    ObjectDef,
    Schema,
    field_defaults,
    standard_objects,
)

#: Setup type names -> describe ``type``.
TYPES = {
    "text": "string", "textarea": "textarea", "longtextarea": "textarea", "number": "double",
    "currency": "currency", "percent": "percent", "checkbox": "boolean", "date": "date",
    "datetime": "datetime", "email": "email", "phone": "phone", "url": "url",
    "picklist": "picklist", "multiselectpicklist": "multipicklist", "lookup": "reference",
    "string": "string", "double": "double", "int": "int", "boolean": "boolean",
    "multipicklist": "multipicklist", "reference": "reference",
}  # fmt: skip
_SOAP = {"string": "xsd:string", "textarea": "xsd:string", "double": "xsd:double",
         "currency": "xsd:double", "percent": "xsd:double", "boolean": "xsd:boolean",
         "date": "xsd:date", "datetime": "xsd:dateTime", "email": "xsd:string",
         "phone": "xsd:string", "url": "xsd:string", "picklist": "xsd:string",
         "multipicklist": "xsd:string", "reference": "tns:ID", "int": "xsd:int", "id": "tns:ID"}
_DEFAULT_LENGTH = {"string": 255, "textarea": 255, "email": 80, "phone": 40, "url": 255,
                   "picklist": 255, "multipicklist": 4099}
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__c$")
_FIELD_KEYS = {"name", "label", "type", "length", "precision", "scale", "required", "unique",
               "external_id", "values", "restricted", "reference_to", "relationship_name",
               "child_relationship", "default"}
_OBJECT_KEYS = {"name", "label", "plural_label", "fields"}


class DeclarationError(ValueError):
    """A custom object or field declaration the server refuses; the message names it."""


def parse_declaration(data: Mapping[str, Any], known: Iterable[str] = ()) -> dict[str, Any]:
    """Validate one ``[[objects]]`` entry; return it normalised (describe types, defaults).

    ``known`` names the objects lookups may point at besides the standard ones.
    """
    _no_unknown(data, _OBJECT_KEYS, "object")
    name = _text(data, "name", "object")
    standard = {o.key: o for o in standard_objects()}
    if name.lower() not in standard and not _API_NAME.match(name):
        raise DeclarationError(f"object {name!r}: custom object names end in '__c' "
                               "(letters, digits and single underscores)")
    if name.lower() in standard:
        name = standard[name.lower()].name
        if standard[name.lower()].kind != "records":
            raise DeclarationError(f"object {name!r}: custom fields only on record objects")
    label = str(data.get("label") or name.removesuffix("__c").replace("_", " "))
    plural = str(data.get("plural_label") or label + "s")
    targets = {n.lower() for n in known} | set(standard) | {name.lower()}
    raw_fields = data.get("fields", [])
    if not isinstance(raw_fields, list):
        raise DeclarationError(f"object {name!r}: fields must be a list of tables")
    fields = [_field(name, f, targets) for f in raw_fields]
    seen: set[str] = set()
    for f in fields:
        if f["name"].lower() in seen:
            raise DeclarationError(f"object {name!r}: field {f['name']!r} declared twice")
        seen.add(f["name"].lower())
    return {"name": name, "label": label, "plural_label": plural, "fields": fields}


def _field(obj: str, data: Any, targets: set[str]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise DeclarationError(f"object {obj!r}: each field must be a table")
    _no_unknown(data, _FIELD_KEYS, f"object {obj!r} field")
    name = _text(data, "name", f"object {obj!r} field")
    where = f"{obj}.{name}"
    if not _API_NAME.match(name):
        raise DeclarationError(f"field {where}: custom field names end in '__c'")
    kind = TYPES.get(str(data.get("type", "Text")).lower().replace(" ", ""))
    if kind is None:
        raise DeclarationError(f"field {where}: unknown type {data.get('type')!r}; use one of "
                               "Text, TextArea, Number, Currency, Percent, Checkbox, Date, "
                               "DateTime, Email, Phone, Url, Picklist, MultiselectPicklist, "
                               "Lookup")
    out: dict[str, Any] = {
        "name": name, "type": kind, "label": str(data.get("label") or _label(name)),
        "length": int(data.get("length") or _DEFAULT_LENGTH.get(kind, 0)),
        "precision": int(data.get("precision", 18)), "scale": int(data.get("scale", 2)),
        "required": bool(data.get("required", False)), "unique": bool(data.get("unique", False)),
        "external_id": bool(data.get("external_id", False)),
        "values": [str(v) for v in data.get("values", [])],
        "restricted": bool(data.get("restricted", False)), "default": data.get("default"),
    }
    if out["external_id"] and kind not in ("string", "email", "double", "int"):
        raise DeclarationError(f"field {where}: external IDs are Text, Number or Email fields")
    if kind in ("picklist", "multipicklist") and not out["values"]:
        raise DeclarationError(f"field {where}: a picklist needs values")
    if kind == "reference":
        target = str(data.get("reference_to", ""))
        if target.lower() not in targets:
            raise DeclarationError(f"field {where}: reference_to {target!r} is not an object")
        base = name[:-3]
        out["reference_to"] = target
        out["relationship_name"] = str(data.get("relationship_name") or base + "__r")
        default_child = (obj[:-3] if obj.endswith("__c") else obj) + "s__r"
        out["child_relationship"] = str(data.get("child_relationship") or default_child)
        if not out["relationship_name"].endswith("__r"):
            raise DeclarationError(f"field {where}: relationship names end in '__r'")
    return out


def _no_unknown(data: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise DeclarationError(f"{what}: unknown key {unknown[0]!r}")


def _text(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise DeclarationError(f"{what}: {key!r} is required")
    return value


def _label(api_name: str) -> str:
    return api_name.removesuffix("__c").replace("_", " ")


# -- declarations -> ObjectDef ----------------------------------------------------------


def field_describe(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A describe field entry for a custom field (the keys Salesforce sends)."""
    kind = spec["type"]
    text = kind in _DEFAULT_LENGTH
    numeric = kind in ("double", "currency", "percent")
    entry = {
        **field_defaults(),
        "name": spec["name"], "label": spec["label"], "type": kind, "soapType": _SOAP[kind],
        "length": spec["length"] if text else (18 if kind == "reference" else 0),
        "byteLength": spec["length"] * 3 if text else (18 if kind == "reference" else 0),
        "precision": spec["precision"] if numeric else 0,
        "scale": spec["scale"] if numeric else 0, "digits": 0,
        "nillable": kind == "boolean" or not spec["required"],
        "createable": True, "updateable": True, "filterable": kind != "textarea",
        "sortable": kind not in ("textarea", "multipicklist"),
        "groupable": kind not in ("textarea", "multipicklist", "double", "currency", "percent",
                                  "datetime"),
        "aggregatable": kind not in ("textarea", "multipicklist", "boolean"),
        "unique": spec["unique"], "externalId": spec["external_id"],
        "idLookup": spec["external_id"], "nameField": False,
        "defaultedOnCreate": kind == "boolean" or spec["default"] is not None,
        "calculated": False, "autoNumber": False, "caseSensitive": False, "custom": True,
        "defaultValue": False if kind == "boolean" and spec["default"] is None
        else spec["default"],
        "referenceTo": [spec["reference_to"]] if spec.get("reference_to") else [],
        "relationshipName": spec.get("relationship_name"),
        "polymorphicForeignKey": False, "cascadeDelete": False, "restrictedDelete": False,
        "compoundFieldName": None, "extraTypeInfo": None,
        "restrictedPicklist": spec["restricted"], "dependentPicklist": False,
        "controllerName": None, "htmlFormatted": False, "permissionable": not spec["required"],
        "picklistValues": [{"active": True, "defaultValue": v == spec["default"], "label": v,
                            "validFor": None, "value": v} for v in spec["values"]],
    }
    return entry


def _standard_field(name: str, kind: str, label: str, **extra: Any) -> FieldDef:
    spec: dict[str, Any] = {
        "name": name, "label": label, "type": kind, "length": 80 if kind == "string" else 0,
            "precision": 0, "scale": 0, "required": True, "unique": False,
            "external_id": False, "values": [], "restricted": False, "default": None}
    describe = field_describe(spec)
    describe.update({"custom": False, "createable": False, "updateable": False,
                     "permissionable": False, "defaultedOnCreate": True, "nillable": False,
                     **extra})
    return FieldDef(name, kind, describe)


def _custom_standard_fields(name: str, label: str) -> tuple[FieldDef, ...]:
    """The fields every custom object has (Object Reference, "Custom Objects")."""
    user = {"referenceTo": ["User"]}
    name_field = _standard_field("Name", "string", f"{label} Name", nameField=True)
    name_field = replace(name_field, describe={**name_field.describe, "createable": True,
                                               "updateable": True, "nillable": True,
                                               "defaultedOnCreate": False})
    return (
        _standard_field("Id", "id", "Record ID", idLookup=True, soapType="tns:ID", length=18),
        _standard_field("OwnerId", "reference", "Owner ID", relationshipName="Owner",
                        createable=True, updateable=True, **user),
        _standard_field("IsDeleted", "boolean", "Deleted"),
        name_field,
        _standard_field("CreatedDate", "datetime", "Created Date"),
        _standard_field("CreatedById", "reference", "Created By ID",
                        relationshipName="CreatedBy", **user),
        _standard_field("LastModifiedDate", "datetime", "Last Modified Date"),
        _standard_field("LastModifiedById", "reference", "Last Modified By ID",
                        relationshipName="LastModifiedBy", **user),
        _standard_field("SystemModstamp", "datetime", "System Modstamp"),
    )


def build_objects(declarations: Iterable[tuple[dict[str, Any], str | None]],
                  reload: Callable[[], Schema] | None = None) -> Schema:
    """The org's schema: standard objects plus ``(declaration, key_prefix)`` pairs;
    ``reload`` builds it again from fresh declarations (see :class:`Schema`)."""
    objects = {o.key: o for o in standard_objects()}
    decls = list(declarations)
    for decl, prefix in decls:
        fields = tuple(FieldDef(f["name"], f["type"], field_describe(f)) for f in decl["fields"])
        current = objects.get(decl["name"].lower())
        if current is None:
            assert prefix is not None
            objects[decl["name"].lower()] = _custom_object(decl, prefix, fields)
        else:
            known = {f.key for f in current.fields}
            extra = tuple(f for f in fields if f.key not in known)
            objects[current.key] = replace(current, fields=current.fields + extra)
    for decl, _ in decls:
        for f in decl["fields"]:
            if f["type"] != "reference":
                continue
            parent = objects[f["reference_to"].lower()]
            rel = ChildRelationship(f["child_relationship"], decl["name"], f["name"])
            if parent.child(rel.name) is None:
                objects[parent.key] = replace(parent, children=parent.children + (rel,))
    return Schema(objects.values(), reload)


Declarations = list[tuple[dict[str, Any], str | None]]
SCHEMAS_MAX_ORGS = 1024


class Schemas:
    """Each org's schema, built again only when its declarations change.

    Every record call and query needs the schema; building it is a few dozen object copies,
    and a stable build lets what is derived from it (query plans, keyed by ``Schema.token``)
    be reused. Declarations are compared by value, so a change made anywhere is seen as soon
    as the store's copy of them is (``RecordStore.declarations``)."""

    def __init__(self, max_orgs: int = SCHEMAS_MAX_ORGS) -> None:
        self._built: Lru[str, tuple[Declarations, Schema]] = Lru(max_orgs)

    def get(self, org_id: str, declarations: Declarations,
            reload: Callable[[], Schema] | None = None) -> Schema:
        found = self._built.get(org_id)
        if found is None or found[0] != declarations:
            found = (declarations, build_objects(declarations))
            self._built.put(org_id, found)
        return found[1].reloading(reload)


def _custom_object(decl: Mapping[str, Any], prefix: str,
                   fields: tuple[FieldDef, ...]) -> ObjectDef:
    header = dict(standard_objects()[0].describe)  # Account's flags, then the custom values
    header.update(name=decl["name"], label=decl["label"], labelPlural=decl["plural_label"],
                  keyPrefix=prefix, custom=True, feedEnabled=False, mergeable=False,
                  mruEnabled=True, recordTypeInfos=[], supportedScopes=[
                      {"label": "All", "name": "everything"}, {"label": "Mine", "name": "mine"}],
                  urlKeys={"describeGlobal": ["describe", "rowTemplate", "sobject"],
                           "describe": ["describe", "rowTemplate", "sobject"]})
    return ObjectDef(decl["name"], prefix, header,
                     _custom_standard_fields(decl["name"], decl["label"]) + fields)
