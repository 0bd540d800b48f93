"""CSV in and out of Bulk jobs, a line at a time (Bulk API 2.0 Developer Guide, "Prepare CSV
Files"): UTF-8 (a byte-order mark is skipped), a header row of field names, the job's
``columnDelimiter`` and ``lineEnding``; ``#N/A`` sets a field to null, an empty value leaves it
alone.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
NULL = "#N/A"


class CsvError(Exception):
    """The upload is not a CSV file the job can read; ``line`` is 1 for the header."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"ClientInputError : LineNumber: {line} : {message}")
        self.line = line


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """The text of ``chunks`` line by line, each with its ``\\n``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    for chunk in chunks:
        text = pending + decoder.decode(chunk)
        parts = text.split("\n")
        pending = parts.pop()
        for part in parts:
            yield part + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


class Reader:
    """Data rows of an upload as ``(line number, values)``; ``header`` is read first."""

    def __init__(self, chunks: Iterable[bytes], column_delimiter: str = "COMMA") -> None:
        self._reader = csv.reader(_lines(chunks), delimiter=DELIMITERS[column_delimiter],
                                  strict=True)
        try:
            self.header: list[str] = next(self._reader)
        except StopIteration:
            raise CsvError(1, "The CSV file is empty") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CsvError(1, _reason(exc)) from None
        if not any(name.strip() for name in self.header):
            raise CsvError(1, "The header row has no field names")
        self.header = [name.strip() for name in self.header]

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.header)
        reader = self._reader
        try:
            for row in reader:
                if len(row) != width:
                    if not row:
                        continue  # a blank line (the file's last, most often)
                    raise CsvError(reader.line_num, f"Wrong number of columns: found "
                                   f"{len(row)}, the header has {width}")
                yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CsvError(reader.line_num, _reason(exc)) from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "The file is not valid UTF-8"
    return f"Malformed CSV: {exc}"


class Writer:
    """Result rows as CSV bytes, every value quoted as Salesforce writes them."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        self.rows = 0

    def row(self, values: Sequence[object]) -> None:
        self._writer.writerow(values)
        self.rows += 1

    def rows_of(self, rows: Sequence[Sequence[object]]) -> None:
        self._writer.writerows(rows)
        self.rows += len(rows)

    def take(self) -> bytes:
        data = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        self.rows = 0
        return data


def header_line(prefix: Sequence[str], columns: Sequence[str]) -> bytes:
    """``"sf__Id","sf__Created",Name,...``: the result columns quoted, the upload's as sent."""
    plain = io.StringIO()
    csv.writer(plain, lineterminator="\n").writerow(columns)
    quoted = ",".join(f'"{name}"' for name in prefix)
    return (quoted + ("," + plain.getvalue() if columns else "\n")).encode("utf-8")
