"""The upload worker's fork server: imported only there (metrics.ingest.worker.PRELOAD), never elsewhere.

Warms what every upload needs (pyarrow, python-calamine, pydantic, the readers, the row models) so a worker
forks ready to parse, and keeps the server single-threaded so forking it is safe (docs/uploads.md). It lives
outside metrics.ingest so that the variables below are set before that package's __init__ loads pyarrow.
"""

from __future__ import annotations

import os

# Before numpy and pyarrow load: numpy's BLAS and pyarrow's bundled jemalloc would each start a thread, and
# a process with threads must not fork. Set here only, so they apply to the fork server and its workers.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["JE_ARROW_MALLOC_CONF"] = "background_thread:false"

from multiprocessing import spawn

import pyarrow as pa

from metrics.contract.records import RECORD_TYPES
from metrics.ingest import guard, read, validate, worker  # noqa: F401


def _keep_main(*_args: object) -> None:
    """Workers need nothing from the parent's __main__ (the CLI script, pytest, a Streamlit launcher)."""


def _warm() -> None:
    pa.array(["warm"])  # the memory pool reserves its arena now, so it is part of every worker's baseline
    for name in RECORD_TYPES:
        validate.row_model(name)
        read._header_index(name)


# multiprocessing would import the parent's main module into each worker before running it; the worker
# runs metrics.ingest.worker._child only, so this server's workers skip that.
setattr(spawn, "_fixup_main_from_path", _keep_main)  # noqa: B010
setattr(spawn, "_fixup_main_from_name", _keep_main)  # noqa: B010
_warm()
