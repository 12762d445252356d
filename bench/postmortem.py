"""The issue's name for the Notion export benchmark; see bench/notion_export.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notion_export import main  # noqa: E402

if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10, 500, 2000])
