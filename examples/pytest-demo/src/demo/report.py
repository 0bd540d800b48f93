"""A nightly report with the localforce SDK: Accounts per industry, every page of the query."""

from __future__ import annotations

from collections import Counter

from localforce.client import Session


def accounts_by_industry(session: Session) -> dict[str, int]:
    return dict(Counter(record["Industry"] or "(none)"
                        for record in session.query("SELECT Industry FROM Account")))
