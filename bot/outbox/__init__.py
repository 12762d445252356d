"""The durable outbox: every Slack post, file and domain event that must eventually happen.

A side effect is recorded in the same transaction as the change it reports and delivered
after the commit: at once by the request that caused it, and by the ``outbox`` job after a
crash, an outage or a back-off. See ``delivery`` for the exactly-once rules.
"""
