"""`sevbot demo`: one incident in accelerated time against the Slack, PagerDuty, Notion fakes."""
