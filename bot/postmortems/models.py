"""Tables of the postmortems feature."""

from __future__ import annotations
