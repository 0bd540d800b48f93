"""Salesforce IDs: 15 -> 18 with the case-safe checksum, against real pairs (wire §5.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localforce.domain import ids

REAL_PAIRS = [
    ("005i0000002MUqL", "005i0000002MUqLAAW"),
    ("00Di0000000icUB", "00Di0000000icUBEAY"),
    ("001B000001LntWl", "001B000001LntWlIAJ"),
    ("00DRO0000008aXd", "00DRO0000008aXd2AI"),
    ("00Dx0000000BV7z", "00Dx0000000BV7zEAG"),
    ("005x00000012Q9P", "005x00000012Q9PAAU"),
]


@pytest.mark.parametrize(("id15", "id18"), REAL_PAIRS)
def test_real_15_to_18_pairs(id15: str, id18: str) -> None:
    assert ids.to18(id15) == id18
    assert ids.to18(id18) == id18
    assert ids.to15(id18) == id15


@pytest.mark.parametrize(("id15", "id18"), REAL_PAIRS)
def test_case_folded_18_char_id_is_restored(id15: str, id18: str) -> None:
    assert ids.to18(id18.lower()) == id18
    assert ids.to18(id18.upper()) == id18


@pytest.mark.parametrize("bad", ["", "001", "001B000001LntW", "001B000001LntWl!", "001B000001LntWlIAJX",
                                 "001B000001Lnt Wl"])
def test_malformed_ids_are_refused(bad: str) -> None:
    assert not ids.is_valid(bad)
    with pytest.raises(ids.MalformedId):
        ids.to18(bad)


def test_checksum_that_cannot_describe_the_id_is_not_valid() -> None:
    # "5" sets all five case bits, but the first chunk "001B0" has digits in it.
    assert not ids.is_valid("001B000001LntWl555")
    # A checksum naming different letters is read as case folding: the case is restored.
    assert ids.to18("001B000001LntWlAAA") == "001b000001lntwlAAA"


_ID_CHARS = st.sampled_from("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!")


@given(st.one_of(st.sampled_from([p for pair in REAL_PAIRS for p in pair]),
                 st.text(_ID_CHARS, min_size=14, max_size=19),
                 st.sampled_from(REAL_PAIRS).map(lambda pair: pair[1].lower()),
                 st.sampled_from(REAL_PAIRS).map(lambda pair: pair[0] + "AAA")))
def test_valid18_is_is_valid_then_to18(value: str) -> None:
    assert ids.valid18(value) == (ids.to18(value) if ids.is_valid(value) else None)


def test_valid18_refuses_a_checksum_that_cannot_describe_the_id() -> None:
    assert ids.valid18("001B000001LntWl555") is None
    assert ids.valid18("001B000001LntWlIAJ".lower()) == "001B000001LntWlIAJ"


def test_new_ids_carry_prefix_and_valid_checksum() -> None:
    minted = {ids.new_id("001") for _ in range(200)}
    assert len(minted) == 200
    for value in minted:
        assert value.startswith("001") and len(value) == 18
        assert ids.is_valid(value)
        assert ids.to18(value[:15]) == value


def test_the_draw_is_uniform_below_its_span_and_rejects_the_biased_tail(
        monkeypatch: pytest.MonkeyPatch) -> None:
    span = 62 ** 9
    limit = (1 << 56) // span * span
    draws = iter([limit.to_bytes(7, "big"), (limit - 1).to_bytes(7, "big")])
    monkeypatch.setattr(ids.os, "urandom", lambda n: next(draws))
    assert ids._draw(span) == (limit - 1) % span  # the first, in the biased tail, rejected
    monkeypatch.undo()
    assert all(0 <= ids._draw(10) < 10 for _ in range(1000))
    assert set(ids._draw(3) for _ in range(300)) == {0, 1, 2}
    assert 0 <= ids._draw(1 << 60) < 1 << 60  # past 7 bytes: secrets.randbelow


def test_a_batch_of_new_ids_follows_on_in_order_with_valid_checksums(
        monkeypatch: pytest.MonkeyPatch) -> None:
    batch = ids.new_ids("001", 5000)  # a random start: the carries differ from run to run
    assert len(set(batch)) == 5000
    sequence = [sum(ids._BASE62.index(c) * 62 ** (8 - i) for i, c in enumerate(value[6:15]))
                for value in batch]
    assert sequence == list(range(sequence[0], sequence[0] + 5000))
    assert all(v[:6] == "0015g0" and ids.to18(v[:15]) == v for v in batch)
    monkeypatch.setattr(ids.secrets, "randbelow", lambda _: 62 ** 5 - 2)
    carried = ids.new_ids("a01", 4)  # across a carry into the second checksum chunk
    assert [v[6:15] for v in carried] == ["0000zzzzy", "0000zzzzz", "000100000", "000100001"]
    assert all(ids.to18(v[:15]) == v for v in carried)
    with pytest.raises(ValueError):
        ids.new_ids("01", 1)


def _sequence_number(value: str) -> int:
    return sum(ids._BASE62.index(c) * 62 ** (8 - i) for i, c in enumerate(value[6:15]))


def test_an_id_sequence_mints_each_id_one_past_the_last_even_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    sequence = ids.IdSequence("0Ya")
    with ThreadPoolExecutor(8) as pool:
        minted = list(pool.map(lambda _: sequence.new_id(), range(4000)))
    numbers = sorted(_sequence_number(v) for v in minted)
    assert numbers == list(range(numbers[0], numbers[0] + 4000))  # none twice, none skipped
    assert all(v[:6] == "0Ya5g0" and ids.to18(v[:15]) == v for v in minted)
    assert sorted(minted) == sorted(minted, key=_sequence_number)  # the text sorts as the number
    with pytest.raises(ValueError):
        ids.IdSequence("0Y")


def test_a_forked_child_continues_from_a_start_of_its_own() -> None:
    """Workers are forked from one parent: were the child to go on from the parent's next
    number, two workers would mint the same IDs."""
    import os

    sequence = ids.IdSequence("0Ya")
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(writer, sequence.new_id().encode())
        os._exit(0)
    os.waitpid(child, 0)
    in_child = os.read(reader, 64).decode()
    os.close(reader)
    os.close(writer)
    in_parent = [sequence.new_id() for _ in range(2)]
    assert _sequence_number(in_parent[1]) == _sequence_number(in_parent[0]) + 1
    assert abs(_sequence_number(in_child) - _sequence_number(in_parent[0])) > 1000


def test_same_id_compares_across_forms() -> None:
    assert ids.same_id("001B000001LntWl", "001B000001LntWlIAJ")
    assert not ids.same_id("001B000001LntWl", "001B000001LntWm")
    assert not ids.same_id("nonsense", "001B000001LntWl")


def _reference_checksum(id15: str) -> str:
    """salesforce-wire.md §5.1 spelled out: per 5-character chunk, bit i set when character
    i is an upper-case letter."""
    out = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[chunk * 5:chunk * 5 + 5]) if "A" <= c <= "Z")
        out += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return out


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
               min_size=15, max_size=15))
def test_the_checksum_is_the_reference_one(id15: str) -> None:
    assert ids.checksum(id15) == _reference_checksum(id15)


@given(st.integers(min_value=0, max_value=62 ** 9 - 1))
def test_a_sequence_is_its_number_in_base_62(n: int) -> None:
    text = ids._base62(n, 9)
    assert len(text) == 9 and int_base62(text) == n


def int_base62(text: str) -> int:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    value = 0
    for char in text:
        value = value * 62 + alphabet.index(char)
    return value
