"""Two processes call the fake Notion at once; print the request rate the fake saw.

Each process builds its own engine and Notion adapter, as `sevbot web` and `sevbot worker`
do, and makes N reads. With the shared limiter (the default) the fake should see at most
3 requests/s in all and answer no 429; with `--local` each process paces only itself.

Run: .venv/bin/python bench/notion_shared_limit.py [--requests 15] [--postgres ADMIN_URL] [--local]
(with --postgres, a database of its own is created on that server and dropped afterwards)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db import make_engine, migrate  # noqa: E402
from bot.fakes.notion import FakeNotion  # noqa: E402


@contextmanager
def own_database(admin_url: str | None, tmp: str) -> Iterator[str]:
    """Yield a SQLite file URL, or a fresh PostgreSQL database that is dropped afterwards."""
    if not admin_url:
        yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"sevbot_bench_{os.getpid()}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    """Run two limiter users against one fake Notion and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=15, help="per process")
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (default: SQLite)")
    parser.add_argument("--local", action="store_true", help="per-process pacing only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, own_database(args.postgres, tmp) as url:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        fake = FakeNotion(requests_per_second=3.0, burst=3)
        fake.start()
        try:
            start = time.time() + 4.0
            command = [
                sys.executable, "-m", "tests.postmortems.limit_user",
                fake.base_url, url, str(start), str(args.requests),
            ] + (["local"] if args.local else [])  # fmt: skip
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            users = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(2)]
            codes = [user.wait(timeout=600) for user in users]
        finally:
            fake.stop()
    if any(codes):
        print(f"a limiter user failed: exit codes {codes}", file=sys.stderr)
        return 1
    times = sorted(r.at for r in fake.calls("/v1/users"))
    span = times[-1] - times[0]
    busiest = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
    kind = "per-process pacing" if args.local else f"shared limiter on {url.split(':')[0]}"
    print(f"two processes, {kind}")
    print(f"  requests seen by the fake   {len(times)}")
    rate = (len(times) - 1) / span
    print(f"  average rate                {rate:.2f} requests/s over {span:.1f}s")
    print(f"  busiest 1-second window     {busiest} requests")
    print(f"  429 answers from the fake   {fake.rate_limited_count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
