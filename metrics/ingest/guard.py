"""Cheap structural checks of an upload before any parser touches it (docs/uploads.md).

An XLSX is a zip of XML parts, and a small file can describe an enormous workbook: a declared sheet range
of A1:XFD1048576, a part that inflates a thousandfold, one cell of a gigabyte. The reader (python-calamine)
builds a dense grid of cells, so such a file costs memory in proportion to what it claims, not to its size.
These checks read only the zip's central directory, the first few kilobytes of each worksheet and the
shared strings (streamed in chunks, never whole), and refuse what no honest ledger looks like. Each refusal
says why, in Chinese and English. They run inside the isolated worker (metrics.ingest.worker) and can be
used on their own:

>>> refusal = check_upload(data, "placements.xlsx")
>>> refusal.message_zh if refusal else "ok"   # 文件过大或结构异常，已拒绝：声明的工作表范围 A1:XFD1048576 …

The numbers are set from measured honest files (docs/uploads.md): a 50 MB placements workbook inflates to
440 MB of XML at a ratio of 9; the most repetitive sheet we could make honestly (every row the same, or a
million formatted empty rows) reaches 28.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from metrics.contract import limits
from metrics.ingest.guard_xls import OLE_MAGIC, xls_shape

__all__ = [
    "MAX_UPLOAD_MB",
    "REFUSED_EN",
    "REFUSED_ZH",
    "GuardLimits",
    "Refusal",
    "check_size",
    "check_upload",
    "check_xls",
    "check_xlsx",
]

MAX_UPLOAD_MB = (
    limits.MAX_UPLOAD_MB
)  # the app's upload limit (.streamlit/config.toml maxUploadSize), kpi import --max-size
REFUSED_ZH = "文件过大或结构异常，已拒绝："
REFUSED_EN = "File too large or malformed, refused: "
EXCEL_CELL_CHARS = 32_767  # Excel's own limit on the text of one cell
XML_BYTES_PER_CHAR = 6  # the most one character can take in the XML (&quot;), so no honest cell exceeds 6 × 32,767
_MIB = 1 << 20
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = _MIB


@dataclass(frozen=True)
class GuardLimits:
    """What an upload may be. Defaults fit an honest 50 MB workbook with room to spare (docs/uploads.md)."""

    max_file_mb: float = MAX_UPLOAD_MB  # the file itself
    max_parts: int = 1_000  # zip entries; Excel writes about ten, a workbook with charts and images a few hundred
    max_expanded_mb: int = 2_048  # all parts inflated together; an honest 50 MB file is 440 MB
    max_ratio: float = 100.0  # inflated ÷ compressed size of one part; honest sheets reach 28
    ratio_floor_mb: float = 1.0  # parts smaller than this when inflated are not ratio-checked
    max_sheets: int = 100
    max_columns: int = 1_024  # declared range; no record type has more than 25 columns
    max_cells: int = 30_000_000  # declared rows × columns from A1 (a .xls: all sheets together); an honest 50 MB file has about 10 million
    max_cell_chars: int = EXCEL_CELL_CHARS
    head_kb: int = 64  # how far into a worksheet to look for its <dimension>

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * _MIB)


@dataclass(frozen=True)
class Refusal:
    """Why a file is refused, in Chinese and English, without the common prefix."""

    reason_zh: str
    reason_en: str

    @property
    def message_zh(self) -> str:
        return REFUSED_ZH + self.reason_zh

    @property
    def message_en(self) -> str:
        return REFUSED_EN + self.reason_en


def _mb(n: float) -> str:
    return f"{n / _MIB:,.1f} MB"


def check_size(size: int, limits: GuardLimits | None = None) -> Refusal | None:
    """Refuse a file bigger than the upload limit (before reading it)."""
    limits = limits or GuardLimits()
    if size <= limits.max_file_bytes:
        return None
    return Refusal(
        f"文件大小 {_mb(size)}，超过上限 {limits.max_file_mb:g} MB",
        f"the file is {_mb(size)}, over the {limits.max_file_mb:g} MB limit",
    )


def check_upload(data: bytes, file_name: str, limits: GuardLimits | None = None) -> Refusal | None:
    """The size limit for any upload, the workbook checks for anything that is a zip, and the .xls checks for
    anything that is an OLE compound file (whatever its name).

    A CSV gets the size limit only: the csv module already refuses a field longer than 131,072 characters.
    """
    limits = limits or GuardLimits()
    refusal = check_size(len(data), limits)
    if refusal is None and data.startswith(_ZIP_MAGIC):
        refusal = check_xlsx(data, limits)
    if refusal is None and data.startswith(OLE_MAGIC):
        refusal = check_xls(data, limits)
    return refusal


def check_xls(data: bytes, limits: GuardLimits | None = None) -> Refusal | None:
    """Check a legacy .xls: its sheet count, and the cells of all its sheets together, since the reader holds
    every sheet from A1 to its farthest cell as soon as it opens the file (metrics.ingest.guard_xls). None when
    nothing is wrong, or when it is no .xls the checks can follow (the reader then says what it is)."""
    limits = limits or GuardLimits()
    shape = xls_shape(data)
    if shape is None:
        return None
    if shape.sheets > limits.max_sheets:
        return Refusal(
            f"工作簿有 {shape.sheets:,} 个工作表，超过上限 {limits.max_sheets:,} 个",
            f"the workbook has {shape.sheets:,} worksheets, over the limit of {limits.max_sheets:,}",
        )
    if shape.cells > limits.max_cells:
        far = max(shape.extents, key=lambda e: e[0] * e[1])
        return Refusal(
            f"旧版 Excel 工作簿的 {len(shape.extents)} 个工作表共 {shape.cells:,} 个单元格（从 A1 算到最远的单元格，"
            f"最大的一个为 {far[1]:,} 列 × {far[0]:,} 行），超过上限 {limits.max_cells:,} 个",
            f"the {len(shape.extents)} sheets of the .xls workbook span {shape.cells:,} cells from A1 to their "
            f"farthest cells (the largest {far[1]:,} columns × {far[0]:,} rows), over the limit of {limits.max_cells:,}",
        )
    return None


# ---------------------------------------------------------------------------------------------------
# The workbook


class _Refused(Exception):
    def __init__(self, refusal: Refusal):
        super().__init__(refusal.reason_en)
        self.refusal = refusal


def check_xlsx(source: bytes | Path | BinaryIO, limits: GuardLimits | None = None) -> Refusal | None:
    """Check a workbook's structure; None when nothing is wrong, or when it is no zip at all (the reader
    then reports a damaged file in its own words)."""
    limits = limits or GuardLimits()
    if isinstance(source, Path):
        with source.open("rb") as fh:
            return check_xlsx(fh, limits)
    fp: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        _check(fp, limits)
    except _Refused as refused:
        return refused.refusal
    return None


def _check(fp: BinaryIO, limits: GuardLimits) -> None:
    declared = _declared_entries(fp)
    if declared is not None and declared > limits.max_parts:  # before zipfile reads a huge directory
        _refuse_parts(declared, limits)
    try:
        zf = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_parts:
            _refuse_parts(len(infos), limits)
        _check_directory(infos, limits)
        sheets = [i for i in infos if _is_worksheet(i.filename)]
        if len(sheets) > limits.max_sheets:
            raise _Refused(
                Refusal(
                    f"工作簿有 {len(sheets):,} 个工作表，超过上限 {limits.max_sheets:,} 个",
                    f"the workbook has {len(sheets):,} worksheets, over the limit of {limits.max_sheets:,}",
                )
            )
        for info in sheets:
            _check_dimension(fp, info, limits)
        for info in infos:
            if info.filename.lower().endswith("sharedstrings.xml"):
                _check_shared_strings(fp, info, limits)


def _refuse_parts(n: int, limits: GuardLimits) -> None:
    raise _Refused(
        Refusal(
            f"压缩包中有 {n:,} 个部件，超过上限 {limits.max_parts:,} 个",
            f"the workbook holds {n:,} parts, over the limit of {limits.max_parts:,}",
        )
    )


def _declared_entries(fp: BinaryIO) -> int | None:
    """The entry count in the end-of-central-directory record (None if absent or ZIP64)."""
    fp.seek(0, io.SEEK_END)
    size = fp.tell()
    start = max(0, size - (22 + 0xFFFF))
    fp.seek(start)
    tail = fp.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    (total,) = struct.unpack_from("<H", tail, at + 10)
    return None if total == 0xFFFF else int(total)


def _check_directory(infos: list[zipfile.ZipInfo], limits: GuardLimits) -> None:
    expanded = 0
    for info in infos:
        expanded += info.file_size
        if info.file_size > limits.ratio_floor_mb * _MIB:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise _Refused(
                    Refusal(
                        f"部件 {info.filename} 由 {_mb(info.compress_size)} 解压为 {_mb(info.file_size)}，"
                        f"压缩比 {ratio:,.0f} 倍，超过上限 {limits.max_ratio:g} 倍（疑似压缩炸弹）",
                        f"part {info.filename} inflates from {_mb(info.compress_size)} to {_mb(info.file_size)}, "
                        f"a ratio of {ratio:,.0f}, over the limit of {limits.max_ratio:g} (a zip bomb?)",
                    )
                )
    if expanded > limits.max_expanded_mb * _MIB:
        raise _Refused(
            Refusal(
                f"解压后共 {_mb(expanded)}，超过上限 {limits.max_expanded_mb:,} MB",
                f"the parts inflate to {_mb(expanded)} in all, over the {limits.max_expanded_mb:,} MB limit",
            )
        )


def _is_worksheet(name: str) -> bool:
    lower = name.lower()
    return "worksheets/" in lower and lower.endswith(".xml") and "/_rels/" not in lower


# ---------------------------------------------------------------------------------------------------
# Streaming a part: never more than the directory declares


def _stream(fp: BinaryIO, info: zipfile.ZipInfo, chunk: int = _CHUNK) -> Generator[bytes, None, None]:
    """The inflated bytes of one part in chunks of at most `chunk` bytes. Refuses the file as soon as more bytes come
    out than the central directory declared (the reader trusts that figure; so may the checks above)."""
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) < 30 or not header.startswith(_ZIP_MAGIC):
        raise _Refused(Refusal(f"部件 {info.filename} 的文件头损坏", f"the header of part {info.filename} is damaged"))
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    if info.compress_type == zipfile.ZIP_STORED:
        inflate = None
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    else:
        raise _Refused(
            Refusal(
                f"部件 {info.filename} 使用了不支持的压缩方式（{info.compress_type}）",
                f"part {info.filename} uses an unsupported compression method ({info.compress_type})",
            )
        )
    left, produced, pending = info.compress_size, 0, b""
    while True:
        if not pending and left > 0:
            pending = fp.read(min(chunk, left))
            left -= len(pending)
            if not pending:
                return  # truncated: the reader will say the file is damaged
        if inflate is None:
            out, pending = pending, b""
        else:
            out = inflate.decompress(pending, chunk)
            pending = inflate.unconsumed_tail
        produced += len(out)
        if produced > info.file_size:
            raise _Refused(
                Refusal(
                    f"部件 {info.filename} 解压后超过压缩包目录声明的 {info.file_size:,} 字节",
                    f"part {info.filename} inflates to more than the {info.file_size:,} bytes its directory "
                    "entry declares",
                )
            )
        if out:
            yield out
        elif not pending and (left <= 0 or (inflate is not None and inflate.eof)):
            return


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData\b")
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})?\$?(\d{1,7})?")


def _check_dimension(fp: BinaryIO, info: zipfile.ZipInfo, limits: GuardLimits) -> None:
    """The declared range of a worksheet, from at most the first `head_kb` KB of its XML."""
    head = b""
    chunks = _stream(fp, info, 16 * 1024)
    try:
        for piece in chunks:  # the dimension comes before the cells
            head += piece
            if _SHEET_DATA.search(head) or len(head) >= limits.head_kb * 1024:
                break
    finally:
        chunks.close()
    found = _DIMENSION.search(head)
    if not found:
        return
    ref = found.group(1).decode("ascii", "replace").strip()
    rows, cols = _extent(ref)
    if cols > limits.max_columns or rows * cols > limits.max_cells:
        raise _Refused(
            Refusal(
                f"声明的工作表范围 {ref} 超过上限：{cols:,} 列 × {rows:,} 行，最多允许 {limits.max_columns:,} 列、"
                f"{limits.max_cells:,} 个单元格（{info.filename}）",
                f"the declared sheet range {ref} is too large: {cols:,} columns × {rows:,} rows, at most "
                f"{limits.max_columns:,} columns and {limits.max_cells:,} cells are allowed ({info.filename})",
            )
        )


def _extent(ref: str) -> tuple[int, int]:
    """Rows and columns from A1 to the far corner of a range such as A1:XFD1048576 (what the reader allocates)."""
    rows = cols = 1
    for part in ref.split(":"):
        m = _CELL_REF.fullmatch(part.strip())
        if not m:
            continue
        letters, digits = m.groups()
        if letters:
            col = 0
            for ch in letters.upper():
                col = col * 26 + ord(ch) - 64
            cols = max(cols, col)
        if digits:
            rows = max(rows, int(digits))
    return rows, cols


def _check_shared_strings(fp: BinaryIO, info: zipfile.ZipInfo, limits: GuardLimits) -> None:
    """The longest text in the shared strings, streamed: the longest run of bytes without a '<' (text in XML
    cannot hold one). No honest cell is longer than Excel's limit times the widest escape."""
    limit = limits.max_cell_chars * XML_BYTES_PER_CHAR
    longest = carry = 0
    for piece in _stream(fp, info):
        marks = np.flatnonzero(np.frombuffer(piece, dtype=np.uint8) == 0x3C)
        if marks.size == 0:
            carry += len(piece)
            longest = max(longest, carry)
        else:
            inner = int(np.diff(marks).max()) - 1 if marks.size > 1 else 0
            longest = max(longest, carry + int(marks[0]), inner)
            carry = len(piece) - int(marks[-1]) - 1
        if longest > limit:
            raise _Refused(
                Refusal(
                    f"共享字符串中有一段文字至少 {longest:,} 字节，超出 Excel 单元格上限 {limits.max_cell_chars:,} 个字符",
                    f"a shared string runs to at least {longest:,} bytes, beyond Excel's limit of "
                    f"{limits.max_cell_chars:,} characters per cell",
                )
            )
