"""``GET /sobjects`` (describeGlobal), ``/sobjects/{T}`` and ``/sobjects/{T}/describe``.

Shapes from recorded describes (salesforce-wire.md §6.4-6.5, research/sobjects.md "How to use
it"). Only objects the user can read are listed; others answer NOT_FOUND like Salesforce.
"""

from __future__ import annotations

from typing import Any

from localforce.data.schema import ObjectDef, Schema

#: describeGlobal entry keys, in Salesforce's order.
GLOBAL_KEYS = ("activateable", "associateEntityType", "associateParentEntity", "createable",
               "custom", "customSetting", "deepCloneable", "deletable", "deprecatedAndHidden",
               "feedEnabled", "hasSubtypes", "isInterface", "isSubtype", "keyPrefix", "label",
               "labelPlural", "layoutable", "mergeable", "mruEnabled", "name", "queryable",
               "replicateable", "retrieveable", "searchable", "triggerable", "undeletable",
               "updateable")
_OMIT = {"urlKeys", "name"}
_FIELD_OMIT_PREFIX = "x-"


def urls(obj: ObjectDef, version: str, keys: list[str] | None = None) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    known = {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}",
             "layouts": f"{base}/describe/layouts", "compactLayouts":
             f"{base}/describe/compactLayouts", "approvalLayouts":
             f"{base}/describe/approvalLayouts", "quickActions": f"{base}/quickActions",
             "listviews": f"{base}/listviews", "defaultValues": f"{base}/defaultValues?"
             "recordTypeId&fields", "uiDetailTemplate": "/{ID}", "uiEditTemplate":
             "/{ID}/e", "uiNewRecord": f"/{obj.key_prefix}/e"}
    wanted = keys or ["sobject", "describe", "rowTemplate"]
    return {k: known[k] for k in sorted(wanted) if k in known}


def global_entry(obj: ObjectDef, version: str) -> dict[str, Any]:
    entry = {k: obj.describe.get(k) for k in GLOBAL_KEYS}
    entry["name"] = obj.name
    entry["urls"] = urls(obj, version, obj.describe.get("urlKeys", {}).get("describeGlobal"))
    return entry


def describe_global(objects: list[ObjectDef], version: str) -> dict[str, Any]:
    return {"encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [global_entry(o, version) for o in objects]}


def basic_info(obj: ObjectDef, version: str) -> dict[str, Any]:
    """``GET /sobjects/{T}``: the describeGlobal entry and recent items (none are tracked)."""
    return {"objectDescribe": global_entry(obj, version), "recentItems": []}


def describe(obj: ObjectDef, schema: Schema, version: str) -> dict[str, Any]:
    out = {k: v for k, v in obj.describe.items() if k not in _OMIT}
    out["name"] = obj.name
    out["fields"] = [{k: v for k, v in f.describe.items()
                      if not k.startswith(_FIELD_OMIT_PREFIX)} for f in obj.visible_fields]
    out["childRelationships"] = [
        {"cascadeDelete": False, "childSObject": c.child, "deprecatedAndHidden": False,
         "field": c.field, "junctionIdListNames": [], "junctionReferenceTo": [],
         "relationshipName": c.name, "restrictedDelete": False}
        for c in obj.children]
    out["recordTypeInfos"] = [
        {**info, "urls": {k: v.replace("vXX.X", f"v{version}") for k, v in
                          info.get("urls", {}).items()}}
        for info in obj.describe.get("recordTypeInfos") or []]
    out["urls"] = urls(obj, version, obj.describe.get("urlKeys", {}).get("describe"))
    return dict(sorted(out.items()))
