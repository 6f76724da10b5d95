"""`python -m metrics.contract [PATH]`: rewrite the generated record-type tables of docs/data-contract.md."""

from __future__ import annotations

import sys
from pathlib import Path

from metrics.contract.document import replace_generated

path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/data-contract.md")
path.write_text(replace_generated(path.read_text(encoding="utf-8")), encoding="utf-8")
print(f"updated {path}")
