"""Import every table so that Base.metadata is complete (Alembic and tests use it)."""

from bot.db import Base
from bot.followups import models as followup_models
from bot.incidents import models as incident_models
from bot.integrations import notion_limit as request_slot_models
from bot.nudges import models as nudge_models
from bot.outbox import models as outbox_models
from bot.pagerduty import models as pagerduty_models
from bot.postmortems import models as postmortem_models
from bot.reviews import models as review_models

metadata = Base.metadata

__all__ = [
    "followup_models",
    "incident_models",
    "metadata",
    "nudge_models",
    "outbox_models",
    "pagerduty_models",
    "postmortem_models",
    "request_slot_models",
    "review_models",
]
