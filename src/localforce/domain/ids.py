"""Salesforce record IDs: 15-character case-sensitive and 18-character case-safe forms.

An ID is a 3-character key prefix (``001`` Account, ``005`` User, ...), a 2-character pod,
one reserved character and a 9-character base-62 sequence. The 18-character form appends a
3-character checksum that encodes which of the first 15 characters are upper-case, so that
the ID survives case-insensitive systems (salesforce-wire.md §5.1).

APIs accept either form and always return the 18-character one.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import re
import secrets

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SHAPE = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$")

#: Standard key prefixes (salesforce-wire.md §5.2).
KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Note": "002",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Campaign": "701",
    "Organization": "00D",
    "UserRole": "00E",
    "Group": "00G",
    "Attachment": "00P",
    "Lead": "00Q",
    "Task": "00T",
    "Event": "00U",
    "Profile": "00e",
    "OpportunityLineItem": "00k",
    "CampaignMember": "00v",
    "RecordType": "012",
    "Pricebook2": "01s",
    "Product2": "01t",
    "PricebookEntry": "01u",
    "PermissionSet": "0PS",
    "PermissionSetAssignment": "0Pa",
    "LoginHistory": "0Ya",
    "SetupAuditTrail": "0Ym",
    "ConnectedApplication": "0H4",
    "OpportunityContactRole": "00K",
    "Case": "500",
    "QueryLocator": "01g",
}

#: Pod and reserved characters used for IDs minted by this server.
_POD = "5g"
_RESERVED = "0"


class MalformedId(ValueError):
    """Raised for a string that is not a 15- or 18-character Salesforce ID."""


def checksum(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character ID: each 5-character chunk's
    upper-case letters as bits, lowest first."""
    bits = id15.translate(_UPPER_BITS)
    return (_CHECKSUM_ALPHABET[int(bits[4::-1], 2)] + _CHECKSUM_ALPHABET[int(bits[9:4:-1], 2)]
            + _CHECKSUM_ALPHABET[int(bits[14:9:-1], 2)])


#: ASCII upper-case letters to ``1``, every other ASCII character to ``0`` (an ID's
#: characters are ASCII letters and digits): a string of bits in one call (a loop over the
#: characters cost more: bench/README.md).
_UPPER_BITS = str.maketrans({chr(c): "1" if chr(c).isupper() else "0" for c in range(128)})


@functools.lru_cache(maxsize=8192)  # the same org, user and record IDs over and over
def to18(value: str) -> str:
    """Normalise a 15- or 18-character ID to its 18-character form.

    An 18-character input must carry the checksum of its first 15 characters, except
    that the case of those 15 may have been lost: then the checksum restores it.
    """
    if not is_id_shaped(value):
        raise MalformedId(value)
    if len(value) == 15:
        return value + checksum(value)
    suffix = value[15:].upper()
    return _restore_case(value[:15] + suffix) + suffix


def to15(value: str) -> str:
    """The case-sensitive 15-character form of an ID."""
    return to18(value)[:15]


def is_id_shaped(value: str) -> bool:
    return bool(_SHAPE.match(value))


def is_valid(value: str) -> bool:
    """True for a 15-character ID or an 18-character ID whose checksum matches."""
    if not is_id_shaped(value):
        return False
    if len(value) == 15:
        return True
    suffix = value[15:].upper()
    return checksum(_restore_case(value[:15] + suffix)) == suffix


def valid18(value: str) -> str | None:
    """The 18-character form of a valid ID (``is_valid``), else None: both in one pass."""
    if not is_id_shaped(value):
        return None
    if len(value) == 15:
        return value + checksum(value)
    suffix = value[15:].upper()
    head = _restore_case(value[:15] + suffix)
    return head + suffix if checksum(head) == suffix else None


def _restore_case(id18: str) -> str:
    head = id18[:15]
    if checksum(head) == id18[15:]:
        return head
    # The case was folded: rebuild it from the checksum bits.
    chars = list(head.lower())
    for chunk, code in enumerate(id18[15:18]):
        bits = _CHECKSUM_ALPHABET.index(code)
        for position in range(5):
            if bits & (1 << position):
                index = chunk * 5 + position
                chars[index] = chars[index].upper()
    return "".join(chars)


def new_id(prefix: str, token_bytes: int = 9) -> str:
    """Mint a random 18-character ID with the given 3-character key prefix."""
    if len(prefix) != 3:
        raise ValueError(f"key prefix must be 3 characters: {prefix!r}")
    # One draw over the whole range (a draw per character cost more, bench/README.md).
    sequence = _base62(_draw(62 ** token_bytes), token_bytes)
    id15 = prefix + _POD + _RESERVED + sequence
    return id15 + checksum(id15)


_SPAN = 62 ** 9


def _draw(span: int) -> int:
    """A uniform random integer below ``span`` (< 2**56) from the OS's CSPRNG: 7 bytes, the
    draws past the last whole multiple of ``span`` rejected (``secrets.randbelow``'s layers
    of Python cost as much as the rest of a new ID)."""
    if span > 1 << 56:
        return secrets.randbelow(span)
    limit = (1 << 56) // span * span
    while True:
        n = int.from_bytes(os.urandom(7), "big")
        if n < limit:
            return n % span


def new_ids(prefix: str, count: int) -> list[str]:
    """``count`` new 18-character IDs in a row: consecutive sequences from a random start, as
    Salesforce's own IDs for one batch follow each other. A Bulk transaction's rows then land
    side by side in every index that ends in the Id, instead of at random pages (what made a
    10,000-row insert touch ~10,000 pages of each index). They never collide among themselves,
    and no likelier with existing IDs than as many random ones would."""
    if len(prefix) != 3:
        raise ValueError(f"key prefix must be 3 characters: {prefix!r}")
    start = secrets.randbelow(_SPAN - count)
    return _consecutive(prefix + _POD + _RESERVED, start, count)


class IdSequence:
    """New IDs of one key prefix, each this process's previous one plus one — as Salesforce's
    own IDs follow each other — for a table that receives rows all day (LoginHistory: a row
    per grant). Its rows then land on the last pages of the index on Id, not on a random page
    of a large table (bench/README.md, twenty-second pass).

    Each process starts at a random point, drawn again in a forked child. Two processes can
    only collide where the runs they mint overlap — about ``k * N / 62**9`` for ``k`` processes
    minting ``N`` IDs in all, far less likely than ``N`` random IDs (``N**2 / 2 / 62**9``). A
    start leaves room for 2**40 IDs before the end of the range."""

    def __init__(self, prefix: str) -> None:
        if len(prefix) != 3:
            raise ValueError(f"key prefix must be 3 characters: {prefix!r}")
        self._head = prefix + _POD + _RESERVED
        self._restart()
        os.register_at_fork(after_in_child=self._restart)

    def _restart(self) -> None:
        self._next = itertools.count(secrets.randbelow(_SPAN - (1 << 40)))

    def new_id(self) -> str:
        return _consecutive(self._head, next(self._next), 1)[0]  # next(): one step, atomic


def _consecutive(head: str, start: int, count: int) -> list[str]:
    """The IDs ``head`` + sequences ``start`` … ``start + count - 1``, checksums included."""
    out = []
    # The 9-character sequence is 4 digits closing the second checksum chunk and 5 making
    # the third: 3 of them worked out once per value they take, the last 2 (and their
    # upper-case bits) looked up.
    current = -1
    lead = sum12 = ""
    lead_bits = 0
    for n in range(start, start + count):
        upper, pair = divmod(n, _PAIR_SPAN)
        if upper != current:
            current = upper
            high, top = divmod(upper, _TOP_SPAN)
            whole = head + _base62(high, 4)
            sum12 = checksum(whole + "00000")[:2]
            lead = whole + _base62(top, 3)
            lead_bits = sum(1 << p for p, c in enumerate(lead[-3:]) if "A" <= c <= "Z")
        chars, bits = _PAIRS[pair]
        out.append(lead + chars + sum12 + _CHECKSUM_ALPHABET[lead_bits | bits])
    return out


_CHUNK = 62 ** 5
_PAIR_SPAN, _TOP_SPAN = 62 ** 2, 62 ** 3
#: The last two characters of a sequence by their value, with their upper-case bits in the
#: third checksum chunk (positions 3 and 4).
_PAIRS = tuple((_BASE62[a] + _BASE62[b], (8 if 10 <= a < 36 else 0) | (16 if 10 <= b < 36 else 0))
               for a in range(62) for b in range(62))


def _base62(n: int, width: int) -> str:
    if width == 9:  # a new ID's sequence: two characters at a time
        n, d4 = divmod(n, _PAIR_SPAN)
        n, d3 = divmod(n, _PAIR_SPAN)
        n, d2 = divmod(n, _PAIR_SPAN)
        n, d1 = divmod(n, _PAIR_SPAN)
        return (_BASE62[n] + _PAIRS[d1][0] + _PAIRS[d2][0] + _PAIRS[d3][0]
                + _PAIRS[d4][0])
    digits = []
    for _ in range(width):
        n, digit = divmod(n, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def derived_id(prefix: str, seed: str) -> str:
    """The same 18-character ID for the same ``seed`` every time (records the platform creates
    once per org, such as its standard price book, so that creating one twice is impossible)."""
    digest = hashlib.sha256(seed.encode()).digest()
    id15 = prefix + _POD + _RESERVED + "".join(_BASE62[b % 62] for b in digest[:9])
    return id15 + checksum(id15)


def same_id(a: str, b: str) -> bool:
    """Compare two IDs in either form."""
    try:
        return to18(a) == to18(b)
    except MalformedId:
        return False
