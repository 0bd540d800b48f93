"""``data.schema``'s standard catalogue: each field's recorded describe entry, kept compact
(``Describe``), reads as the recorded entry did, key order included."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from localforce.data.schema import DIRECTORY_OBJECTS, Describe, standard_objects


def _recorded() -> dict[str, dict[str, dict[str, object]]]:
    text = resources.files("localforce.data").joinpath("sobjects.json").read_text()
    return {name: {f["name"]: f for f in entry["fields"]}
            for name, entry in json.loads(text)["objects"].items()}


def test_record_objects_fields_read_as_recorded() -> None:
    recorded = _recorded()
    checked = 0
    for obj in standard_objects():
        if obj.name in DIRECTORY_OBJECTS:
            continue
        for f in obj.fields:
            entry = recorded[obj.name].get(f.name)
            if entry is None:  # the IsDeleted a record table adds (RecordType): hidden
                assert f.name == "IsDeleted" and f.describe["x-hidden"] is True
                continue
            assert list(f.describe.items()) == list(entry.items())  # order too
            assert f.describe == entry and len(f.describe) == len(entry)
            checked += 1
    assert checked > 500


def test_directory_objects_fields_are_read_only_over_the_api() -> None:
    recorded = _recorded()
    user = next(o for o in standard_objects() if o.name == "User")
    email = user.field("Email")
    assert email is not None
    assert email.describe == {**recorded["User"]["Email"], "createable": False,
                              "updateable": False}
    assignment = next(o for o in standard_objects() if o.name == "PermissionSetAssignment")
    assignee = assignment.field("AssigneeId")
    assert assignee is not None and assignee.describe["createable"] is True


def test_a_describe_is_a_read_only_mapping() -> None:
    name = standard_objects()[0].field("Name")  # Account.Name
    assert name is not None
    entry = name.describe
    assert isinstance(entry, Describe)
    assert entry.get("length") == 255 and entry["type"] == "string"
    assert entry.get("x-nothing") is None and entry.get("x-nothing", 7) == 7
    assert "nameField" in entry and "x-nothing" not in entry
    with pytest.raises(KeyError):
        entry["x-nothing"]
    with pytest.raises(TypeError):
        entry["length"] = 80  # type: ignore[index]
    assert dict(entry) == json.loads(json.dumps(dict(entry)))


def test_entries_with_the_same_keys_share_one_index() -> None:
    entries = [f.describe for o in standard_objects() for f in o.fields]
    assert all(isinstance(e, Describe) for e in entries)
    indexes = {id(e._index) for e in entries}
    assert len(indexes) < 10 < len(entries)
