"""What the platform does on a write besides storing the fields given.

- **Derived fields** (Salesforce computes them; they are read-only or defaulted):
  Contact/Lead ``Name`` from ``FirstName``/``LastName``; Opportunity ``IsClosed``, ``IsWon``,
  ``ForecastCategory`` always, and ``Probability``/``ForecastCategoryName`` when the stage is set
  and the same write does not set them (the OpportunityStage defaults of a new org,
  ``x-stageInfo`` in sobjects.json); Task ``IsClosed`` from ``Status`` (a new org's only closed
  TaskStatus is "Completed"); Event ``ActivityDate`` from ``ActivityDateTime`` (UTC date);
  Attachment ``BodyLength`` from ``Body``.
- **Cascade delete**: the child relationships the describe marks ``cascadeDelete`` (Account ->
  Contacts, Opportunities, Tasks, Events, Notes, Attachments; Opportunity -> line items...), plus
  Account -> Cases, which Salesforce deletes with the account although the describe does not
  mark it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from localforce.data.schema import FieldDef, ObjectDef, Schema

CLOSED_TASK_STATUSES = frozenset({"Completed"})
#: ForecastCategoryName (the label) -> ForecastCategory (the API value), Salesforce's pairs.
FORECAST_CATEGORY = {"Omitted": "Omitted", "Pipeline": "Pipeline", "Best Case": "BestCase",
                     "Commit": "Forecast", "Closed": "Closed"}
#: Cascades Salesforce applies that the describe does not mark (parent, child, lookup field).
EXTRA_CASCADES = (("Account", "Case", "AccountId"),)


def _stage(opportunity: ObjectDef, name: Any) -> Mapping[str, Any] | None:
    """The stage's defaults, from the ``x-stageInfo`` the Opportunity describe carries."""
    wanted = str(name or "").lower()
    return next((s for s in opportunity.describe["x-stageInfo"]["stages"]
                 if s["value"].lower() == wanted), None)


def derives(obj: ObjectDef) -> bool:
    """Whether ``derive`` can give ``obj``'s records anything (most objects: nothing)."""
    return obj.name in ("Opportunity", "Task", "Attachment", "Event") or bool(
        obj.field("FirstName") and obj.field("LastName") and obj.field("Name"))


def derive(obj: ObjectDef, merged: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The derived values for a record whose values after this write are ``merged``;
    ``given`` is what the write itself set."""
    out: dict[str, Any] = {}
    if obj.field("FirstName") and obj.field("LastName") and obj.field("Name"):
        parts = [merged.get("FirstName"), merged.get("LastName")]
        out["Name"] = " ".join(p for p in parts if p) or None
    if obj.name == "Opportunity":
        out.update(_opportunity(obj, merged, given))
    elif obj.name == "Task":
        out["IsClosed"] = merged.get("Status") in CLOSED_TASK_STATUSES
    elif obj.name == "Attachment" and "Body" in given:
        body = merged.get("Body")
        out["BodyLength"] = len(base64.b64decode(body)) if body else 0
    elif obj.name == "Event":
        moment = merged.get("ActivityDateTime")
        if moment and not merged.get("IsAllDayEvent"):
            out["ActivityDate"] = str(moment)[:10]
    return out


def _opportunity(obj: ObjectDef, merged: Mapping[str, Any],
                 given: Mapping[str, Any]) -> dict[str, Any]:
    stage = _stage(obj, merged.get("StageName"))
    out: dict[str, Any] = {}
    if stage is not None:
        out["IsClosed"], out["IsWon"] = bool(stage["isClosed"]), bool(stage["isWon"])
        if "StageName" in given:
            if "Probability" not in given:
                out["Probability"] = float(stage["probability"])
            if "ForecastCategoryName" not in given:
                out["ForecastCategoryName"] = stage["forecastCategory"]
    category = out.get("ForecastCategoryName", merged.get("ForecastCategoryName"))
    if category in FORECAST_CATEGORY:
        out["ForecastCategory"] = FORECAST_CATEGORY[category]
    return out


def cascades(schema: Schema, obj: ObjectDef) -> list[tuple[ObjectDef, FieldDef]]:
    """The (child object, lookup field) pairs whose live rows are deleted with a row of
    ``obj``, limited to the objects this org serves as records."""
    pairs = [(c.child, c.field) for c in obj.cascades]
    pairs += [(child, field) for parent, child, field in EXTRA_CASCADES if parent == obj.name]
    out = []
    for child_name, field_name in pairs:
        child = schema.get(child_name)
        lookup = child.field(field_name) if child is not None else None
        if child is not None and lookup is not None and child.kind == "records":
            out.append((child, lookup))
    return out
