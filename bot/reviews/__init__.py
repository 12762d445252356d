"""The monthly incident review: figures from the database, a chart, a scheduled Slack post."""
