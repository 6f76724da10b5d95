"""Cheap structural checks of a legacy Excel (.xls) upload before python-calamine opens it (docs/uploads.md).

A .xls is a BIFF8 "Workbook" stream inside an OLE compound file. Unlike an .xlsx, calamine parses every sheet
of a .xls as soon as the workbook is opened, each into a dense grid from A1 to its farthest cell: a 5 KB file
with one cell at IV65536 on each of three sheets makes it hold 1.5 GB. So before the reader runs, these checks
walk the compound file's sector chains to the Workbook stream (never following a chain longer than the file
has sectors) and its BIFF records (only their 4-byte headers and the row and column of cell records), and
refuse a file whose sheets together would be more cells than GuardLimits.max_cells, or that has more sheets
than GuardLimits.max_sheets. A compound file without a Workbook stream (a password-protected .xlsx holds an
"EncryptedPackage" instead) or one these checks cannot follow is left to the reader, which says what it is.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["OLE_MAGIC", "XlsShape", "xls_shape"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
_BOF, _EOF, _BOUNDSHEET, _FILEPASS = 0x0809, 0x000A, 0x0085, 0x002F
# Cell records: each starts with the row (u16) and the column (u16) of its cell.
_CELLS = frozenset({0x0006, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E, 0x0201, 0x00D6, 0x0406})
_MULTI_CELLS = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first column … last column (u16) at the end
_GLOBALS = 0x0005  # the BOF type of the workbook globals substream


@dataclass(frozen=True)
class XlsShape:
    """What a .xls workbook would make the reader hold: its sheets and, per sheet, the rows × columns from A1."""

    sheets: int
    extents: tuple[tuple[int, int], ...]  # (rows, columns) from A1 to the farthest cell of each sheet
    encrypted: bool = False  # a FILEPASS record: the reader asks for the password, the cells are not read

    @property
    def cells(self) -> int:
        return sum(r * c for r, c in self.extents)


class _Unreadable(Exception):
    """The compound file cannot be followed; the reader will report it in its own words."""


def xls_shape(data: bytes) -> XlsShape | None:
    """The shape of a .xls held in `data`; None when it is no OLE file with a Workbook stream."""
    if not data.startswith(OLE_MAGIC):
        return None
    try:
        stream = _workbook_stream(data)
        return None if stream is None else _biff_shape(stream)
    except (_Unreadable, struct.error, IndexError):
        return None


# ---------------------------------------------------------------------------------------------------
# The compound file (MS-CFB): header, FAT, directory, mini stream


def _workbook_stream(data: bytes) -> bytes | None:
    if len(data) < 512:
        raise _Unreadable
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        raise _Unreadable
    size = 1 << shift
    n_sectors = max(0, (len(data) - size) // size)
    (n_fat, first_dir, _, cutoff, first_minifat, n_minifat, first_difat, n_difat) = struct.unpack_from(
        "<IIIIIIII", data, 0x2C
    )

    def sector(n: int) -> bytes:
        if n >= n_sectors:
            raise _Unreadable
        start = (n + 1) * size
        return data[start : start + size]

    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    difat, seen = first_difat, 0
    while difat not in (_FREE, _END_OF_CHAIN) and seen <= n_difat and seen < n_sectors:
        entries = struct.unpack(f"<{size // 4}I", sector(difat))
        fat_sectors.extend(entries[:-1])
        difat, seen = entries[-1], seen + 1
    fat_sectors = [s for s in fat_sectors[:n_fat] if s not in (_FREE, _END_OF_CHAIN)]
    fat: list[int] = []
    for s in fat_sectors:
        fat.extend(struct.unpack(f"<{size // 4}I", sector(s)))

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        out: list[int] = []
        while start not in (_FREE, _END_OF_CHAIN):
            if start >= len(table) or len(out) > limit:  # a cycle or a pointer out of the table
                raise _Unreadable
            out.append(start)
            start = table[start]
        return out

    directory = b"".join(sector(s) for s in chain(first_dir, fat, n_sectors))
    root_start = root_size = None
    for at in range(0, len(directory) - 127, 128):
        name_len, kind = struct.unpack_from("<HB", directory, at + 0x40)
        name = directory[at : at + max(0, min(name_len, 64) - 2)].decode("utf-16-le", "replace")
        start, length = struct.unpack_from("<IQ", directory, at + 0x74)
        if shift == 9:
            length &= 0xFFFFFFFF  # version 3 files keep only the low 32 bits
        if kind == 5:
            root_start, root_size = start, length
        elif kind == 2 and name in ("Workbook", "Book"):
            if length > len(data):
                raise _Unreadable
            if length >= cutoff:
                return b"".join(sector(s) for s in chain(start, fat, n_sectors))[:length]
            if root_start is None or root_size is None:
                raise _Unreadable
            mini_stream = b"".join(sector(s) for s in chain(root_start, fat, n_sectors))[:root_size]
            minifat: list[int] = []
            for s in chain(first_minifat, fat, n_minifat):
                minifat.extend(struct.unpack(f"<{size // 4}I", sector(s)))
            pieces = [mini_stream[m * 64 : m * 64 + 64] for m in chain(start, minifat, len(mini_stream) // 64)]
            return b"".join(pieces)[:length]
    return None


# ---------------------------------------------------------------------------------------------------
# The BIFF records of the Workbook stream


def _biff_shape(stream: bytes) -> XlsShape:
    sheets = 0
    extents: list[tuple[int, int]] = []
    rows = cols = 0
    in_sheet = False
    at, end = 0, len(stream) - 4
    unpack = struct.unpack_from
    while at <= end:
        kind, length = unpack("<HH", stream, at)
        body = at + 4
        if kind in _CELLS and length >= 4:
            r, c = unpack("<HH", stream, body)
            rows, cols = max(rows, r + 1), max(cols, c + 1)
        elif kind in _MULTI_CELLS and length >= 6:
            (r,) = unpack("<H", stream, body)
            (c,) = unpack("<H", stream, body + length - 2)
            rows, cols = max(rows, r + 1), max(cols, c + 1)
        elif kind == _BOF and length >= 4:
            (sub,) = unpack("<H", stream, body + 2)
            in_sheet, rows, cols = sub != _GLOBALS, 0, 0
        elif kind == _EOF:
            if in_sheet and rows and cols:
                extents.append((rows, cols))
            in_sheet = False
        elif kind == _BOUNDSHEET:
            sheets += 1
        elif kind == _FILEPASS:  # what follows is encrypted: the reader asks for the password
            return XlsShape(sheets, tuple(extents), encrypted=True)
        at = body + length
    return XlsShape(sheets, tuple(extents))
