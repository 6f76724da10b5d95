"""The lake folder (docs/spark.md "The lake folder"): every record table as Hive-partitioned Parquet with a
manifest, written by `kpi lake export` and read back by `kpi lake import`.

The folder is a contract with the Spark backend (metrics.lake.spark), which reads it with `spark.read.parquet`:
`<record>/district=<d>/year=<yyyy>/part-0.parquet`, the spec's columns with the table's types, partition values
escaped the way Spark escapes them, and `manifest.json` with the row counts, each file's SHA-256 and a content
hash of each table that does not depend on how its rows are split into files. Touches the store (one read
snapshot for an export, one transaction for an import) and the files of one folder; nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import duckdb

from metrics.contract.errors import KpiError
from metrics.contract.records import RECORD_TYPES, RecordType
from metrics.storage import changelog, clock
from metrics.storage.changelog import Action
from metrics.storage.store import Store, load_records

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DEFAULT_PARTITION",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "FileEntry",
    "ImportResult",
    "LakeError",
    "Manifest",
    "RecordEntry",
    "content_hash",
    "export_lake",
    "import_lake",
    "read_manifest",
    "year_column",
]

FORMAT = "employment-kpi-lake"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILE_NAME = "part-0.parquet"
DISTRICT = "district"
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # Spark's and DuckDB's folder for a NULL partition value
HASH_KIND = "md5-row-sum-v1"  # how content_hash is computed (docs/spark.md "Hashes")

# Characters Spark escapes in a partition value (ExternalCatalogUtils.escapePathName, non-Windows). Spark decodes
# every %XX as ONE character, so a percent-encoded UTF-8 name (what DuckDB writes: %E9%80%9A… for 通) comes back
# as mojibake; Chinese names are therefore written as they are and only these characters are escaped.
_SPARK_ESCAPED = frozenset(chr(c) for c in range(1, 0x20)) | frozenset("\"#%'*/:=?\\\x7f{[]^")


class LakeError(KpiError, ValueError):
    """A lake folder that cannot be written or read back; the message names the file or record type."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the lake folder, with forward slashes
    rows: int
    sha256: str


@dataclass(frozen=True)
class RecordEntry:
    columns: dict[str, str]  # the spec's columns in order, with their DuckDB types
    rows: int
    partition_columns: dict[str, str]  # partition column → the type to read its folder values as
    date_column: str | None
    content_hash: str
    files: list[FileEntry]


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    data_version: int
    exported_at: str
    records: dict[str, RecordEntry]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    hash_kind: str = HASH_KIND

    def to_json(self) -> str:
        body = {
            "format": self.format,
            "format_version": self.format_version,
            "schema_version": self.schema_version,
            "data_version": self.data_version,
            "exported_at": self.exported_at,
            "hash_kind": self.hash_kind,
            "records": {name: asdict(entry) for name, entry in self.records.items()},
        }
        return json.dumps(body, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        body = json.loads(text)
        records = {
            name: RecordEntry(
                columns=dict(e["columns"]),
                rows=int(e["rows"]),
                partition_columns=dict(e["partition_columns"]),
                date_column=e["date_column"],
                content_hash=str(e["content_hash"]),
                files=[FileEntry(str(f["path"]), int(f["rows"]), str(f["sha256"])) for f in e["files"]],
            )
            for name, e in body["records"].items()
        }
        return cls(
            schema_version=int(body["schema_version"]),
            data_version=int(body["data_version"]),
            exported_at=str(body["exported_at"]),
            records=records,
            format=str(body["format"]),
            format_version=int(body["format_version"]),
            hash_kind=str(body.get("hash_kind", "")),
        )

    @property
    def total_rows(self) -> int:
        return sum(e.rows for e in self.records.values())


@dataclass(frozen=True)
class ImportResult:
    loaded: dict[str, int]  # rows loaded per record type
    deleted: dict[str, int] = field(default_factory=dict)  # rows replaced per record type (--replace)


# --------------------------------------------------------------------------- shared pieces


def year_column(rt: RecordType) -> str:
    """The year partition's column name: `year`, unless the record type has a column of that name."""
    name = "year"
    while name in rt.column_names:
        name = f"record_{name}"
    return name


def partition_columns(rt: RecordType) -> dict[str, str]:
    return {DISTRICT: "VARCHAR", year_column(rt): "INTEGER"}


def _row_text(rt: RecordType) -> str:
    """One row as text (docs/spark.md "Hashes"): each value 'v' || CAST(value AS VARCHAR), a NULL as '', joined
    by the unit separator U+001F, in the spec's column order. Column names come from the spec."""
    parts = [f"CASE WHEN {c} IS NULL THEN '' ELSE 'v' || CAST({c} AS VARCHAR) END" for c in rt.column_names]
    return f"concat_ws(chr(31), {', '.join(parts)})"


def content_hash(cur: duckdb.DuckDBPyConnection, rt: RecordType) -> tuple[int, str]:
    """(rows, hash) of a record table: the sums over rows of the two 64-bit halves of md5(row text), each modulo
    2^64, as 32 hex digits. A sum ignores row order and file layout and, unlike XOR, counts duplicate rows."""
    text = _row_text(rt)
    row = cur.execute(
        f"SELECT count(*), coalesce(sum(md5_number_upper({text})), 0) % 18446744073709551616::HUGEINT, "  # noqa: S608
        f"coalesce(sum(md5_number_lower({text})), 0) % 18446744073709551616::HUGEINT FROM {rt.name}"
    ).fetchall()[0]
    return int(row[0]), f"{int(row[1]):016x}{int(row[2]):016x}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _spark_escape(value: str) -> str:
    return "".join(f"%{ord(ch):02X}" if ch in _SPARK_ESCAPED else ch for ch in value)


def _selected(records: Iterable[str] | None) -> list[RecordType]:
    if records is None:
        return list(RECORD_TYPES.values())
    chosen = []
    for name in records:
        if name not in RECORD_TYPES:
            raise LakeError(
                f"未知的数据类型：{name}（可选：{', '.join(RECORD_TYPES)}）",
                f"unknown record type {name!r}; known: {', '.join(RECORD_TYPES)}",
            )
        chosen.append(RECORD_TYPES[name])
    return chosen


# --------------------------------------------------------------------------- export


def export_lake(
    store: Store, out_dir: Path | str, *, records: Iterable[str] | None = None, force: bool = False
) -> Manifest:
    """Write the record tables (all of them, or `records`) as a lake folder at `out_dir` and return its manifest.

    One read snapshot: every table, hash and version is read in one transaction of one cursor. The folder is
    written beside `out_dir` under a temporary name and renamed into place at the end, so a failure leaves no
    half folder. A non-empty `out_dir` is refused unless `force`, which replaces it.
    """
    out = Path(out_dir)
    chosen = _selected(records)
    if out.exists() and not out.is_dir():
        raise LakeError(f"输出位置不是文件夹：{out}", f"the output is not a folder: {out}")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise LakeError(
                f"输出文件夹不为空：{out}（如需覆盖请加 --force）",
                f"the output folder is not empty: {out} (use --force)",
            )
        _replaceable(out, store)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        manifest = _write(store, tmp, chosen)
        (tmp / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _write(store: Store, root: Path, chosen: list[RecordType]) -> Manifest:
    cur = store.cursor()
    cur.execute("BEGIN TRANSACTION")  # one snapshot for every table, hash and version read below
    try:
        schema_row = cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0]
        data_row = cur.execute("SELECT version FROM data_version").fetchall()[0]
        entries = {rt.name: _write_record(cur, root, rt) for rt in chosen}
    finally:
        cur.execute("ROLLBACK")  # nothing was written to the database
        cur.close()
    return Manifest(
        schema_version=int(schema_row[0]) if schema_row else 0,
        data_version=int(data_row[0]) if data_row else 0,
        exported_at=clock.now().replace(tzinfo=clock.TIMEZONE).isoformat(),
        records=entries,
    )


def _write_record(cur: duckdb.DuckDBPyConnection, root: Path, rt: RecordType) -> RecordEntry:
    import pyarrow.parquet as pq

    folder = root / rt.name
    folder.mkdir()
    year = year_column(rt)
    others = [c for c in rt.column_names if c != DISTRICT]
    year_sql = f"year({rt.date_column})" if rt.date_column else "NULL::INTEGER"
    select = f"SELECT {', '.join(others)}, {DISTRICT}, {year_sql} AS {year} FROM {rt.name}"  # noqa: S608 - spec names
    rows, digest = content_hash(cur, rt)
    if rows:
        # DuckDB writes the partition folders and drops district and year from the files (they are in the path)
        cur.execute(
            f"COPY ({select}) TO $dir (FORMAT parquet, PARTITION_BY ({DISTRICT}, {year}), "
            "FILENAME_PATTERN 'part-{i}')",
            {"dir": str(folder / "_copy")},
        )
        _respell_partitions(folder / "_copy", folder)
    files = []
    for path in sorted(folder.rglob("*.parquet")):
        files.append(FileEntry(path.relative_to(root).as_posix(), pq.read_metadata(path).num_rows, _sha256(path)))
    columns = {c.name: c.sql_type for c in rt.columns}
    return RecordEntry(columns, rows, partition_columns(rt), rt.date_column, digest, files)


def _respell_partitions(copied: Path, folder: Path) -> None:
    """Move DuckDB's `district=<percent-encoded UTF-8>` folders to Spark's spelling (the name as it is, with
    only Spark's special characters escaped), which DuckDB, pyarrow and Spark all decode to the same value."""
    for district_dir in sorted(copied.iterdir()):
        key, _, encoded = district_dir.name.partition("=")
        district_dir.rename(folder / f"{key}={_spark_escape(unquote(encoded, errors='strict'))}")
    copied.rmdir()


def _replaceable(out: Path, store: Store) -> None:
    """--force replaces an earlier lake folder and nothing else: the folder must hold a manifest of this format
    and only its record types' folders (plus hidden files), and must not hold the database being exported."""
    try:
        read_manifest(out)
    except LakeError:
        raise LakeError(
            f"--force 只能覆盖以前导出的数据湖文件夹，{out} 不是（没有有效的 manifest.json），未做任何改动",
            f"--force replaces only an earlier lake folder; {out} is not one (no valid manifest.json): nothing changed",
        ) from None
    strays = sorted(
        p.name
        for p in out.iterdir()
        if p.name != MANIFEST and p.name not in RECORD_TYPES and not p.name.startswith(".")
    )
    db = store.path.resolve() if store.path is not None else None
    if strays or (db is not None and db.is_relative_to(out.resolve())):
        what = ", ".join(strays) if strays else db.name if db is not None else ""
        raise LakeError(
            f"--force 不覆盖含有其他文件的文件夹：{out}（{what}），未做任何改动",
            f"--force does not replace a folder holding other files: {out} ({what}): nothing changed",
        )


def _move_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        tmp.rename(out)
        return
    if not any(out.iterdir()):
        out.rmdir()
        tmp.rename(out)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    out.rename(old)  # --force: the old folder goes only once the new one is in place
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- import


def read_manifest(lake_dir: Path | str) -> Manifest:
    """The folder's manifest, checked for a known format and version (not yet against its files)."""
    path = Path(lake_dir) / MANIFEST
    if not path.is_file():
        raise LakeError(f"数据湖文件夹缺少清单文件：{path}", f"no manifest in the lake folder: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LakeError(f"清单文件无法读取：{path}（{exc}）", f"unreadable manifest {path}: {exc}") from None
    return parse_manifest(text, str(path))


def parse_manifest(text: str, path: str) -> Manifest:
    """A manifest's text (read from disk, or by Spark from a URI), checked for a known format and version."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LakeError(f"清单文件无法读取：{path}（{exc}）", f"unreadable manifest {path}: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        found = body.get("format") if isinstance(body, dict) else None
        raise LakeError(
            f"不认识的数据湖格式：{found!r}（应为 {FORMAT}）", f"unknown lake format {found!r}; expected {FORMAT}"
        )
    if body.get("format_version") != FORMAT_VERSION:
        raise LakeError(
            f"不支持的数据湖格式版本：{body.get('format_version')!r}（本程序读取版本 {FORMAT_VERSION}）",
            f"unsupported lake format version {body.get('format_version')!r}; this program reads {FORMAT_VERSION}",
        )
    try:
        manifest = Manifest.from_json(json.dumps(body))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LakeError(f"清单文件内容不完整：{path}（{exc!r}）", f"incomplete manifest {path}: {exc!r}") from None
    if manifest.hash_kind != HASH_KIND:
        raise LakeError(
            f"不认识的内容哈希算法：{manifest.hash_kind!r}", f"unknown content hash kind {manifest.hash_kind!r}"
        )
    return manifest


def _check_files(root: Path, manifest: Manifest, schema_version: int) -> None:
    """Everything the manifest promises about the folder, before anything is read into the database."""
    if manifest.schema_version != schema_version:
        raise LakeError(
            f"数据库结构版本不一致：数据湖为 {manifest.schema_version}，目标数据库为 {schema_version}",
            f"schema version mismatch: the lake has {manifest.schema_version}, the database {schema_version}",
        )
    check_listed_files(root, manifest)


def check_listed_files(root: Path, manifest: Manifest) -> None:
    """The local folder holds exactly the manifest's files: each inside its record type's folder, with its
    SHA-256 and row count, and no other file Spark would read. Used by the import and by the Spark backend."""
    import pyarrow.parquet as pq

    listed: set[Path] = set()
    resolved_root = root.resolve()
    for name, entry in manifest.records.items():
        rt = RECORD_TYPES.get(name)
        if rt is None:
            raise LakeError(f"清单中有未知的数据类型：{name}", f"unknown record type in the manifest: {name}")
        expected = {c.name: c.sql_type for c in rt.columns}
        if entry.columns != expected:
            raise LakeError(
                f"{name}：清单中的列与数据库不一致", f"{name}: the manifest's columns differ from the database's"
            )
        if sum(f.rows for f in entry.files) != entry.rows:
            raise LakeError(
                f"{name}：各文件行数之和与清单中的行数 {entry.rows} 不符",
                f"{name}: the files' rows do not add up to the manifest's {entry.rows}",
            )
        for f in entry.files:
            path = (root / f.path).resolve()
            if not path.is_relative_to(resolved_root / name):
                raise LakeError(
                    f"{name}：清单中的文件不在该数据类型的文件夹内：{f.path}",
                    f"{name}: a listed file lies outside the record type's folder: {f.path}",
                )
            if not path.is_file():
                raise LakeError(f"文件缺失：{f.path}", f"missing file: {f.path}")
            if _sha256(path) != f.sha256:
                raise LakeError(
                    f"文件内容已改变（SHA-256 不符）：{f.path}", f"file changed (SHA-256 differs): {f.path}"
                )
            rows = pq.read_metadata(path).num_rows
            if rows != f.rows:
                raise LakeError(
                    f"文件行数 {rows} 与清单中的 {f.rows} 不符：{f.path}",
                    f"file has {rows} rows, the manifest {f.rows}: {f.path}",
                )
            listed.add(path)
    # Spark reads every file no part of whose path begins with '_' or '.'; such a file that is not listed is refused
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        hidden = any(part.startswith(("_", ".")) for part in parts)
        if path.is_file() and path != root / MANIFEST and not hidden and path.resolve() not in listed:
            rel = "/".join(parts)
            raise LakeError(f"清单中没有列出的文件：{rel}", f"file not listed in the manifest: {rel}")


def _read_record(cur: duckdb.DuckDBPyConnection, root: Path, name: str, entry: RecordEntry) -> pa.Table:
    """The record type's rows as the database's columns: district and the year from the folder names."""
    import pyarrow as pa

    rt = RECORD_TYPES[name]
    if not entry.files:
        return pa.table({c.name: pa.array([], type=_arrow_type(c.sql_type)) for c in rt.columns})
    year = year_column(rt)
    year_check = f"year({rt.date_column})" if rt.date_column else "NULL::INTEGER"
    source = (
        f"read_parquet($files, hive_partitioning = true, hive_types = {{'{DISTRICT}': 'VARCHAR', '{year}': 'INTEGER'}})"
    )
    mismatched = cur.execute(
        f"SELECT count(*) FROM {source} WHERE {year} IS DISTINCT FROM {year_check}",  # noqa: S608 - spec names
        {"files": [str(root / f.path) for f in entry.files]},
    ).fetchall()[0]
    if mismatched and mismatched[0]:
        raise LakeError(
            f"{name}：{mismatched[0]} 行的年份文件夹与 {rt.date_column} 的年份不符",
            f"{name}: {mismatched[0]} row(s) lie in a year folder other than their {rt.date_column}'s year",
        )
    casts = ", ".join(f"CAST({c.name} AS {c.sql_type}) AS {c.name}" for c in rt.columns)
    return cur.sql(
        f"SELECT {casts} FROM {source}",  # noqa: S608 - spec names
        params={"files": [str(root / f.path) for f in entry.files]},
    ).to_arrow_table()


def _arrow_type(sql_type: str) -> pa.DataType:
    import pyarrow as pa

    return {
        "VARCHAR": pa.string(),
        "DATE": pa.date32(),
        "BOOLEAN": pa.bool_(),
        "BIGINT": pa.int64(),
        "DOUBLE": pa.float64(),
        "DECIMAL(18,2)": pa.decimal128(18, 2),
    }[sql_type]


def import_lake(store: Store, lake_dir: Path | str, *, replace: bool = False, user: str = "cli:lake") -> ImportResult:
    """Load a lake folder's record types into `store` in ONE transaction, after checking the manifest against
    the files; the record tables must be empty unless `replace`, which deletes their rows in that transaction.
    Each table's content hash is compared with the manifest's before the commit; one change-log row per record
    type says who loaded how many rows from where."""
    root = Path(lake_dir)
    manifest = read_manifest(root)
    _check_files(root, manifest, store.schema_version())
    reader = store.cursor()
    try:
        tables = {name: _read_record(reader, root, name, entry) for name, entry in manifest.records.items()}
    finally:
        reader.close()
    for name, table in tables.items():
        if table.num_rows != manifest.records[name].rows:
            raise LakeError(
                f"{name}：读出 {table.num_rows} 行，清单为 {manifest.records[name].rows} 行",
                f"{name}: read {table.num_rows} rows, the manifest says {manifest.records[name].rows}",
            )
    deleted: dict[str, int] = {}
    with store.transaction() as cur:
        present = {name: _count(cur, name) for name in tables}
        occupied = {name: n for name, n in present.items() if n}
        if occupied and not replace:
            listing = "、".join(f"{RECORD_TYPES[n].title_zh}（{n}，{c} 行）" for n, c in occupied.items())
            raise LakeError(
                f"目标数据库中这些数据类型已有数据：{listing}；如需替换请加 --replace",
                f"the database already holds rows of: {', '.join(occupied)}; use --replace to replace them",
            )
        for name in occupied:
            cur.execute(f"DELETE FROM {name}")  # noqa: S608 - a record type's name from the spec
            deleted[name] = occupied[name]
        loaded: dict[str, int] = {}
        for name, table in tables.items():
            try:
                loaded.update(load_records(cur, {name: table}))
            except duckdb.Error as exc:  # a value the table refuses (NOT NULL, a cast): the whole import rolls back
                raise LakeError(
                    f"{name}：写入数据库失败（{exc}）", f"{name}: loading into the database failed: {exc}"
                ) from None
        Store.bump_data_version(cur)
        for name, entry in manifest.records.items():
            rows, digest = content_hash(cur, RECORD_TYPES[name])
            if (rows, digest) != (entry.rows, entry.content_hash):
                raise LakeError(
                    f"{name}：导入后的内容哈希与清单不符（{rows} 行，{digest}；清单 {entry.rows} 行，{entry.content_hash}）",
                    f"{name}: the content hash after loading differs from the manifest's "
                    f"({rows} rows, {digest}; manifest {entry.rows} rows, {entry.content_hash})",
                )
            changelog.record(
                cur,
                user,
                name,
                f"lake:{root.resolve().name}",
                Action.INSERT,
                {"rows": deleted[name]} if name in deleted else None,
                {"rows": rows, "content_hash": digest, "source": str(root.resolve())},
            )
    return ImportResult(loaded=loaded, deleted=deleted)


def _count(cur: duckdb.DuckDBPyConnection, name: str) -> int:
    row = cur.execute(f"SELECT count(*) FROM {name}").fetchall()[0]  # noqa: S608 - spec name
    return int(row[0]) if row else 0
