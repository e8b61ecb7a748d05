"""Races on images and zones (issue 10), on SQLite and PostgreSQL: the uniqueness rules (one
image per URL, one server per URL prefix, one child per parent, type and polygon in
CreateElementTranscriptions) hold when many requests decide at the same instant. They are
aliases claimed with the events, so a loser retries, finds the winner, and answers accordingly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from commands import image_messages as im
from commands import messages as m
from domain.actor import Actor
from domain.image import ImageAlreadyExists
from eventstore.schema import events
from integrations.iiif import IIIFInfo
from tests.conftest import settings_for
from tests.race_support import run_concurrently
from worker_runs.bootstrap import Container, bootstrap

RACERS = 8
LINE = [[100, 150], [1100, 150], [1100, 190], [100, 190]]


def fake_iiif(url: str) -> IIIFInfo:
    return IIIFInfo(width=1200, height=1600, version=2)


@pytest.fixture
def container(engine: Engine, tmp_path: Path) -> Container:
    return bootstrap(settings_for(engine, tmp_path), engine=engine, iiif=fake_iiif)


def event_counts(container: Container) -> Counter[str]:
    with container.engine.connect() as conn:
        return Counter(conn.execute(sa.select(events.c.event_type)).scalars())


def alice(container: Container) -> Actor:
    return Actor(container.bus.handle(m.RegisterUser("alice")).data["user_id"])


def test_one_image_per_url_and_one_server_per_prefix(container: Container) -> None:
    actor = alice(container)
    url = "https://iiif.example.org/iiif/2/same-page"
    outcomes = run_concurrently(
        RACERS, lambda i: container.bus.handle(im.CreateIIIFURL(url=url), actor=actor),
    )
    winners = [o.value.data["image_id"] for o in outcomes if o.error is None]
    losers = [o.error for o in outcomes if o.error is not None]
    assert len(winners) == 1
    assert all(isinstance(e, ImageAlreadyExists) and e.existing_id == winners[0] for e in losers), losers
    # Different images on one new server: every image is created, on one server.
    outcomes = run_concurrently(RACERS, lambda i: container.bus.handle(
        im.CreateIIIFURL(url=f"https://other.example.org/iiif/2/page-{i}"), actor=actor,
    ))
    assert [o.error for o in outcomes] == [None] * RACERS
    counts = event_counts(container)
    assert counts["ImageCreated"] == 1 + RACERS
    assert counts["ImageServerCreated"] == 2


def test_racing_transcription_batches_share_one_child_per_polygon(container: Container) -> None:
    actor = alice(container)
    corpus_id = container.bus.handle(m.CreateCorpus(name="c"), actor=actor).data["corpus_id"]
    for slug in ("page", "text_line"):
        container.bus.handle(
            m.CreateElementType(corpus_id=corpus_id, slug=slug, display_name=slug), actor=actor,
        )
    image_id = container.bus.handle(
        im.CreateIIIFURL(url="https://iiif.example.org/iiif/2/p"), actor=actor,
    ).data["image_id"]
    page_id = container.bus.handle(
        m.CreateElement(corpus_id=corpus_id, type="page", name="p", image_id=image_id), actor=actor,
    ).data["element_id"]
    command = im.CreateElementTranscriptions(
        parent_id=page_id, element_type="text_line",
        items=(im.ZoneTranscriptionItem(polygon=LINE, text="hello", confidence=0.5),),
    )
    outcomes = run_concurrently(RACERS, lambda i: container.bus.handle(command, actor=actor))
    assert [o.error for o in outcomes] == [None] * RACERS
    answers = [o.value.data["transcriptions"][0] for o in outcomes]
    assert len({a["element_id"] for a in answers}) == 1
    assert sorted(a["created"] for a in answers) == [False] * (RACERS - 1) + [True]
    counts = event_counts(container)
    assert counts["ElementCreated"] == 2  # the page and its one line
    assert counts["TranscriptionCreated"] == RACERS
