"""The size limit of an upload, named by the upload guard (metrics.ingest.guard), the app's upload page and
`kpi import --max-size` (docs/uploads.md). Here, at the bottom of the layers, so the `kpi` command can show it
in its help without importing the upload code (docs/rollups.md, "the command line")."""

from __future__ import annotations

__all__ = ["MAX_UPLOAD_MB"]

MAX_UPLOAD_MB = 50  # the app's upload limit (.streamlit/config.toml maxUploadSize) and `kpi import --max-size`
