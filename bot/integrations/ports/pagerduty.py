"""What the PagerDuty domain asks of PagerDuty; bot.integrations.pagerduty implements it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.pagerduty.domain import PdAlert, PdIncident, PdLogEntry, PdOncall, PdService

# Called after each page of a list endpoint is read: hook(path, number of items).
PageHook = Callable[[str, int], None]


class PagerDutyPort(Protocol):
    """PagerDuty REST API v2 as the flows, jobs and alert review see it.

    Returns bot.pagerduty.domain dataclasses; raises bot.integrations.ports exceptions.
    """

    def get_incident(self, ref: str) -> PdIncident:
        """Fetch an incident by id, number or URL."""
        ...

    def list_alerts(self, incident_id: str) -> list[PdAlert]:
        """Return an incident's alerts, oldest first."""
        ...

    def list_log_entries(self, incident_id: str) -> list[PdLogEntry]:
        """Return an incident's important log entries, oldest first."""
        ...

    def find_service(self, name: str) -> PdService | None:
        """Find a service by id or name, or None."""
        ...

    def list_oncalls(self, query: str | None = None) -> list[PdOncall]:
        """Return who is on call now, for a service or escalation policy (name or id) or all."""
        ...

    def iter_incidents(
        self, since: datetime, until: datetime, *, on_page: PageHook | None = None
    ) -> Iterator[PdIncident]:
        """Yield every incident created in [since, until), with services included."""
        ...

    def iter_log_entries(
        self, since: datetime, until: datetime, *, on_page: PageHook | None = None
    ) -> Iterator[PdLogEntry]:
        """Yield the account's overview log entries created in [since, until)."""
        ...

    def create_incident(
        self, service_id: str, title: str, body_details: str, *, incident_key: str | None = None
    ) -> PdIncident:
        """Open an incident on a service, at most once per incident_key."""
        ...

    def resolve_incident(self, incident_id: str) -> None:
        """Resolve an incident (already resolved is fine)."""
        ...
