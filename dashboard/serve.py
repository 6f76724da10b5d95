"""`python -m dashboard.serve [streamlit options]`: run the server (dashboard.server: Streamlit through
`st.App`, the sign-in and health routes, the scheduler). What `make run` calls; see docs/server.md."""

from __future__ import annotations

import sys
from pathlib import Path

from dashboard.lifecycle import default_as_of, warm

__all__ = ["SERVER", "default_as_of", "main", "warm"]

SERVER = Path(__file__).resolve().parent / "server.py"
ROOT = SERVER.parents[1]


def main() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", "run", str(SERVER), *sys.argv[1:]]
    sys.exit(stcli.main())


if __name__ == "__main__":
    main()
