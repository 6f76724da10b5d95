"""Upload parsing and validation: department XLSX/XLS/CSV files to validated Arrow tables.

>>> from metrics.ingest import errors_to_frame, parse_file
>>> parsed = parse_file("placements_2026-10.xlsx")   # never raises for a bad file
>>> parsed.table if parsed.ok else errors_to_frame(parsed.errors)
"""

from metrics.ingest.load import ImportReport, OutOfDistrict, WarningsNotAccepted, import_file, import_parsed
from metrics.ingest.outliers import Outlier, find_outliers
from metrics.ingest.read import ParsedFile, detect_record_type, parse_bytes, parse_file
from metrics.ingest.validate import RowError, errors_to_frame

__all__ = [
    "ImportReport",
    "OutOfDistrict",
    "Outlier",
    "ParsedFile",
    "RowError",
    "WarningsNotAccepted",
    "detect_record_type",
    "errors_to_frame",
    "find_outliers",
    "import_file",
    "import_parsed",
    "parse_bytes",
    "parse_file",
]
