"""A file can fail but never take the server or the CLI down (issue 9 §2, docs/uploads.md).

Hostile workbooks are made here, in tmp_path: a cell at XFD1048576 under a declared range A1:XFD1048576
(and the same without the declaration, which only the worker's memory limit stops), a zip bomb that
inflates to hundreds of MB, one enormous cell as a shared and as an inline string, a shared string longer
than Excel allows. Each is refused with its reason within seconds, and `kpi import` (run as a subprocess)
exits 1 with the Chinese message while neither it nor its worker passes 1 GB resident. Honest files give
the same result through the worker as in-process.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from metrics.cli.main import main
from metrics.ingest import parse_bytes, parse_file
from metrics.ingest.guard import MAX_UPLOAD_MB, REFUSED_ZH, GuardLimits, check_size, check_upload, check_xlsx
from metrics.ingest.load import import_file
from metrics.ingest.worker import WorkerLimits, parse_isolated, run_isolated
from metrics.storage import clock
from metrics.storage.store import Store
from tests.bench.run import write_placements_xlsx
from tests.support import HEADER_ROW, SHEET_OPEN, far_cell, giant_cell, long_shared_string, workbook, zip_bomb

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 21)
GB_KB = 1024 * 1024  # ru_maxrss is in kilobytes
FAST = 10.0  # seconds: every refusal below comes at least this fast


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hostile")
    return {
        "far_cell": far_cell(d / "placements_far.xlsx", dimension=True),
        "far_cell_no_dimension": far_cell(d / "placements_far_nodim.xlsx", dimension=False),
        "zip_bomb": zip_bomb(d / "placements_bomb.xlsx"),
        "giant_shared_cell": giant_cell(d / "placements_giant_shared.xlsx", inline=False),
        "giant_inline_cell": giant_cell(d / "placements_giant_inline.xlsx", inline=True),
        "long_shared_string": long_shared_string(d / "placements_long_string.xlsx"),
    }


# each hostile file: the reason its refusal gives
REASONS = {
    "far_cell": "声明的工作表范围 A1:XFD1048576 超过上限",
    "far_cell_no_dimension": "解析时内存超过上限",
    "zip_bomb": "压缩比",
    "giant_shared_cell": "压缩比",
    "giant_inline_cell": "压缩比",
    "long_shared_string": "超出 Excel 单元格上限 32,767 个字符",
}


# --------------------------------------------------------------------------- refusals


def test_the_hostile_files_are_small(hostile: dict[str, Path]) -> None:
    sizes = {name: path.stat().st_size for name, path in hostile.items()}
    assert sizes["far_cell"] < 2_000 and sizes["far_cell_no_dimension"] < 2_000, sizes
    assert all(size < 1_000_000 for size in sizes.values()), sizes
    with zipfile.ZipFile(hostile["zip_bomb"]) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size > 400_000_000


@pytest.mark.parametrize("name", list(REASONS))
def test_each_hostile_file_is_refused_with_its_reason_in_seconds(hostile: dict[str, Path], name: str) -> None:
    t0 = time.monotonic()
    parsed, stats = run_isolated(hostile[name], hostile[name].name)
    elapsed = time.monotonic() - t0
    assert elapsed < FAST, (name, elapsed)
    [error] = parsed.errors
    assert error.row is None and error.column is None and parsed.table is None
    assert error.message_zh.startswith(REFUSED_ZH), error.message_zh
    assert REASONS[name] in error.message_zh, error.message_zh
    assert error.message_en.startswith("File too large or malformed, refused: "), error.message_en
    assert parsed.record_type == "placements" and len(parsed.sha256) == 64
    expected = "memory" if name == "far_cell_no_dimension" else "refused"
    assert stats.outcome == expected, stats


def test_the_guard_alone_names_the_far_corner_and_the_limits(hostile: dict[str, Path]) -> None:
    refusal = check_xlsx(hostile["far_cell"])
    assert refusal is not None
    assert refusal.message_zh == (
        "文件过大或结构异常，已拒绝：声明的工作表范围 A1:XFD1048576 超过上限：16,384 列 × 1,048,576 行，"
        "最多允许 1,024 列、30,000,000 个单元格（xl/worksheets/sheet1.xml）"
    )
    assert "A1:XFD1048576" in refusal.message_en
    assert check_xlsx(hostile["far_cell_no_dimension"]) is None  # nothing declared: the worker's limit stops it


def test_a_worker_that_runs_out_of_memory_says_so_and_the_next_parse_works(
    hostile: dict[str, Path], tmp_path: Path
) -> None:
    parsed = parse_isolated(hostile["far_cell_no_dimension"], "placements.xlsx", limits=WorkerLimits(memory_mb=1024))
    [error] = parsed.errors
    assert error.message_zh == "文件过大或结构异常，已拒绝：解析时内存超过上限 1,024 MB"
    assert "memory allocation of 549755813888 bytes failed" in error.message_en  # the reader's own words
    with clock.pinned(AS_OF):
        honest = parse_isolated(write_placements_xlsx(tmp_path / "placements.xlsx", 50), "placements.xlsx")
    assert honest.ok and honest.table is not None and honest.table.num_rows == 50


def test_a_directory_that_understates_a_part_is_refused_while_streaming(tmp_path: Path) -> None:
    path = long_shared_string(tmp_path / "placements.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/sharedStrings.xml")
    declared = 1000
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(info.filename)] != info.filename.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    for offset in (info.header_offset + 22, central + 24):  # uncompressed size, local header and directory
        data[offset : offset + 4] = declared.to_bytes(4, "little")
    refusal = check_upload(bytes(data), "placements.xlsx")
    assert refusal is not None
    assert refusal.reason_zh == "部件 xl/sharedStrings.xml 解压后超过压缩包目录声明的 1,000 字节"


def test_parts_sheets_and_total_size_have_limits(tmp_path: Path) -> None:
    path = write_placements_xlsx(tmp_path / "placements.xlsx", 20)
    assert check_xlsx(path) is None
    refusal = check_xlsx(path, GuardLimits(max_parts=5))
    assert refusal is not None and refusal.reason_zh.startswith("压缩包中有 ") and "超过上限 5 个" in refusal.reason_zh
    refusal = check_xlsx(path, GuardLimits(max_sheets=0))
    assert refusal is not None and refusal.reason_zh == "工作簿有 1 个工作表，超过上限 0 个"
    refusal = check_xlsx(path, GuardLimits(max_expanded_mb=0))
    assert refusal is not None and "超过上限 0 MB" in refusal.reason_zh
    refusal = check_size(51 * 1024 * 1024)
    assert refusal is not None and refusal.reason_zh == "文件大小 51.0 MB，超过上限 50 MB"


def test_honest_repetitive_sheets_pass_the_guard(tmp_path: Path) -> None:
    """The most repetitive honest sheets measured (docs/uploads.md) stay far below the ratio limit."""
    rows = b"".join(b'<row r="%d" spans="1:20" s="1" customFormat="1"/>' % i for i in range(3, 200_000))
    path = workbook(
        tmp_path / "placements.xlsx", [SHEET_OPEN, b"<sheetData>", HEADER_ROW, rows, b"</sheetData></worksheet>"]
    )
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    assert 20 < info.file_size / info.compress_size < 100
    assert check_xlsx(path) is None


# --------------------------------------------------------------------------- the CLI, as a subprocess

CLI = """
import json, resource, sys, time
from metrics.cli.main import main
from metrics.ingest import worker
t0 = time.monotonic()
try:
    main(sys.argv[1:], prog_name="kpi")
    code = 0
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
seconds = time.monotonic() - t0
worker.shutdown()  # reap the fork server, so its workers' peak counts in RUSAGE_CHILDREN
usage = {"code": code, "seconds": seconds}
# This process's own peak (VmHWM: its address space since exec). Not RUSAGE_SELF's ru_maxrss, which Linux carries
# over from the parent's resident size at fork: under a pytest process grown past 1 GB it read 1,054,204 kB in CI.
usage["self_kb"] = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:"))
usage["children_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("USAGE " + json.dumps(usage))
"""


def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[dict[str, float], str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("USAGE ")]
    assert line, proc.stdout + proc.stderr
    return json.loads(line[-1][6:]), proc.stdout, proc.stderr


@pytest.mark.parametrize("name", list(REASONS))
def test_kpi_import_refuses_each_hostile_file_fast_and_small(
    hostile: dict[str, Path], tmp_path: Path, name: str
) -> None:
    usage, _, err = run_cli("import", "--db", str(tmp_path / "k.duckdb"), str(hostile[name]))
    assert usage["code"] == 1, err
    assert usage["seconds"] < FAST, usage
    assert f"整个文件：{REFUSED_ZH}" in err and REASONS[name] in err, err
    assert "Traceback" not in err and "memory allocation" not in err.split("/ File too large")[0], err
    assert usage["self_kb"] < GB_KB and usage["children_kb"] < GB_KB, usage  # the CLI and its worker
    with Store.open(tmp_path / "k.duckdb", read_only=True) as store:
        assert store.count("placements") == 0


def test_the_worker_is_counted_in_the_measurement(tmp_path: Path) -> None:
    """The measurement above would see a worker's memory: for an honest import, RUSAGE_CHILDREN reaches the
    worker's own peak (which the worker reports when it finishes normally)."""
    with clock.pinned(AS_OF):
        path = write_placements_xlsx(tmp_path / "placements.xlsx", 20_000)
        _, stats = run_isolated(path, path.name)
    assert stats.outcome == "ok" and stats.peak_rss_mb is not None
    usage, out, err = run_cli("import", "--db", str(tmp_path / "k.duckdb"), str(path))
    assert usage["code"] == 0, err
    assert "新增 20000" in out
    assert usage["children_kb"] > 0.8 * stats.peak_rss_mb * 1024, (usage, stats)


def test_kpi_import_max_size_refuses_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "placements.csv"
    path.write_bytes(b"x" * 300_000)
    r = CliRunner().invoke(main, ["import", "--db", str(tmp_path / "k.duckdb"), "--max-size", "0.25", str(path)])
    assert r.exit_code == 1
    assert "整个文件：文件过大或结构异常，已拒绝：文件大小 0.3 MB，超过上限 0.25 MB" in r.output
    help_text = CliRunner().invoke(main, ["import", "--help"]).output
    assert "--max-size" in help_text and f"default: {MAX_UPLOAD_MB}" in help_text.replace("\n", " ")


def test_the_app_and_the_cli_share_one_upload_limit() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    page = (ROOT / "dashboard" / "views" / "uploads.py").read_text(encoding="utf-8")
    assert "max_upload_size=MAX_UPLOAD_MB" in page and "parse_isolated(" in page


def test_limits_come_from_the_environment(tmp_path: Path) -> None:
    limits = WorkerLimits.from_env(
        {"KPI_IMPORT_MAX_MEMORY_MB": "2048", "KPI_IMPORT_MAX_SECONDS": "60", "KPI_IMPORT_MAX_CPU_SECONDS": "30"}
    )
    assert (limits.memory_mb, limits.seconds, limits.cpu_seconds) == (2048, 60.0, 30)
    assert WorkerLimits.from_env({}) == WorkerLimits()
    with pytest.raises(ValueError, match="KPI_IMPORT_MAX_MEMORY_MB"):
        WorkerLimits.from_env({"KPI_IMPORT_MAX_MEMORY_MB": "lots"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.memory_mb = 1  # type: ignore[misc]
    path = tmp_path / "placements.csv"
    path.write_text("x\n", encoding="utf-8")
    r = CliRunner().invoke(
        main, ["import", "--db", str(tmp_path / "k.duckdb"), str(path)], env={"KPI_IMPORT_MAX_SECONDS": "-1"}
    )
    assert r.exit_code == 1 and "KPI_IMPORT_MAX_SECONDS must be positive" in r.output


def test_start_warms_the_fork_server_and_checks_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard calls worker.start() at launch: a bad setting is said then, and a started server serves."""
    from metrics.ingest import worker

    monkeypatch.setenv("KPI_IMPORT_MAX_CPU_SECONDS", "zero")
    with pytest.raises(ValueError, match="KPI_IMPORT_MAX_CPU_SECONDS must be a number"):
        worker.start()
    monkeypatch.delenv("KPI_IMPORT_MAX_CPU_SECONDS")
    worker.start()
    parsed, stats = run_isolated(b"\xef\xbb\xbfx\n1\n", "placements.csv")
    assert stats.outcome == "ok" and not parsed.ok and "缺少必填列" in parsed.errors[0].message_zh


# --------------------------------------------------------------------------- time and CPU limits, clean-up


def _children_of(pid: int) -> list[str]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(f"{stat.parent.name}:{fields[0]}")
    return found


def long_csv(rows: int = 200_000) -> bytes:
    """An honest vacancies CSV that takes about 3 s of CPU to validate (12 MB)."""
    head = "岗位信息编号,所属区,统一社会信用代码,采集日期,所属行业,岗位数量"
    body = "\n".join(f"V{i},通州区,91110112MA0000000{i % 10},2026-03-01,制造业,{i % 50 + 1}" for i in range(rows))
    return f"{head}\n{body}".encode()


def test_wall_time_and_cpu_limits_stop_a_long_parse_and_leave_no_process() -> None:
    from multiprocessing import forkserver

    data = long_csv()
    t0 = time.monotonic()
    parsed, stats = run_isolated(data, "vacancies.csv", limits=WorkerLimits(seconds=0.5))
    assert time.monotonic() - t0 < 5
    assert stats.outcome == "timeout" and parsed.errors[0].message_zh == f"{REFUSED_ZH}解析超过 0.5 秒"
    assert parsed.record_type == "vacancies" and parsed.table is None
    parsed, stats = run_isolated(data, "vacancies.csv", limits=WorkerLimits(cpu_seconds=1))
    assert stats.outcome == "cpu" and parsed.errors[0].message_zh == f"{REFUSED_ZH}解析占用 CPU 超过 1 秒"
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert server is not None and _children_of(server) == []  # every worker reaped, none left running


def test_the_fork_server_is_warm_and_single_threaded() -> None:
    from multiprocessing import forkserver

    parse_isolated(b"-", "placements.csv")
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    threads = [
        (Path(f"/proc/{server}/task") / t / "comm").read_text().strip() for t in os.listdir(f"/proc/{server}/task")
    ]
    assert threads == ["python"], threads  # no BLAS pool, no jemalloc background thread: safe to fork
    cmdline = Path(f"/proc/{server}/cmdline").read_bytes().decode()
    assert "metrics.upload_server" in cmdline and "__main__" not in cmdline


def test_a_progress_callback_that_raises_still_kills_the_worker() -> None:
    """The page's progress bar raises when the user leaves mid-parse (Streamlit stops the script)."""
    from multiprocessing import forkserver

    def leave(done: int, total: int) -> None:
        raise KeyboardInterrupt

    t0 = time.monotonic()
    with clock.pinned(AS_OF), pytest.raises(KeyboardInterrupt):
        parse_isolated(long_csv(), "vacancies.csv", progress=leave)
    assert time.monotonic() - t0 < 3  # not waiting for the parse to finish
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert _children_of(server) == []


# --------------------------------------------------------------------------- honest files


def test_an_honest_workbook_gives_the_same_result_through_the_worker(tmp_path: Path) -> None:
    with clock.pinned(AS_OF):
        path = write_placements_xlsx(tmp_path / "placements_2026-11.xlsx", 3_000)
        seen: list[tuple[int, int]] = []
        isolated = parse_isolated(path, path.name, progress=lambda d, t: seen.append((d, t)))
        direct = parse_file(path)
    assert isolated.ok and direct.ok
    assert isolated.table is not None and direct.table is not None
    assert isolated.table.schema == direct.table.schema and isolated.table.equals(direct.table)
    for f in dataclasses.fields(direct):
        if f.name != "table":
            assert getattr(isolated, f.name) == getattr(direct, f.name), f.name
    assert seen and seen[-1] == (3_000, 3_000)  # progress came through the pipe


def test_errors_and_the_upload_day_come_from_the_parents_clock(tmp_path: Path) -> None:
    """A placement dated after the upload day is refused; the worker reads the day from the parent's
    pinned clock, and its errors are the in-process ones."""
    head = ["就业记录编号", "人员编号", "所属区", "街道（乡镇）", "就业日期", "统一社会信用代码", "用人单位名称"]
    head += ["就业渠道", "人员类别", "是否本地人员", "是否本市户籍", "是否签订劳动合同", "是否参保"]
    row = ["P1", "R1", "通州区", "永顺镇", "2026-06-20", "91110112MA01ABCD1X", "某公司"]
    row += ["市场化就业", "城镇登记失业人员", "是", "是", "是", "是"]
    path = tmp_path / "placements.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([head, row, [*row[:1], "R2", *row[2:4], "2026-13-01", *row[5:]]])
    data = path.read_bytes()
    for day, expect_late in ((dt.date(2026, 6, 15), True), (dt.date(2026, 7, 1), False)):
        with clock.pinned(day):
            isolated = parse_isolated(data, "placements.csv")
            direct = parse_bytes(data, "placements.csv")
        assert isolated.errors == direct.errors and isolated.errors
        late = any(e.row == 2 and e.value == "2026-06-20" for e in isolated.errors)
        assert late == expect_late, isolated.errors


def test_import_file_uses_the_worker_and_writes_as_before(tiny_duck: Store, tmp_path: Path) -> None:
    with clock.pinned(AS_OF):
        path = write_placements_xlsx(tmp_path / "placements.xlsx", 500)
        report = import_file(tiny_duck, path, user="u")
    assert report.ok and report.new == 500
    refused = import_file(tiny_duck, far_cell(tmp_path / "placements_far.xlsx", dimension=True), user="u")
    assert not refused.ok and refused.errors[0].message_zh.startswith(REFUSED_ZH)
    assert tiny_duck.count("placements") == 500


def test_a_csv_gets_the_size_limit_and_a_giant_field_is_reported_cleanly(tmp_path: Path) -> None:
    big = (
        b"\xe5\xb0\xb1\xe4\xb8\x9a\xe8\xae\xb0\xe5\xbd\x95\xe7\xbc\x96\xe5\x8f\xb7,x\n"
        + b'"'
        + b"y" * 200_000
        + b'",1\n'
    )
    parsed = parse_isolated(big, "placements.csv")
    [error] = parsed.errors
    assert error.row is None
    assert error.message_zh == f"{REFUSED_ZH}CSV 文件中有一个单元格超过 131,072 个字符"
    assert parse_bytes(big, "placements.csv").errors == [error]  # the same in-process
    refused = parse_isolated(big, "placements.csv", limits=WorkerLimits(guard=GuardLimits(max_file_mb=0.1)))
    assert refused.errors[0].message_zh == f"{REFUSED_ZH}文件大小 0.2 MB，超过上限 0.1 MB"
    assert check_upload(big, "placements.csv") is None  # a CSV is not a zip: size only


def test_uploads_from_several_threads_at_once_each_get_their_own_worker(hostile: dict[str, Path]) -> None:
    """The dashboard parses in its script threads: concurrent uploads, one of them hostile, do not mix."""
    from concurrent.futures import ThreadPoolExecutor

    good = "\n".join(
        [
            "岗位信息编号,所属区,统一社会信用代码,采集日期,所属行业,岗位数量",
            *[f"V{i},通州区,91110112MA0000000{i},2026-03-01,制造业,{i + 1}" for i in range(4)],
        ]
    )
    jobs = [(good.encode(), f"vacancies_{i}.csv") for i in range(4)] + [
        (hostile["far_cell"].read_bytes(), "placements_far.xlsx")
    ]
    with clock.pinned(AS_OF), ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(lambda job: parse_isolated(*job), jobs))
    for parsed, (_, name) in zip(results[:4], jobs[:4], strict=True):
        assert parsed.ok and parsed.file == name and parsed.table is not None and parsed.table.num_rows == 4
    assert results[4].errors[0].message_zh.startswith(REFUSED_ZH)


def test_an_unreadable_path_is_an_error_not_an_exception(tmp_path: Path) -> None:
    parsed = parse_isolated(tmp_path / "placements_missing.xlsx", "placements_missing.xlsx")
    assert parsed.errors[0].message_zh.startswith("文件不存在：")
    assert parsed.errors[0].row is None and parsed.record_type == "placements"
