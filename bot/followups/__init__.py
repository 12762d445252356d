"""Follow-ups: action items of an incident, tracked until done (or won't do)."""
