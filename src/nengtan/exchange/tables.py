"""Reading CSV and Excel files as sheets of rows, streaming.

A file becomes one or more :class:`Sheet` objects: the header row and an iterator over the
data rows with their row number as a spreadsheet shows it (the header is row 1).  Rows are
never all loaded at once, so a readings file of millions of rows is read chunk by chunk.

CSV files are UTF-8 (a BOM is accepted) or GB18030 — what Excel writes on Chinese Windows
("CSV (逗号分隔)"); GB18030 is a superset of GBK and GB2312.  The encoding is detected by
validating the whole file as UTF-8 first, because a GBK file can start with pure ASCII.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from nengtan.errors import InputError, Issue
from nengtan.exchange.cells import text

FORMATS = ("csv", "xlsx")
_BLOCK = 1 << 20
#: Rows handed to the parsers at a time: big enough for numpy to pay off, small enough that a
#: chunk of Python lists stays a few tens of megabytes.
CHUNK_ROWS = 100_000


@dataclass
class Source:
    """A file to import: its name and a way to (re)open its bytes."""

    name: str
    open: Callable[[], BinaryIO]

    @staticmethod
    def from_path(path: Path) -> Source:
        path = Path(path)
        return Source(path.name, lambda: open(path, "rb"))

    @staticmethod
    def from_bytes(data: bytes, name: str) -> Source:
        return Source(name, lambda: io.BytesIO(data))

    @property
    def format(self) -> str:
        suffix = Path(self.name).suffix.lower().lstrip(".")
        if suffix not in FORMATS:
            raise InputError([Issue("rule.file_format", field="file", value=self.name,
                                    params={"formats": ", ".join(f".{f}" for f in FORMATS)})])
        return suffix

    def scan(self) -> tuple[str, bool]:
        """SHA-256 of the bytes, and whether they are valid UTF-8 (one pass over the file)."""
        digest = hashlib.sha256()
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8 = True
        with self.open() as stream:
            while block := stream.read(_BLOCK):
                digest.update(block)
                if utf8:
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError:
                        utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
        return digest.hexdigest(), utf8


@dataclass
class Sheet:
    """The header and the data rows of one worksheet (or of a CSV file)."""

    name: str | None
    header: list[str]
    #: The rows after the header that are not blank, in chunks of at most
    #: :data:`CHUNK_ROWS`: (row numbers, rows of cells).
    chunks: Iterator[tuple[list[int], list[Sequence]]]

    @property
    def width(self) -> int:
        return len(self.header)


def open_sheets(source: Source, utf8: bool) -> tuple[list[Sheet], Callable[[], None]]:
    """The sheets of ``source`` and a function that closes the file."""
    if source.format == "csv":
        return _csv_sheets(source, "utf-8-sig" if utf8 else "gb18030")
    return _xlsx_sheets(source)


def _file_error(source: Source, exc: Exception) -> InputError:
    return InputError([Issue("rule.file_format", field="file", value=source.name,
                             params={"detail": f"{exc.__class__.__name__}: {exc}"})])


def _csv_sheets(source: Source, encoding: str):
    stream = source.open()
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        header = _header(next(reader, []))
    except (csv.Error, UnicodeDecodeError) as exc:
        text.close()
        raise _file_error(source, exc) from None

    def chunks() -> Iterator[tuple[list[int], list[Sequence]]]:
        try:
            yield from _chunked(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _file_error(source, exc) from None

    return [Sheet(None, header, chunks())], text.close


def _xlsx_sheets(source: Source):
    import openpyxl

    stream = source.open()
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        stream.close()
        raise _file_error(source, exc) from None
    sheets = []
    for ws in book.worksheets:
        it = ws.iter_rows(values_only=True)
        header = _header(next(it, ()))
        sheets.append(Sheet(ws.title, header, _chunked(it, _xlsx_filled)))

    def close() -> None:
        book.close()
        stream.close()

    return sheets, close


def _chunked(rows, filled: Callable[[Sequence], bool] | None
             ) -> Iterator[tuple[list[int], list[Sequence]]]:
    """Rows after the header in chunks, numbered as a spreadsheet shows them (the header is
    row 1); blank rows — an empty line, or Excel's ",,," — are skipped but keep their number.
    ``filled`` tells a row with data; None: rows of text cells (CSV), tested inline for speed."""
    number = 1
    while batch := list(islice(rows, CHUNK_ROWS)):
        if filled is None:
            keep = [i for i, cells in enumerate(batch) if "".join(cells).strip()]
        else:
            keep = [i for i, cells in enumerate(batch) if filled(cells)]
        if len(keep) == len(batch):
            numbers = list(range(number + 1, number + 1 + len(batch)))
            kept = batch
        else:
            numbers = [number + 1 + i for i in keep]
            kept = [batch[i] for i in keep]
        number += len(batch)
        if kept:
            yield numbers, kept


def _xlsx_filled(values) -> bool:
    return any(v is not None and not (isinstance(v, str) and not v.strip()) for v in values)


def _header(cells) -> list[str]:
    """Header texts with trailing empty cells removed (spreadsheets pad rows)."""
    out = [text(c) for c in cells]
    while out and not out[-1]:
        out.pop()
    return out
