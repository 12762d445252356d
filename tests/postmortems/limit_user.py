"""One independent Notion user: `python -m tests.postmortems.limit_user URL DB START N [local]`.

It builds its own engine and Notion adapter (as `sevbot web` or `sevbot worker` would), waits
until the wall-clock time START so that several users overlap, then makes N reads. With
`local` it paces only itself, which is how sevbot behaved before the limit was shared.
"""

from __future__ import annotations

import sys
import time

from bot.db import make_engine
from bot.integrations.notion import NotionAdapter
from bot.integrations.notion_limit import SharedNotionRateLimiter
from bot.integrations.ports import Unavailable
from bot.settings import Settings

TOKEN = "secret_fake_notion"


def main(argv: list[str]) -> int:
    """Make N reads against the fake Notion through a shared (or local) limiter."""
    base_url, database_url, start, count = argv[0], argv[1], float(argv[2]), int(argv[3])
    local = len(argv) > 4 and argv[4] == "local"
    engine = make_engine(database_url)
    if local:
        notion = NotionAdapter(TOKEN, base_url=base_url)
    else:  # built as `sevbot web` and `sevbot worker` build it
        settings = Settings(notion_token=TOKEN, notion_api_url=base_url)
        built = NotionAdapter.from_settings(settings, engine=engine)
        assert built is not None and isinstance(built.limiter, SharedNotionRateLimiter)
        notion = built
    time.sleep(max(0.0, start - time.time()))
    gave_up = 0
    for _ in range(count):
        try:
            notion.user_id_by_email("nobody@example.com")
        except Unavailable:  # only when the limit is not shared: Notion kept answering 429
            gave_up += 1
        notion._emails = None  # every call is a real request
    if gave_up:
        print(f"{gave_up} of {count} calls gave up after repeated 429s", file=sys.stderr)
    notion.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
