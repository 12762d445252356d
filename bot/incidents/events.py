"""Domain events of an incident's life; the flows record them, features subscribe to them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IncidentDeclared:
    """Emitted once an incident's channel is ready."""

    incident_id: int


@dataclass(frozen=True)
class IncidentChanged:
    """Emitted after a severity, status or role change."""

    incident_id: int
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class IncidentResolved:
    """Emitted after an incident is resolved."""

    incident_id: int
