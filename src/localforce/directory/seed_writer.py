"""Writing a validated seed: each entry created or updated, and recorded in the audit trail.

``seed.py`` validates the whole file first and calls these inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from localforce.directory import audit
from localforce.directory.seed_model import SeedError, SeedReport
from localforce.directory.service import Directory, generate_consumer_secret
from localforce.domain import ids
from localforce.domain.models import ConnectedApp, Org, Profile, Sharing
from localforce.security.passwords import hash_password, verify_password


class SeedWriter:
    def __init__(self, source: str) -> None:
        self.source = source

    def org(self, directory: Directory, org: Org, existing: Org | None,
            report: SeedReport, policies: dict[str, Any] | None = None) -> None:
        """Create or update the org; the seed's sharing levels are set one by one (each an
        audit entry), objects it does not name keep theirs; so do the org policies it leaves
        out (``policies``: those it sets)."""
        wanted, org = org.sharing, replace(org, sharing=existing.sharing if existing
                                            else Sharing())
        if existing is not None:
            org = replace(org, policies=existing.policies)
        if existing is None:
            current = directory.create_org(org.name, org.id, org.my_domain,
                                           org.username_password_flow)
            report.created.append(f"org {org.name}")
        else:
            current = existing
        for sobject, level in wanted.defaults.items():
            if current.sharing.level(sobject) != level:
                current = directory.set_sharing(current, sobject, level)
                if existing is not None:
                    report.updated.append(f"org {org.name} sharing {sobject}")
        if policies:
            before = current.policies
            current = directory.set_policies(current, **policies)
            if existing is not None and current.policies != before:
                report.updated.append(f"org {org.name} policies")
        org = replace(org, policies=current.policies)
        if existing is not None and existing != replace(org, sharing=existing.sharing,
                                                         policies=existing.policies):
            directory.store.save_org(replace(org, sharing=current.sharing))
            report.updated.append(f"org {org.name}")
            if existing.username_password_flow != org.username_password_flow:
                state = "Allowed" if org.username_password_flow else "Blocked"
                directory.record(org.id, "changedOAuthUsernamePasswordFlow", audit.SECTION_OAUTH,
                                 f"{state} OAuth Username-Password Flows")
            if (existing.name, existing.my_domain) != (org.name, org.my_domain):
                directory.record(org.id, "changedOrgSettings", audit.SECTION_COMPANY,
                                 f"Changed organization name or My Domain of {org.name}")

    def named(self, directory: Directory, find: Callable[[str, str], Any],
                     save: Callable[[Any], None], org: Org, item: Any, label: str,
                     report: SeedReport) -> None:
        current = find(org.id, item.name)
        is_profile = isinstance(item, Profile)
        wanted = replace(item, id=current.id if current else ids.new_id("00e" if is_profile
                                                                          else "0PS"))
        if current is None:
            save(wanted)
            report.created.append(f"{label} {item.name}")
            directory.record(org.id, "profileCreate" if is_profile else "PermSetCreate",
                             audit.SECTION_USERS, f"Created {label} {item.name}")
        elif current != wanted:
            save(wanted)
            report.updated.append(f"{label} {item.name}")
            directory.record(org.id, "profileChanged" if is_profile else "PermSetChanged",
                             audit.SECTION_USERS, f"Changed {label} {item.name}")

    def user(self, directory: Directory, org: Org, spec: dict[str, Any],
                    report: SeedReport) -> None:
        store = directory.store
        profile_id = directory._profile_id(org.id, spec["profile"])
        ps_ids = directory._permission_set_ids(org.id, spec["permission_sets"])
        current = store.find_user(spec["username"])
        if current is None:
            directory.create_user(org.id, spec["username"], spec["password"], spec["profile"],
                                  spec["email"], spec["first_name"], spec["last_name"],
                                  spec["security_token"], spec["permission_sets"], spec["active"])
            report.created.append(f"user {spec['username']}")
            return
        if current.org_id != org.id:
            raise SeedError(self.source, "users", "username",
                            f"{spec['username']!r} belongs to another org")
        wanted = replace(current, email=spec["email"], first_name=spec["first_name"],
                         last_name=spec["last_name"], profile_id=profile_id,
                         permission_set_ids=ps_ids, active=spec["active"])
        changed = wanted != current
        if changed:
            store.save_user(wanted)
            directory.record_user_changes(current, wanted)
        password_hash, _ = store.get_credentials(current.id)
        if spec["password"] is not None and not verify_password(password_hash, spec["password"]):
            store.set_password_hash(current.id, hash_password(spec["password"]))
            directory.record(org.id, "changedpassword", audit.SECTION_USERS,
                             f"Changed password for user {current.username}")
            changed = True
        token = spec["security_token"]
        if token is not None and directory.security_token(current.id) != token:
            store.set_security_token(current.id, directory.box.seal(token, current.id))
            changed = True
        if changed:
            report.updated.append(f"user {spec['username']}")

    def app(self, directory: Directory, org: Org, spec: dict[str, Any],
                   report: SeedReport) -> None:
        store = directory.store
        app: ConnectedApp = spec["app"]
        run_as = store.find_user(spec["run_as"]).id if spec["run_as"] else None  # type: ignore[union-attr]
        app = replace(
            app, run_as_user_id=run_as,
            authorized_profile_ids=tuple(sorted(
                directory._profile_id(org.id, n) for n in spec["profiles"])),
            authorized_permission_set_ids=directory._permission_set_ids(
                org.id, spec["permission_sets"]))
        current = store.find_app(org.id, app.name)
        if current is None:
            secret = spec["secret"] or generate_consumer_secret()
            directory.create_app(replace(app, id=ids.new_id("0H4")), secret)
            report.created.append(f"app {app.name}")
            return
        wanted = replace(app, id=current.id, consumer_key=app.consumer_key or current.consumer_key,
                         has_secret=current.has_secret)
        changed = False
        if wanted != current:
            other = store.find_app_by_key(wanted.consumer_key, org.id)
            if other is not None and other.id != current.id:
                raise SeedError(self.source, f"apps ({app.name})", "consumer_key",
                                "is already used by another app")
            store.save_app(wanted)
            directory.record(org.id, "changedConnectedApp", audit.SECTION_APPS,
                             f"Changed connected app {app.name}")
            if wanted.certificate != current.certificate and wanted.certificate:
                directory.record(org.id, "insertCertificate", audit.SECTION_CERTIFICATES,
                                 f"Uploaded certificate for connected app {app.name}")
            changed = True
        if spec["secret"] is not None and directory.reveal_secret(current) != spec["secret"]:
            store.set_app_secret(current.id, directory.box.seal(spec["secret"], current.id))
            directory.record(org.id, "rotatedConsumerSecret", audit.SECTION_APPS,
                             f"Changed the consumer secret of {app.name}")
            changed = True
        if changed:
            report.updated.append(f"app {app.name}")
