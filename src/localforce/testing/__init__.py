"""The pytest plugin: every test gets a real org (``localforce_org``), reset in milliseconds.

Registered as the ``localforce`` pytest11 entry point (``plugin.py``); ``org.py`` starts the
server and drives its test controls, and works without pytest too (``start_org``).
"""

from localforce.testing.org import Org, start_org

__all__ = ["Org", "start_org"]
