#!/usr/bin/env python3
"""Import many transcriptions with a user worker run, through the bulk endpoint.

Every transcription is signed by the user worker run given in ARKINDEX_WORKER_RUN_ID, so
later anyone can tell which worker, version, configuration and model produced it
(`worker-runs provenance RUN_ID`, or GET /api/v1/process/workers/{run}/results/).

Input: a JSON Lines file, one transcription per line:

    {"element_id": "<uuid>", "text": "Dear Sir,", "confidence": 0.93}
    {"element_id": "<uuid>", "text": "…", "confidence": 0.88, "orientation": "horizontal-lr"}

Usage, with the official client (pip install arkindex-client):

    export ARKINDEX_API_URL=http://127.0.0.1:8000/ ARKINDEX_API_TOKEN=<token>
    export ARKINDEX_WORKER_RUN_ID=<your user worker run>
    python examples/bulk_transcriptions.py transcriptions.jsonl --batch-size 1000

Each request is one transaction on the server: a batch is imported entirely or not at all,
so a failed batch can simply be sent again (with --skip to resume after the batches that
were already imported).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from arkindex import ArkindexClient, options_from_env


def read_jsonl(path: str) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                item = json.loads(line)
                if not {"element_id", "text"} <= set(item):
                    raise SystemExit(f"{path}:{number}: each line needs element_id and text")
                yield item


def batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def import_transcriptions(
    client: ArkindexClient,
    worker_run_id: str,
    items: Iterable[dict[str, Any]],
    *,
    batch_size: int = 1000,
    skip: int = 0,
    progress: bool = True,
) -> list[str]:
    """Send `items` in batches of `batch_size` to CreateTranscriptions; returns the new ids."""
    created: list[str] = []
    for number, batch in enumerate(batches(items, batch_size), start=1):
        if number <= skip:
            continue
        answer = client.request(
            "CreateTranscriptions",
            body={
                "worker_run_id": worker_run_id,
                "transcriptions": batch,
            },
        )
        created.extend(t["id"] for t in answer["transcriptions"])
        if progress:
            print(f"batch {number}: {len(created)} transcriptions imported", file=sys.stderr)
    return created


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("jsonl", help="JSON Lines file of {element_id, text, confidence?, orientation?}")
    parser.add_argument("--batch-size", type=int, default=1000, help="transcriptions per request (max 5000)")
    parser.add_argument("--skip", type=int, default=0, help="batches to skip (resume after a failure)")
    args = parser.parse_args()
    worker_run_id = os.environ.get("ARKINDEX_WORKER_RUN_ID")
    if not worker_run_id:
        raise SystemExit("Set ARKINDEX_WORKER_RUN_ID to the id of one of your user worker runs.")
    client = ArkindexClient(**options_from_env())
    started = time.perf_counter()
    created = import_transcriptions(
        client, worker_run_id, read_jsonl(args.jsonl), batch_size=args.batch_size, skip=args.skip
    )
    print(
        f"{len(created)} transcriptions signed by worker run {worker_run_id} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
