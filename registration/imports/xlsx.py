"""Bulk import from a spreadsheet (XLSX): the first sheet, read as the CSV format's rows.

The sheet is streamed (openpyxl's read-only mode), so a large file keeps memory flat.
Cells become the text a person would have typed: dates as YYYY-MM-DD, whole numbers
without a decimal point (document numbers are often typed as numbers), empty cells as "".
Lines are the sheet's row numbers, the header being row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from openpyxl import load_workbook

from ocv.errors import ValidationError
from registration.imports.rows import read_header

MAGIC = b"PK\x03\x04"  # a ZIP archive, which an XLSX file is


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_rows(stream: BinaryIO) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]], int]:
    """The header, each non-blank row with its row number, and the sheet's row count as its
    dimensions declare it (0 if they don't)."""
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ValidationError(f"The file is not a readable XLSX workbook ({error}).") from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [cell_text(value) for value in next(rows, ())]
    while header and not header[-1].strip():
        header.pop()  # formatting can stretch the sheet beyond its data
    if not any(cell.strip() for cell in header):
        workbook.close()
        raise ValidationError("The sheet is empty.", {"header": ["Row 1 must name the columns."]})
    columns = read_header(header)
    width = len(header)

    def records() -> Iterator[tuple[int, list[str]]]:
        try:
            for line, row in enumerate(rows, 2):
                values = [cell_text(value) for value in row]
                if any(value.strip() for value in values):
                    extra = values[width:]
                    yield line, values[:width] if not any(v.strip() for v in extra) else values
        finally:
            workbook.close()

    return columns, records(), max((sheet.max_row or 1) - 1, 0)
