"""The setup audit trail: who changed what in the org's setup, and when.

Every administrative change made through the directory (users, profiles, permission sets,
connected apps, org settings) is recorded as a SetupAuditTrail entry; the data API serves
them as the read-only ``SetupAuditTrail`` sObject. Action names follow Salesforce's style
(``createduser``, ``PermSetAssign``…); the exact catalogue of Salesforce's values is not
published, so ours are documented in README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

SECTION_USERS = "Manage Users"
SECTION_APPS = "Connected Apps"
SECTION_CERTIFICATES = "Certificate and Key Management"
SECTION_OAUTH = "OAuth and OpenID Connect Settings"
SECTION_COMPANY = "Company Profile"
SECTION_SHARING = "Sharing Defaults"
SECTION_PASSWORD = "Password Policies"
SECTION_SESSION = "Session Settings"
SECTION_NETWORK = "Network Access"


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user (admin console, API) or a tool acting for the operator."""

    user_id: str | None = None
    context: str = "CLI"


@dataclass(frozen=True)
class SetupChange:
    id: str
    org_id: str
    action: str
    section: str
    display: str
    created_date_ms: int
    created_by_id: str | None
    created_by_context: str | None
    delegate_user: str | None = None
