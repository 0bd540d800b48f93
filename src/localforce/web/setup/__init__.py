"""``/setup``: the admin console, server-rendered (Jinja2 templates beside this package).

A thin layer over the directory services the CLI and the seed loader call
(``directory/service.py``): the rules, their error messages and the SetupAuditTrail entries live
there; this package parses forms, checks who may use it and renders.

- The gate: a logged-in, active user whose profile or a permission set has "Manage Users"
  (the System Administrator profile has it); anyone else gets 403 on every page and form, and
  a browser without a session is sent to ``/setup/login``.
- Pages carry the headers of ``web/routes/pages.py`` (``frame-ancestors 'none'``, no-store);
  every form carries the session-bound CSRF token; every change answers 303 (POST-redirect-GET).
- Secrets are rendered only on the consumer-details view, after the admin re-enters their
  password, as the answer to that POST; never in a URL.
"""

from localforce.web.setup.routes import routes

__all__ = ["routes"]
