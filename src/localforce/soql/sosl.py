"""Recursive-descent SOSL parser: ``parse_search(text) -> Search``.

SOQL & SOSL Reference, "SOSL Syntax"::

    search     := FIND {term} [IN scope FIELDS] [RETURNING object, ...] [WITH ...]* [LIMIT n]
                  [UPDATE TRACKING | UPDATE VIEWSTAT]
    scope      := ALL | NAME | EMAIL | PHONE | SIDEBAR
    object     := objectType [( field, ... [WHERE condition] [ORDER BY ...] [LIMIT n]
                  [OFFSET n] )]

The braced search term is lexed apart (``parse_term``): words, ``"phrases"``, the
``*``/``?`` wildcards, ``AND``, ``OR``, ``AND NOT``, parentheses and ``\\``-escapes; words
side by side mean ``AND``. Everything after the term is SOQL's tokens, so a RETURNING
object's field list, WHERE and ORDER BY reuse the SOQL grammar rules (``Parser``) and each
object becomes a ``Select`` the SOQL resolver checks. Syntax errors are ``MALFORMED_SEARCH``
with SOQL's caret form; a term Salesforce cannot search is ``INVALID_SEARCH``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from localforce.soql import ast
from localforce.soql.errors import MAX_QUERY_LENGTH, MalformedQuery, SoqlError
from localforce.soql.parser import Parser

__all__ = ["SCOPES", "And", "InvalidSearch", "MalformedSearch", "Not", "Or", "Phrase",
           "Search", "parse_search", "parse_term"]

SCOPES = ("ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR")
#: SOSL's default and greatest overall LIMIT.
MAX_LIMIT = 2000
#: SOSL & SOQL Reference, "FIND": a search term may hold up to 4,000 characters.
MAX_TERM = 4000
WITH_WORDS = ("SPELL_CORRECTION", "HIGHLIGHT", "SNIPPET", "METADATA", "DIVISION", "NETWORK",
              "PRICEBOOKID", "USERMODE", "SYSTEMMODE")


class MalformedSearch(SoqlError):
    error_code = "MALFORMED_SEARCH"


class InvalidSearch(SoqlError):
    error_code = "INVALID_SEARCH"


# -- the search term ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words that must appear in this order; ``prefix``: the last one is a prefix (``acm*``)."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``keep AND NOT drop``."""

    keep: Term
    drop: Term


Term = Phrase | And | Or | Not

#: Words are runs of letters and digits, as SQLite's unicode61 tokenizer and PostgreSQL's
#: parser cut them; anything else separates words.
WORD = re.compile(r"[^\W_]+")
_TERM_TOKEN = re.compile(r'\s+|\(|\)|"(?:\\.|[^"\\])*"?|(?:\\.|[^\s()"\\])+|\\')


def parse_term(text: str) -> Term:
    """The braced term as a tree; raise ``MalformedSearch``/``InvalidSearch``."""
    tokens = [t for t in _TERM_TOKEN.findall(text) if not t.isspace()]
    if not tokens:
        raise MalformedSearch("No search term found. The search term must be enclosed in "
                              "braces.")
    parser = _TermParser(tokens)
    term = parser.either()
    if parser.i < len(tokens):
        raise MalformedSearch(f"unexpected token: '{tokens[parser.i]}'")
    return term


class _TermParser:
    """``either := both (OR both)*``; ``both := unit ((AND [NOT] | ) unit)*``."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.upper() in words

    def either(self) -> Term:
        parts = [self.both()]
        while self.word("OR"):
            self.i += 1
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def both(self) -> Term:
        term = self.unit()
        parts: list[Term] = [term]
        while self.peek() is not None and self.peek() != ")" and not self.word("OR"):
            if self.word("AND"):
                self.i += 1
                if self.word("NOT"):
                    self.i += 1
                    keep = parts[0] if len(parts) == 1 else And(tuple(parts))
                    parts = [Not(keep, self.unit())]
                    continue
            parts.append(self.unit())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unit(self) -> Term:
        token = self.peek()
        if token is None or token == ")" or self.word("AND", "OR"):
            raise MalformedSearch(f"unexpected token: '{token or '<EOF>'}'")
        self.i += 1
        if token == "(":
            term = self.either()
            if self.peek() != ")":
                raise MalformedSearch("mismatched parentheses in the search term")
            self.i += 1
            return term
        if token.startswith('"'):
            if len(token) < 2 or not token.endswith('"') or token.endswith('\\"'):
                raise MalformedSearch("unmatched quotes in the search term")
            return _phrase(token[1:-1])
        return _phrase(token)


def _phrase(text: str) -> Phrase:
    raw = re.sub(r"\\(.)", r" \1 ", text) if "\\" in text else text
    plain = re.sub(r"\\.", " ", text)
    prefix = plain.rstrip().endswith(("*", "?"))
    words = tuple(w.lower() for w in WORD.findall(raw.replace("*", " ").replace("?", " ")))
    if not words:
        raise InvalidSearch("search term must be longer than one character")
    if len(words) == 1 and len(words[0]) < 2 and not prefix:
        raise InvalidSearch("search term must be longer than one character")
    if prefix and len(words[-1]) < 2:
        raise InvalidSearch("Wildcard searches require at least two characters before the "
                            "wildcard")
    return Phrase(words, prefix)


# -- the statement ------------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    term: Term
    scope: str
    #: One SELECT per RETURNING object (``Id`` only when it names no fields); empty when the
    #: statement has no RETURNING (every searchable object, Ids only).
    returning: tuple[ast.Select, ...]
    limit: int


_FIND_TERM = re.compile(r"\s*FIND\s*(?=\{)", re.IGNORECASE)


def parse_search(text: str) -> Search:
    if len(text) > MAX_QUERY_LENGTH:
        raise MalformedSearch(f"SOSL statements cannot exceed {MAX_QUERY_LENGTH:,} characters")
    head = _FIND_TERM.match(text)
    if head is None:
        first = text.split(None, 1)[0] if text.strip() else "<EOF>"
        if first.upper() != "FIND":
            raise MalformedSearch(f"unexpected token: {first}")
        raise MalformedSearch("No search term found. The search term must be enclosed in "
                              "braces.")
    start = head.end()
    end = _closing_brace(text, start)
    if end is None:
        raise MalformedSearch("No search term found. The search term must be enclosed in "
                              "braces.")
    term_text = text[start + 1:end]
    if len(term_text) > MAX_TERM:
        raise InvalidSearch(f"search term exceeds {MAX_TERM} characters")
    term = parse_term(term_text)
    # The rest is SOQL's tokens: blank the FIND term out (keeping line breaks) so positions
    # in caret messages are the statement's own.
    blanked = text[:start] + re.sub(r"[^\r\n]", " ", text[start:end + 1]) + text[end + 1:]
    try:
        return _StatementParser(blanked, text).statement(term)
    except MalformedQuery as exc:
        raise MalformedSearch(exc.detail, exc.row, exc.column, query=text) from None


def _closing_brace(text: str, start: int) -> int | None:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "}":
            return i
        i += 1
    return None


class _StatementParser(Parser):
    def __init__(self, blanked: str, original: str) -> None:
        super().__init__(blanked)
        self.cursor.text = original

    def statement(self, term: Term) -> Search:  # type: ignore[override]
        c = self.cursor
        c.expect_word("FIND")
        scope = "ALL"
        if c.accept_word("IN"):
            scope = c.expect_word(*SCOPES).text.upper()
            c.expect_word("FIELDS")
        returning: tuple[ast.Select, ...] = ()
        if c.accept_word("RETURNING"):
            returning = self.comma_list(self.returning_object)
        while c.accept_word("WITH"):
            self.with_clause()
        limit = MAX_LIMIT
        if c.accept_word("LIMIT"):
            limit = min(self.integer(), MAX_LIMIT)
        if c.accept_word("UPDATE"):
            c.expect_word("TRACKING", "VIEWSTAT")
        if c.peek().kind != "EOF":
            c.unexpected()
        return Search(term, scope, returning, limit)

    def returning_object(self) -> ast.Select:
        c = self.cursor
        token = c.peek()
        sobject = c.expect_ident(allow_group=True).text
        if not c.accept_punct("("):
            return ast.Select((ast.FieldPath(("Id",), token.pos, (token.pos,)),), sobject,
                              token.pos, token.pos)
        self.aliases.append(None)
        try:
            fields = self.comma_list(lambda: self.select_item("semi"))
            clauses = self.clauses("child")
        finally:
            self.aliases.pop()
        c.expect_punct(")")
        select = ast.Select(fields, sobject, token.pos, token.pos, **clauses)
        self._check_select(select)
        return select

    def with_clause(self) -> None:
        """``WITH`` options that change nothing here: accepted, and ignored."""
        c = self.cursor
        word = c.expect_word(*WITH_WORDS, "DATA").text.upper()
        if word == "DATA":
            c.expect_word("CATEGORY")
            self.condition()
        elif c.accept_punct("="):
            c.advance()
        elif word == "SNIPPET" and c.accept_punct("("):
            while not c.at_punct(")") and c.peek().kind != "EOF":
                c.advance()
            c.expect_punct(")")
