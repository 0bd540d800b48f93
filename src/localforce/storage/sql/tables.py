"""The persistence shape of the org's security model and OAuth state (SQLAlchemy Core).

Times are integer epoch seconds (UTC) except where a column says ``_ms``. Secrets are never
stored in plain text: tokens, codes and device codes by SHA-256 digest; consumer secrets and
security tokens sealed under the master key; passwords as argon2id hashes.

Alembic migrations in ``migrations/versions`` create these tables; this module is the
reference the stores build their prebuilt statements from.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(18)

orgs = Table(
    "orgs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(80), nullable=False),
    Column("my_domain", String(63)),
    Column("username_password_flow", Boolean, nullable=False, default=False),
    # Org-wide defaults: {sobject: "Private" | "Public Read Only" | "Public Read/Write"}.
    Column("sharing", JSON, nullable=False, default=dict),
    # Setup's org policies: {"lockout_attempts": 3, "trusted_ip_ranges": [[start, end]], ...};
    # an absent key takes the server's setting.
    Column("policies", JSON, nullable=False, default=dict),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("standard", Boolean, nullable=False, default=False),
    Column("api_enabled", Boolean, nullable=False, default=True),
    Column("view_all_data", Boolean, nullable=False, default=False),
    Column("modify_all_data", Boolean, nullable=False, default=False),
    Column("manage_users", Boolean, nullable=False, default=False),
    Column("transfer_record", Boolean, nullable=False, default=False),
    Column("bulk_api_hard_delete", Boolean, nullable=False, default=False),
    Column("objects", JSON, nullable=False),  # {"Account": ["read", ...]}
    Column("login_ip_ranges", JSON, nullable=False),  # [["start", "end"], ...]
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
    UniqueConstraint("org_id", "name"),
)

permission_sets = Table(
    "permission_sets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("name", String(80), nullable=False),  # the API name
    Column("label", String(80)),  # NULL only in rows written before 0018
    Column("api_enabled", Boolean, nullable=False, default=False),
    Column("view_all_data", Boolean, nullable=False, default=False),
    Column("modify_all_data", Boolean, nullable=False, default=False),
    Column("manage_users", Boolean, nullable=False, default=False),
    Column("transfer_record", Boolean, nullable=False, default=False),
    Column("bulk_api_hard_delete", Boolean, nullable=False, default=False),
    Column("objects", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
    UniqueConstraint("org_id", "name"),
)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("username", String(80), nullable=False),
    # Usernames are unique across all orgs and compared case-insensitively.
    Column("username_key", String(80), nullable=False, unique=True),
    Column("email", String(128), nullable=False),
    Column("first_name", String(40)),
    Column("last_name", String(80), nullable=False),
    Column("profile_id", ID, ForeignKey("profiles.id"), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("password_hash", Text),
    Column("security_token_sealed", Text),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", BigInteger),
    Column("time_zone", String(40), nullable=False),
    Column("locale", String(40), nullable=False),
    Column("language", String(40), nullable=False),
    Column("last_login_at", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
    Index(None, "org_id"),
)

user_permission_sets = Table(
    "user_permission_sets",
    metadata,
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "permission_set_id",
        ID,
        ForeignKey("permission_sets.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # The link as a PermissionSetAssignment sObject (0Pa): its Id, org and creation time.
    Column("id", ID, nullable=False, unique=True),
    Column("org_id", ID, nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
)

apps = Table(
    "apps",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("name", String(255), nullable=False),
    # Unique per org: the built-in PlatformCLI app has the same key in every org.
    Column("consumer_key", String(255), nullable=False),
    Column("consumer_secret_sealed", Text),  # NULL: a public client (no secret)
    Column("callback_urls", JSON, nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("certificate", Text),
    Column("require_pkce", Boolean, nullable=False, default=False),
    Column("require_secret_web_server", Boolean, nullable=False, default=True),
    Column("require_secret_refresh", Boolean, nullable=False, default=True),
    Column("enable_implicit", Boolean, nullable=False, default=False),
    Column("enable_device_flow", Boolean, nullable=False, default=False),
    Column("enable_client_credentials", Boolean, nullable=False, default=False),
    Column("run_as_user_id", ID, ForeignKey("users.id")),
    Column("permitted_users", String(20), nullable=False),
    Column("authorized_profile_ids", JSON, nullable=False),
    Column("authorized_permission_set_ids", JSON, nullable=False),
    Column("ip_relaxation", String(30), nullable=False),
    Column("session_timeout_minutes", Integer, nullable=False),  # 0: the org's
    Column("refresh_token_policy", String(40), nullable=False),
    Column("rotate_refresh_tokens", Boolean, nullable=False, default=False),
    Column("require_par", Boolean, nullable=False, default=False),
    Column("require_dpop", Boolean, nullable=False, default=False),
    Column("require_private_key_jwt", Boolean, nullable=False, default=False),
    Column("allow_token_exchange", Boolean, nullable=False, default=False),
    Column("jwt_access_tokens", Boolean, nullable=False, default=False),
    Column("builtin", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
    UniqueConstraint("org_id", "name"),
    UniqueConstraint("org_id", "consumer_key"),
    Index(None, "consumer_key"),
)

# --- OAuth state -------------------------------------------------------------------------

consents = Table(
    "consents",
    metadata,
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("scopes", Text, nullable=False),
    Column("granted_at", BigInteger, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),  # "access" | "refresh"
    Column("org_id", ID, nullable=False),
    Column("user_id", ID, nullable=False),
    Column("app_id", ID),  # NULL for SOAP sessions
    Column("scopes", Text, nullable=False),
    # A family is everything issued from one grant (one code, one login): revoked together.
    Column("family_id", String(32), nullable=False),
    # For an access token: the digest of the refresh token it came from, if any. Read with
    # its token, never searched by (the family is what revokes together): no index, which
    # every issued token would pay for.
    Column("parent_digest", String(64)),
    Column("flow", String(30), nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("last_used_at", BigInteger, nullable=False),
    Column("idle_timeout", Integer),  # seconds of inactivity before an access token dies
    Column("revoked_at", BigInteger),
    Column("rotated_at", BigInteger),  # refresh token replaced under rotation
    # RFC 9449: the SHA-256 JWK thumbprint (RFC 7638) of the DPoP key it is bound to.
    Column("jkt", String(43)),
    # RFC 8693 §4.1: the consumer key of the client that obtained it by token exchange.
    Column("act", String(255)),
    Index(None, "family_id"),
    Index(None, "user_id", "app_id"),
)

auth_codes = Table(
    "auth_codes",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("app_id", ID, nullable=False),
    Column("user_id", ID, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("code_challenge", String(255)),
    Column("code_challenge_method", String(10)),
    Column("nonce", Text),
    Column("family_id", String(32), nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("consumed_at", BigInteger),
)

device_codes = Table(
    "device_codes",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("user_code", String(16), nullable=False, unique=True),
    Column("app_id", ID, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("status", String(10), nullable=False),  # pending | approved | denied | consumed
    Column("user_id", ID),
    Column("interval", Integer, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("last_polled_at", BigInteger),
)

# RFC 9126 pushed authorization requests: the digest of the request_uri's random part.
pushed_requests = Table(
    "pushed_requests",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("app_id", ID, nullable=False),
    Column("params", JSON, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("consumed_at", BigInteger),
)

jwt_replay = Table(
    "jwt_replay",
    metadata,
    Column("key", String(64), primary_key=True),  # digest of app id + jti
    Column("expires_at", BigInteger, nullable=False),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(40), primary_key=True),
    Column("private_key_sealed", Text, nullable=False),
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("active_from", BigInteger, nullable=False),
    Column("retire_after", BigInteger),
)

login_history = Table(
    "login_history",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID),
    Column("user_id", ID),
    Column("username", String(80)),
    Column("login_time", BigInteger, nullable=False),  # epoch milliseconds
    Column("login_type", String(40), nullable=False),
    Column("source_ip", String(39)),
    Column("status", String(128), nullable=False),
    Column("application", String(255)),
    Column("app_id", ID),
    Column("browser", String(64)),
    Column("platform", String(64)),
    Column("login_url", String(1024)),
    Column("api_type", String(40)),
    Column("api_version", String(10)),
    Index(None, "org_id", "login_time"),
    Index(None, "user_id"),
)


# --- Setup audit trail (directory) ------------------------------------------------------

setup_audit_trail = Table(
    "setup_audit_trail",
    metadata,
    Column("id", ID, primary_key=True),  # 0Ym
    Column("org_id", ID, nullable=False),
    Column("action", String(255), nullable=False),
    Column("section", String(255), nullable=False),
    Column("display", String(1000), nullable=False),
    Column("created_date", BigInteger, nullable=False),  # epoch milliseconds
    Column("created_by_id", ID),  # NULL when made outside any user session (CLI, seed)
    Column("created_by_context", String(80)),  # "CLI", "Seed file", "Admin console"…
    Column("delegate_user", String(80)),
    Index(None, "org_id", "created_date"),
)

# --- Browser sessions (issue 4, migration 0003_browser) -----------------------------------

browser_sessions = Table(
    "browser_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("org_id", ID, nullable=False),
    Column("auth_time", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "user_id"),
)

# --- Limits and API usage log (issue 6, migration 0006_audit) ----------------------------

counters = Table(
    "counters",
    metadata,
    # "api:{org_id}", "login-user:{user_id}", "login-ip:{address}"
    Column("key", String(200), primary_key=True),
    Column("bucket", BigInteger, primary_key=True),  # epoch seconds the bucket starts at
    Column("count", Integer, nullable=False),
)

api_usage_log = Table(
    "api_usage_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),  # epoch milliseconds the request arrived
    Column("org_id", ID),
    Column("user_id", ID),
    Column("app_id", ID),
    Column("method", String(10), nullable=False),
    Column("path", String(2048), nullable=False),  # without the query string
    Column("status", Integer, nullable=False),
    Column("duration_us", BigInteger, nullable=False),
    Index(None, "at_ms"),
    Index(None, "org_id", "at_ms"),
)

# --- Data API (issue 5, migration 0004_records) -------------------------------------------
# The records themselves live in one table per sObject (``sobject_<name>``), built from the
# schema by ``record_tables.py``; these are the data API's bookkeeping tables.

custom_objects = Table(
    "custom_objects",
    metadata,
    Column("org_id", ID, primary_key=True),
    Column("name", String(80), primary_key=True),  # API name as declared: Thing__c, Account
    Column("key_prefix", String(3)),  # NULL for custom fields on a standard object
    Column("declaration", JSON, nullable=False),  # data.custom.parse_declaration output
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
)

query_cursors = Table(
    "query_cursors",
    metadata,
    Column("id", ID, primary_key=True),  # the 01g... query locator
    Column("org_id", ID, nullable=False),
    Column("user_id", ID, nullable=False),
    Column("soql", Text, nullable=False),
    Column("query_all", Boolean, nullable=False),
    Column("batch_size", Integer, nullable=False),
    Column("total_size", Integer, nullable=False),
    Column("keys", JSON, nullable=False),  # {"2000": "<last Id of the page before>"}
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "expires_at"),
)

# --- Bulk jobs (issue 14, migration 0012_bulk_jobs) ----------------------------------------

bulk_jobs = Table(
    "bulk_jobs",
    metadata,
    Column("id", ID, primary_key=True),  # 750...
    Column("org_id", ID, nullable=False),
    Column("user_id", ID, nullable=False),
    Column("kind", String(8), nullable=False),  # ingest | query
    Column("operation", String(16), nullable=False),
    Column("object", String(80)),
    Column("api_version", String(8), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),  # epoch ms
    Column("modified_at", BigInteger, nullable=False),
    Column("external_id_field", String(80)),
    Column("column_delimiter", String(12), nullable=False),
    Column("line_ending", String(4), nullable=False),
    Column("query", Text),
    Column("columns", JSON),  # the upload's header fields, once processing started
    Column("bytes_uploaded", BigInteger, nullable=False),
    Column("rows_done", BigInteger, nullable=False),
    Column("records_processed", BigInteger, nullable=False),
    Column("records_failed", BigInteger, nullable=False),
    Column("processing_ms", BigInteger, nullable=False),
    Column("error_message", Text),
    Column("runner", String(64)),
    Column("lease_until", BigInteger),
    Column("parent_id", ID),  # Bulk API 1.0: a batch's job (migration 0014)
    Column("content_type", String(8)),  # Bulk API 1.0: JSON, CSV or XML
    Index(None, "org_id", "kind", "created_at", "id"),
    Index(None, "parent_id"),
    Index(None, "state"),
)

# An upload or a result set in order, in bounded parts (data/bulk/ports.py).
bulk_job_parts = Table(
    "bulk_job_parts",
    metadata,
    Column("job_id", ID, primary_key=True),
    Column("kind", String(12), primary_key=True),  # upload | success | failed | result
    Column("seq", BigInteger, primary_key=True),
    Column("rows", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)
