"""Nudges: update nudges, the postmortem scheduling loop, meeting invitations and reminders.

Due times are derived from the database (incidents, postmortems, nudge_deliveries) and polled
by one APScheduler job every 0.5 s. On PostgreSQL any number of processes may run the job:
a session advisory lock lets one pass run at a time and each nudge is recorded under an
idempotency key before it is sent. On SQLite a single process is assumed.
"""
