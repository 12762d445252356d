"""Tables of the nudges feature."""

from __future__ import annotations
