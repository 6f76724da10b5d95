"""Parse an upload in a separate worker process with hard limits, so a file can fail but never take the
dashboard or `kpi import` down with it (docs/uploads.md).

A hostile or broken workbook can make the reader ask for half a terabyte (a declared range of
A1:XFD1048576), inflate gigabytes of XML, or parse for minutes. In-process, that aborts the whole server.
Here each upload is read and validated in a child process forked from a warm fork server (the readers
already imported, single-threaded); the child first limits itself:

- address space (RLIMIT_AS) to its own starting size plus `memory_mb`. RLIMIT_AS counts virtual memory:
  importing pyarrow, python-calamine and pydantic maps 315 MB, the readers 465 MB, and the worker maps
  1.4 GB (pyarrow's allocator reserves a 1 GiB arena up front) while using under 200 MB of it, so the budget
  is baseline + allowance, never an absolute figure;
- CPU time (RLIMIT_CPU) to `cpu_seconds`;
- and the parent kills it after `seconds` of wall time.

Before any parser runs, the child applies the structural checks of metrics.ingest.guard. The parsed table
comes back as an Arrow IPC stream, the errors, warnings and row numbers as JSON (never a pickle: the child
has just parsed an untrusted file); progress is forwarded through the same pipe. The child reads the date from the parent's clock (metrics.storage.clock, pinned to the
parent's moment), so a test that pins the clock pins the worker too.

Whatever happens to the child (a refusal, MemoryError, an abort in the reader, a limit, a timeout), the
result is a ParsedFile; a dead worker gives one whole-file RowError whose message starts
"文件过大或结构异常，已拒绝：". Nothing here raises for a bad file, and the child is reaped on every path.

>>> parsed = parse_isolated(Path("placements_2026-10.xlsx"), "placements_2026-10.xlsx")
>>> parsed.ok, parsed.errors[:1]
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from metrics.ingest.guard import GuardLimits, Refusal, check_size, check_upload
from metrics.ingest.read import ParsedFile, detect_record_type, parse_bytes
from metrics.ingest.validate import RowError
from metrics.storage import clock

__all__ = [
    "PRELOAD",
    "WorkerLimits",
    "WorkerStats",
    "parse_isolated",
    "run_isolated",
    "shutdown",
    "start",
]

log = logging.getLogger(__name__)

# The fork server imports this module (and through it the readers) once; every worker forks from it.
PRELOAD = ["metrics.upload_server"]  # outside metrics.ingest: its __init__ would load pyarrow first
_MIB = 1 << 20
_EXIT_MEMORY = 75  # the child ran out of its address space in Python (MemoryError)
_EXIT_CRASH = 76  # the child raised something else; the parent got the traceback through the pipe
_EXIT_NO_PARENT = 77  # the parent went away mid-parse


@dataclass(frozen=True)
class WorkerLimits:
    """Hard limits of one parse. Defaults fit an honest 50 MB workbook with room to spare (docs/uploads.md:
    495,000 placements rows peak at 1.8 GB resident and 1.6 GB of address space above the worker's baseline
    of about 1.4 GB, and parse in 25–27 s).

    `memory_mb` is an allowance on top of the baseline, not a total: RLIMIT_AS counts virtual memory, and the
    worker maps about 1.4 GB before it reads a byte (pyarrow's allocator reserves a 1 GiB arena).

    Environment overrides (read by `from_env`, which is what callers get by default):
    KPI_IMPORT_MAX_MEMORY_MB, KPI_IMPORT_MAX_SECONDS, KPI_IMPORT_MAX_CPU_SECONDS.
    """

    memory_mb: int = 4_096  # address space above the worker's baseline (RLIMIT_AS = baseline + this)
    seconds: float = 180.0  # wall time, enforced by the parent
    cpu_seconds: int = 120  # CPU time (RLIMIT_CPU)
    guard: GuardLimits = field(default_factory=GuardLimits)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> WorkerLimits:
        """The defaults, with any KPI_IMPORT_MAX_* variables applied, then `overrides`."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, key, kind in (
            ("memory_mb", "KPI_IMPORT_MAX_MEMORY_MB", int),
            ("seconds", "KPI_IMPORT_MAX_SECONDS", float),
            ("cpu_seconds", "KPI_IMPORT_MAX_CPU_SECONDS", int),
        ):
            raw = env.get(key, "").strip()
            if raw:
                try:
                    value = kind(raw)
                except ValueError:
                    raise ValueError(f"{key} must be a number, not {raw!r}") from None
                if value <= 0:
                    raise ValueError(f"{key} must be positive, not {raw!r}")
                values[name] = value
        values.update(overrides)
        return cls(**values)


@dataclass
class WorkerStats:
    """How one isolated parse went (for the benchmark and the logs)."""

    outcome: str = "ok"  # ok, refused (by the guard), memory, cpu, timeout, crashed
    seconds: float = 0.0  # wall time in the parent, start to result
    baseline_mb: float | None = None  # the worker's address space when it started
    peak_vm_mb: float | None = None  # its largest address space (VmPeak), when it finished normally
    peak_rss_mb: float | None = None  # its largest resident set (VmHWM), when it finished normally
    exitcode: int | None = None


@dataclass(frozen=True)
class _Request:
    file_name: str
    record_type: str | None
    path: str | None  # read by the child; None: the bytes follow through the pipe
    moment: dt.datetime  # the parent's clock
    today: dt.date | None
    limits: WorkerLimits
    stderr_path: str


# ---------------------------------------------------------------------------------------------------
# The parent side


def parse_isolated(
    source: bytes | Path,
    file_name: str,
    record_type: str | None = None,
    *,
    limits: WorkerLimits | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
) -> ParsedFile:
    """Parse and validate one upload (bytes from the uploader, or a path) in a limited worker process.

    Same result as metrics.ingest.parse_bytes for any file the limits allow; a file they do not allow, or one
    that kills the worker, gives a ParsedFile with one whole-file error. Never raises for a bad file.
    """
    return run_isolated(source, file_name, record_type, limits=limits, progress=progress, today=today)[0]


def run_isolated(
    source: bytes | Path,
    file_name: str,
    record_type: str | None = None,
    *,
    limits: WorkerLimits | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
) -> tuple[ParsedFile, WorkerStats]:
    """parse_isolated, with how the worker went."""
    limits = limits or WorkerLimits.from_env()
    stats = WorkerStats()
    started = time.monotonic()
    rt_name = record_type or detect_record_type(file_name)
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
        except OSError as exc:
            reason = "文件不存在" if isinstance(exc, FileNotFoundError) else "无法读取文件"
            stats.outcome = "refused"
            return _error(file_name, "", rt_name, f"{reason}：{source}", f"Cannot read {source}: {exc.strerror}"), stats
        refusal = check_size(size, limits.guard)
        if refusal is not None:  # never read a file that is too big
            stats.outcome = "refused"
            return _refused(file_name, "", rt_name, refusal), stats
    fd, stderr_path = tempfile.mkstemp(prefix="kpi-worker-", suffix=".log")
    os.close(fd)
    request = _Request(
        file_name,
        record_type,
        str(source) if isinstance(source, Path) else None,
        clock.now(),
        today,
        limits,
        stderr_path,
    )
    try:
        parsed = _supervise(source, request, progress, stats)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(stderr_path)
    stats.seconds = time.monotonic() - started
    if stats.outcome not in ("ok", "refused"):
        log.info("upload worker for %s ended: %s (exit code %s)", file_name, stats.outcome, stats.exitcode)
    return parsed, stats


def _supervise(
    source: bytes | Path, request: _Request, progress: Callable[[int, int], None] | None, stats: WorkerStats
) -> ParsedFile:
    ctx = _context()
    parent_end, child_end = ctx.Pipe(duplex=True)
    process = ctx.Process(target=_child, args=(child_end, request), name="kpi-upload-worker", daemon=True)
    deadline = time.monotonic() + request.limits.seconds
    timed_out = started = final = False
    message: Any = None
    parsed: ParsedFile | None = None
    try:
        process.start()
        started = True
        child_end.close()
        if isinstance(source, bytes):
            with contextlib.suppress(OSError):  # a child that died at once is reported below
                parent_end.send_bytes(source)
        limit = max(256 * _MIB, 8 * request.limits.guard.max_file_bytes)  # no message may flood the parent
        while parsed is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready = multiprocessing.connection.wait([parent_end, process.sentinel], timeout=remaining)
            if not ready:
                continue
            if parent_end not in ready:
                break  # the child ended without a word
            try:  # plain JSON from the child, never a pickle: the child has just parsed an untrusted file
                message = json.loads(parent_end.recv_bytes(limit))
                if message[0] == "result":
                    final = True
                    _, plain, has_table, peaks, refused = message
                    table = pa.ipc.open_stream(parent_end.recv_bytes(limit)).read_all() if has_table else None
                    stats.baseline_mb, stats.peak_vm_mb, stats.peak_rss_mb = peaks
                    stats.outcome = "refused" if refused else "ok"
                    parsed = _from_plain(plain, table)
                elif message[0] == "crash":
                    final = True
                    break
            except (EOFError, OSError, ValueError, pa.ArrowException):  # the child died mid-message
                message = None
                break
            if message[0] == "progress" and progress is not None:
                progress(int(message[1]), int(message[2]))
    finally:
        child_end.close()
        if started:
            if process.exitcode is None and final:
                process.join(timeout=5)  # it has said its last word and is on its way out
            if process.exitcode is None:
                process.kill()
            process.join()
            stats.exitcode = process.exitcode
            process.close()
        parent_end.close()
    return parsed if parsed is not None else _death(source, request, stats, timed_out, message)


def _death(source: bytes | Path, request: _Request, stats: WorkerStats, timed_out: bool, message: Any) -> ParsedFile:
    """The whole-file error for a worker that ended without a result, with the reason in both languages."""
    limits = request.limits
    code = stats.exitcode
    words = _last_words(request.stderr_path)
    crash = str(message[1]) if isinstance(message, list) and len(message) > 1 else ""
    if timed_out:
        stats.outcome = "timeout"
        zh, en = f"解析超过 {limits.seconds:g} 秒", f"parsing took longer than {limits.seconds:g} s"
    elif code == _EXIT_MEMORY or _out_of_memory(crash + "\n" + words):
        stats.outcome = "memory"
        zh = f"解析时内存超过上限 {limits.memory_mb:,} MB"
        en = f"parsing needed more than the {limits.memory_mb:,} MB memory limit"
    elif code == -signal.SIGXCPU:
        stats.outcome = "cpu"
        zh, en = (
            f"解析占用 CPU 超过 {limits.cpu_seconds:,} 秒",
            f"parsing used more than {limits.cpu_seconds:,} s of CPU time",
        )
    else:
        stats.outcome = "crashed"
        text = crash or words
        last = text.strip().splitlines()[-1][:300] if text.strip() else f"exit code {code}"
        zh, en = "读取程序无法处理该文件", f"the reader could not handle the file ({last})"
    if crash or words:
        log.info("upload worker for %s: %s\n%s%s", request.file_name, stats.outcome, crash[-4000:], words[:2000])
    if words and stats.outcome != "crashed":
        en += f" [{words.splitlines()[0][:200]}]"
    rt_name = request.record_type or detect_record_type(request.file_name)
    return _refused(request.file_name, _sha256(source), rt_name, Refusal(zh, en))


def _out_of_memory(text: str) -> bool:
    """Whether a worker's last words say it ran out of memory: Python's MemoryError, a Rust allocation
    failure (which aborts), a C++ bad_alloc."""
    lowered = text.lower()
    return any(s in lowered for s in ("memoryerror", "memory allocation of", "bad_alloc", "cannot allocate memory"))


def _last_words(path: str, size: int = 64 * 1024) -> str:
    """The first lines the worker wrote to its stderr (a reader's abort message comes first), without
    backtraces."""
    try:
        with open(path, "rb") as fh:
            text = fh.read(size).decode("utf-8", "replace")
    except OSError:
        return ""
    skip = ("note:", "stack backtrace", "thread '", " ", "\t")
    return "\n".join(line for line in text.splitlines() if line.strip() and not line.startswith(skip))


def _sha256(source: bytes | Path) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    digest = hashlib.sha256()
    try:
        with source.open("rb") as fh:
            for chunk in iter(lambda: fh.read(_MIB), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _error(file: str, sha256: str, record_type: str | None, zh: str, en: str) -> ParsedFile:
    return ParsedFile(file, sha256, record_type, None, [RowError(file, None, None, None, zh, en)])


def _refused(file: str, sha256: str, record_type: str | None, refusal: Refusal) -> ParsedFile:
    return _error(file, sha256, record_type, refusal.message_zh, refusal.message_en)


# ---------------------------------------------------------------------------------------------------
# The fork server

_lock = threading.Lock()
_configured = False


def _context() -> Any:
    """The forkserver context with the readers preloaded (configured once per process).

    The server is started by exec, not by forking this process (which may have many threads); it imports
    PRELOAD (never __main__) and stays single-threaded, and each worker is a fork of it."""
    global _configured
    ctx = multiprocessing.get_context("forkserver")
    with _lock:
        if not _configured:
            ctx.set_forkserver_preload(PRELOAD)
            _configured = True
    return ctx


def start() -> None:
    """Start the fork server now rather than at the first upload (the dashboard does this at launch, so the
    first department to upload does not wait for it); checks the KPI_IMPORT_MAX_* settings on the way."""
    from multiprocessing import forkserver

    WorkerLimits.from_env()
    _context()
    forkserver.ensure_running()


def shutdown() -> None:
    """Stop the fork server and reap it (tests use this to count a worker's memory in RUSAGE_CHILDREN); the
    next parse starts a new one."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if callable(stop):
        stop()


# ---------------------------------------------------------------------------------------------------
# The child side


def _vm_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _limit_self(limits: WorkerLimits) -> float | None:
    """Set this process's hard limits; returns the baseline address space in MB (None where unknown)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not write a multi-gigabyte core file
    cpu = max(1, int(limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU at the soft limit, SIGKILL at the hard
    baseline = _vm_kb("VmSize")
    if baseline is not None:
        cap = baseline * 1024 + limits.memory_mb * _MIB
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return None if baseline is None else baseline / 1024


def _child(conn: multiprocessing.connection.Connection, request: _Request) -> None:
    """The worker: limits first, then the guard, then the reader; the result goes back through `conn`."""
    baseline = _limit_self(request.limits)
    os.environ["RUST_BACKTRACE"] = "0"  # one line from a reader that aborts, not a backtrace
    try:
        err = os.open(request.stderr_path, os.O_WRONLY | os.O_APPEND)
        os.dup2(err, 2)  # the reader's own last words (an abort message) for the parent to read
        os.close(err)
    except OSError:
        pass
    try:
        data = conn.recv_bytes() if request.path is None else _read(request)
        refusal = check_upload(data, request.file_name, request.limits.guard) if data is not None else None
        if data is None:
            parsed = _error(
                request.file_name,
                "",
                request.record_type or detect_record_type(request.file_name),
                f"无法读取文件：{request.path}",
                f"Cannot read {request.path}",
            )
        elif refusal is not None:
            rt_name = request.record_type or detect_record_type(request.file_name)
            parsed = _refused(request.file_name, hashlib.sha256(data).hexdigest(), rt_name, refusal)
        else:

            def progress(done: int, total: int) -> None:
                _send(conn, ["progress", done, total])

            with clock.pinned(request.moment):
                parsed = parse_bytes(
                    data, request.file_name, request.record_type, progress=progress, today=request.today
                )
        del data
        plain, table = _to_plain(parsed)
        peaks = (baseline, _mb(_vm_kb("VmPeak")), _mb(_vm_kb("VmHWM")))
        _send(conn, ["result", plain, table is not None, peaks, refusal is not None])
        if table is not None:
            conn.send_bytes(table)
    except MemoryError:
        os._exit(_EXIT_MEMORY)
    except (BrokenPipeError, ConnectionResetError):
        os._exit(_EXIT_NO_PARENT)
    except BaseException:  # a reader panic (pyo3's PanicException is a BaseException) or our own bug
        with contextlib.suppress(Exception):
            _send(conn, ["crash", traceback.format_exc()])
        sys.stderr.flush()
        os._exit(_EXIT_CRASH)
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _read(request: _Request) -> bytes | None:
    try:
        return Path(str(request.path)).read_bytes()
    except OSError:
        return None


def _mb(kb: int | None) -> float | None:
    return None if kb is None else kb / 1024


def _send(conn: multiprocessing.connection.Connection, message: list[Any]) -> None:
    conn.send_bytes(json.dumps(message, ensure_ascii=False).encode("utf-8"))


def _to_plain(parsed: ParsedFile) -> tuple[dict[str, Any], pa.Buffer | None]:
    """A ParsedFile as JSON-able data (each error as a list of its fields) and its table as an Arrow IPC
    stream."""
    plain: dict[str, Any] = {}
    for f in dataclasses.fields(parsed):
        if f.name == "table":
            continue
        value = getattr(parsed, f.name)
        plain[f.name] = [dataclasses.astuple(e) for e in value] if f.name == "errors" else value
    if parsed.table is None:
        return plain, None
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, parsed.table.schema) as writer:
        writer.write_table(parsed.table)
    return plain, sink.getvalue()


def _from_plain(plain: dict[str, Any], table: pa.Table | None) -> ParsedFile:
    names = {f.name for f in dataclasses.fields(ParsedFile)} - {"table"}
    values = {k: v for k, v in plain.items() if k in names}
    values["errors"] = [RowError(*e) for e in values.get("errors", [])]
    return ParsedFile(table=table, **values)
