"""Data access for incidents. Every function takes a keyword-only session."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, delete, func, insert, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db import inserted, upsert_insert, utcnow
from bot.incidents.models import (
    ChannelMessage,
    Counter,
    Incident,
    ProcessedDelivery,
    TimelineEntry,
)


def get(incident_id: int, *, session: Session) -> Incident | None:
    """Return an incident by id."""
    return session.get(Incident, incident_id)


def get_by_channel(channel_id: str, *, session: Session) -> Incident | None:
    """Return the incident whose dedicated channel this is."""
    return session.scalar(select(Incident).where(Incident.channel_id == channel_id))


def get_by_request_key(key: str, *, session: Session) -> Incident | None:
    """Return the incident created by a given modal submit or slash command, if any."""
    return session.scalar(select(Incident).where(Incident.request_key == key))


def incident_id_for_channel(channel_id: str, *, session: Session) -> int | None:
    """Return only the id of a channel's incident (cheap, for the event hot path)."""
    return session.scalar(select(Incident.id).where(Incident.channel_id == channel_id))


INCIDENT_NUMBER = "incident_number"


def next_number(*, session: Session) -> int:
    """Take the next incident number inside the caller's transaction (held until it ends)."""
    advance = (
        update(Counter)
        .where(Counter.name == INCIDENT_NUMBER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    number = session.scalar(advance)
    if number is None:
        _seed_counter(session)
        number = session.scalar(advance)
    return int(number or 0)


def _seed_counter(session: Session) -> None:
    """Create the counter row if it is missing, starting after any existing incident.

    The migration creates it; it is missing only after its table was emptied by hand.
    """
    start = select(func.coalesce(func.max(Incident.number), 0)).scalar_subquery()
    seed = upsert_insert(session, Counter).values(name=INCIDENT_NUMBER, value=start)
    session.execute(seed.on_conflict_do_nothing(index_elements=["name"]))


def insert_declared(values: dict[str, Any], entry_text: str, *, session: Session) -> Incident:
    """Take the next number and insert the incident and its first timeline entry (PostgreSQL).

    One statement (data-modifying CTEs), so the counter row is locked only while the server
    runs it and its commit: a burst of declares queues on the database, not on Python threads.
    """
    incidents = cast(Table, Incident.__table__)
    # INSERT … SELECT inside a CTE gets no Python-side defaults: add the scalar ones.
    values = {
        **{
            c.name: c.default.arg  # type: ignore[attr-defined]
            for c in incidents.c
            if c.default is not None and c.default.is_scalar and c.name not in values
        },
        **values,
    }
    statement = _declare_statement(tuple(sorted(values)))
    params = {
        **{f"v_{name}": value for name, value in values.items()},
        "entry_at": values["declared_at"],
        "entry_actor": values["reporter_id"],
        "entry_text": entry_text,
    }
    found = session.execute(statement, params).first()
    if found is None:  # no counter row: nothing was inserted; create it and go again
        _seed_counter(session)
        found = session.execute(statement, params).first()
        assert found is not None
    # A detached copy of the new row (it is committed, or will be with the caller's session).
    return Incident(**{column.key: found._mapping[column.key] for column in incidents.c})


@functools.cache
def _declare_statement(names: tuple[str, ...]) -> Any:
    """Build the declare statement once per set of columns (it is costly to build)."""
    incidents = cast(Table, Incident.__table__)
    entries = cast(Table, TimelineEntry.__table__)
    number = (
        update(Counter)
        .where(Counter.name == INCIDENT_NUMBER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
        .cte("number")
    )
    row = select(number.c.value, *(bindparam(f"v_{n}", type_=incidents.c[n].type) for n in names))
    incident = (
        insert(incidents)
        .from_select(["number", *names], row)
        .returning(*incidents.c)
        .cte("incident")
    )
    entry = select(
        incident.c.id,
        bindparam("entry_at", type_=entries.c.occurred_at.type),
        literal("declared"),
        bindparam("entry_actor", type_=entries.c.actor_id.type),
        bindparam("entry_text", type_=entries.c.text.type),
        literal("declared"),
        literal({}, entries.c.data.type),
    )
    timeline = (
        insert(entries)
        .from_select(
            ["incident_id", "occurred_at", "kind", "actor_id", "text", "dedupe_key", "data"], entry
        )
        .cte("timeline")
    )
    return select(*incident.c).add_cte(timeline)


def release_leases(*, session: Session) -> int:
    """Drop every incident lease (a single-process database at start-up); return how many."""
    result = session.execute(
        update(Incident).where(Incident.lease_until.is_not(None)).values(lease_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def list_open(*, session: Session) -> Sequence[Incident]:
    """Return open incidents, newest first."""
    return session.scalars(
        select(Incident).where(Incident.status != "resolved").order_by(Incident.number.desc())
    ).all()


def with_pending_links(*, session: Session) -> Sequence[int]:
    """Return ids of set-up incidents whose declared links (PagerDuty...) are not done yet."""
    return session.scalars(
        select(Incident.id)
        .where(Incident.setup_done_at.is_not(None))
        .where(sql_cast(Incident.pending_links, String) != "{}")
        .order_by(Incident.id)
    ).all()


def list_unfinished_setup(*, session: Session, max_attempts: int) -> Sequence[int]:
    """Return ids of incidents whose Slack setup or sync has not completed."""
    return session.scalars(
        select(Incident.id)
        .where(
            ((Incident.setup_done_at.is_(None)) & (Incident.setup_attempts < max_attempts))
            | (
                (Incident.setup_done_at.is_not(None))
                & (Incident.synced_revision < Incident.revision)
            )
        )
        .order_by(Incident.id)
    ).all()


def add_timeline_entry(
    incident_id: int,
    *,
    session: Session,
    kind: str,
    text: str,
    actor_id: str | None = None,
    permalink: str | None = None,
    occurred_at: datetime | None = None,
    dedupe_key: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Add a timeline entry; return False when one with the same dedupe_key already exists."""
    values = {
        "incident_id": incident_id,
        "kind": kind,
        "text": text,
        "actor_id": actor_id,
        "permalink": permalink,
        "occurred_at": occurred_at or utcnow(),
        "dedupe_key": dedupe_key,
        "data": data or {},
    }
    if dedupe_key is None:
        session.add(TimelineEntry(**values))
        session.flush()
        return True
    stmt = upsert_insert(session, TimelineEntry).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=["incident_id", "dedupe_key"])
    return bool(inserted(session, stmt))


def timeline(incident_id: int, *, session: Session) -> Sequence[TimelineEntry]:
    """Return an incident's timeline, oldest first."""
    return session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    ).all()


@functools.cache
def message_statements(dialect: str) -> tuple[Any, Any]:
    """Build the hot-path statements once per dialect (they run for every channel message)."""
    messages, incidents = cast(Table, ChannelMessage.__table__), cast(Table, Incident.__table__)
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(messages)
    record = insert.values(
        incident_id=bindparam("incident_id"),
        ts=bindparam("ts"),
        user_id=bindparam("user_id"),
        posted_at=bindparam("posted_at"),
    ).on_conflict_do_nothing(index_elements=["incident_id", "ts"])
    clock = (
        update(incidents)
        .where(incidents.c.id == bindparam("incident_id"))
        .where(
            incidents.c.last_human_message_at.is_(None)
            | (incidents.c.last_human_message_at < bindparam("posted_at"))
        )
        .values(last_human_message_at=bindparam("posted_at"))
    )
    return record, clock


def claim_delivery(key: str, *, session: Session) -> bool:
    """Record an inbound delivery id; return False when it was already processed."""
    stmt = upsert_insert(session, ProcessedDelivery).values(key=key, received_at=utcnow())
    return bool(inserted(session, stmt.on_conflict_do_nothing(index_elements=["key"])))


def forget_delivery(key: str, *, session: Session) -> None:
    """Drop a claimed key whose work failed, so it can be claimed (and done) again."""
    session.execute(delete(ProcessedDelivery).where(ProcessedDelivery.key == key))
