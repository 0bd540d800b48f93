"""The REST API versions this server speaks: 31.0 (Summer '14) to 62.0 (Winter '25)."""

from __future__ import annotations

OLDEST = 31
LATEST = 62
_SEASONS = ("Winter", "Spring", "Summer")


def label(major: int) -> str:
    """20.0 is Winter '11; each release moves one season (salesforce-wire.md §6.1)."""
    season = _SEASONS[(major - 20) % 3]
    year = 11 + (major - 20) // 3
    return f"{season} '{year:02d}"


def versions() -> list[dict[str, str]]:
    return [
        {"label": label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(OLDEST, LATEST + 1)
    ]


def is_supported(version: str) -> bool:
    """``version`` as in the path without the ``v``: ``"59.0"``."""
    major, dot, minor = version.partition(".")
    return dot == "." and minor == "0" and major.isdigit() and OLDEST <= int(major) <= LATEST
