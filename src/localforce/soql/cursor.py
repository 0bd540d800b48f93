"""Token cursor shared by the grammar rules, and Salesforce-shaped syntax errors."""

from __future__ import annotations

from typing import NoReturn

from localforce.soql.errors import MalformedQuery
from localforce.soql.lexer import Token, tokenize

__all__ = ["NOT_ALIASES", "RESERVED", "Cursor"]

#: SOQL & SOSL Reference, "Reserved Keywords": never a bare identifier.
#: (``Group`` is an object *and* a keyword; see :meth:`Cursor.expect_ident`.)
RESERVED = frozenset(
    {
        "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN",
        "INCLUDES", "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT",
        "WHERE", "WITH",
    }
)  # fmt: skip

#: Words that end a select item or FROM object instead of being its alias.
NOT_ALIASES = RESERVED | {"ORDER", "BY", "OFFSET", "FOR", "USING", "UPDATE", "TRUE", "FALSE"}


class Cursor:
    """A position in the token list of one statement."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = tokenize(text)
        self.index = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        if token.kind != "EOF":
            self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        return self.peek().is_word(*words)

    def at_punct(self, *puncts: str) -> bool:
        token = self.peek()
        return token.kind == "PUNCT" and token.text in puncts

    def accept_word(self, *words: str) -> Token | None:
        return self.advance() if self.at_word(*words) else None

    def accept_punct(self, *puncts: str) -> Token | None:
        return self.advance() if self.at_punct(*puncts) else None

    def expect_word(self, *words: str) -> Token:
        if not self.at_word(*words):
            self.unexpected()
        return self.advance()

    def expect_punct(self, *puncts: str) -> Token:
        if not self.at_punct(*puncts):
            self.unexpected()
        return self.advance()

    def expect_ident(self, allow_group: bool = False) -> Token:
        """An identifier that is not a reserved word.

        ``allow_group`` admits ``Group`` (the standard object) where the
        keyword GROUP cannot start a clause: before a ``.`` in a path
        (``Group.Name``) or as the FROM object when no ``BY`` follows.
        """
        token = self.peek()
        word = token.text.upper()
        group_ok = allow_group and word == "GROUP" and not self.peek(1).is_word("BY")
        if token.kind != "IDENT" or (word in RESERVED and not group_ok):
            self.unexpected()
        return self.advance()

    def at_alias(self) -> bool:
        token = self.peek()
        return token.kind == "IDENT" and token.text.upper() not in NOT_ALIASES

    def unexpected(self, token: Token | None = None) -> NoReturn:
        """Raise Salesforce's ``unexpected token`` error for ``token`` (default: next).

        Recorded behaviour: a wrong *first* token gives the bare
        ``unexpected token: SELEKT``; otherwise the caret form with the token
        quoted and ANTLR's 0-based column (see :mod:`localforce.soql.errors`).
        """
        token = token or self.peek()
        if token is self.tokens[0]:
            raise MalformedQuery(f"unexpected token: {token.text}")
        raise MalformedQuery(
            f"unexpected token: '{token.text}'",
            token.pos.row,
            token.pos.column - 1,
            query=self.text,
        )
