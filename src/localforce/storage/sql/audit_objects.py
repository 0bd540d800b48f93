"""LoginHistory and SetupAuditTrail as read-only sObjects over ``login_history`` and
``setup_audit_trail`` (metadata from ``data/sobjects.json``; Salesforce's object reference:
LoginHistory ``0Ya``, SetupAuditTrail ``0Ym``). Times are stored in epoch milliseconds.

Who may read them is decided in ``data/access.py`` (Manage Users or View All Data).
"""

from __future__ import annotations

from localforce.storage.sql import tables as t
from localforce.storage.sql.record_tables import Binding, register_binding

LOGIN_HISTORY = Binding(t.login_history, "org_id", {
    "Id": "id", "UserId": "user_id", "LoginTime": "login_time", "LoginType": "login_type",
    "SourceIp": "source_ip", "LoginUrl": "login_url", "Browser": "browser",
    "Platform": "platform", "Status": "status", "Application": "application",
    "ApiType": "api_type", "ApiVersion": "api_version"}, {"LoginTime": 1000})

SETUP_AUDIT_TRAIL = Binding(t.setup_audit_trail, "org_id", {
    "Id": "id", "Action": "action", "Section": "section", "CreatedDate": "created_date",
    "CreatedById": "created_by_id", "Display": "display", "DelegateUser": "delegate_user",
    "CreatedByContext": "created_by_context"}, {"CreatedDate": 1000})


def register() -> None:
    """Idempotent; called by ``bootstrap``."""
    register_binding("LoginHistory", LOGIN_HISTORY)
    register_binding("SetupAuditTrail", SETUP_AUDIT_TRAIL)
