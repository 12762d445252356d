"""Tables of the pagerduty feature."""

from __future__ import annotations
