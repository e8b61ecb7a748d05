"""Bulk import: N transcriptions signed by a user worker run, through HTTP with the official
`arkindex-client` and examples/bulk_transcriptions.py, against a real HTTP server.

Setup (not timed): a user, a corpus, a worker, a version, a user worker run, and N elements
(their ElementCreated events appended straight to the event store, in one transaction).
Timed: the import (batches of --batch-size, one transaction each), then the `documents`
projection catching up, then one ListWorkerRunResults call to check the count.

    python benchmarks/bulk_import.py                       # SQLite, 10 000 transcriptions
    python benchmarks/bulk_import.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

# Runnable as a plain script from a checkout: make the repository's packages importable.
ROOT = Path(__file__).resolve().parent.parent
# Run as a script (`python benchmarks/...`): the repository root, for the tests/ helpers and an
# uninstalled checkout, must be importable before the project imports below (hence E402).
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

from arkindex import ArkindexClient  # noqa: E402
from bulk_transcriptions import import_transcriptions  # noqa: E402

from api.app import create_app  # noqa: E402
from commands import messages as m  # noqa: E402
from domain.documents import element_stream  # noqa: E402
from eventstore import Metadata, NewEvent, StreamAppend  # noqa: E402
from eventstore.engine import make_engine  # noqa: E402
from eventstore.migrate import upgrade  # noqa: E402
from projections.consistency import wait_for_position  # noqa: E402
from tests.api_support import BackgroundProjector, ServerThread, make_user  # noqa: E402
from worker_runs.bootstrap import bootstrap  # noqa: E402
from worker_runs.settings import Settings  # noqa: E402


def seed_elements(container, actor_id: str, corpus_id: str, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    appends = [
        StreamAppend(
            element_stream(i),
            0,
            [
                NewEvent(
                    "ElementCreated",
                    {
                        "element_id": i,
                        "corpus_id": corpus_id,
                        "type": "line",
                        "name": f"Line {n}",
                        "user_id": actor_id,
                        "worker_run_id": None,
                        "parent_id": None,
                        "polygon": None,
                        "image_id": None,
                        "confidence": None,
                    },
                )
            ],
        )
        for n, i in enumerate(ids)
    ]
    now = datetime.now(UTC)
    container.store.append(appends, metadata=Metadata("user", actor_id, "seed", "seed", now))
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    url = args.database_url or f"sqlite:///{home / 'bench.db'}"
    schema = None
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    else:
        engine = make_engine(url)
    try:
        upgrade(engine)
        container = bootstrap(Settings(home=home, database_url=url), engine=engine)
        user = make_user(container, "importer")
        bus = container.bus
        corpus_id = bus.handle(m.CreateCorpus(name="Bulk"), actor=user.actor).data["corpus_id"]
        bus.handle(
            m.CreateElementType(corpus_id=corpus_id, slug="line", display_name="Line"), actor=user.actor
        )
        worker_id = bus.handle(
            m.CreateWorker(name="Importer", slug="importer", type="import"), actor=user.actor
        ).data["worker_id"]
        version_id = bus.handle(m.CreateWorkerVersion(worker_id=worker_id), actor=user.actor).data[
            "version_id"
        ]
        run_id = bus.handle(m.CreateUserRun(worker_version_id=version_id), actor=user.actor).data["run_id"]
        elements = seed_elements(container, user.user_id, corpus_id, args.count)
        items = [
            {"element_id": e, "text": f"transcribed line {n}", "confidence": 0.9}
            for n, e in enumerate(elements)
        ]

        projector = BackgroundProjector(engine).start()
        try:
            with ServerThread(create_app(container)) as server:
                client = ArkindexClient(token=user.token, base_url=server.url)
                started = time.perf_counter()
                created = import_transcriptions(
                    client, run_id, items, batch_size=args.batch_size, progress=False
                )
                imported = time.perf_counter() - started
                assert len(created) == args.count
                caught_up = wait_for_position(
                    engine, container.store.head(), names=["documents"], timeout=600
                )
                projected = time.perf_counter() - started
                page = client.request("ListWorkerRunResults", id=run_id, page_size=1)
                assert caught_up and page["count"] == args.count, page["count"]
        finally:
            projector.stop()
        backend = engine.dialect.name
        print(
            f"{backend}: {args.count} transcriptions in batches of {args.batch_size}: "
            f"imported in {imported:.2f} s ({args.count / imported:.0f}/s), "
            f"projected and listed by run after {projected:.2f} s"
        )
    finally:
        engine.dispose()
        if schema:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
