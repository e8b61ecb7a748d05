"""Transcription entities (issue 10 B): entity types per corpus, and entities located in a
transcription's text, each signed like everything else workers publish. The rules live on
the `Corpus` and `Element` aggregates (domain/documents.py); their errors are here, with the
metadata duplicate error whose wording the Arkindex CLI parses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.errors import AlreadyExists

#: (transcription, type, offset, length, worker run): one entity per key
EntityKey = tuple[str, str, int, int, str | None]


class TranscriptionEntityAlreadyExists(AlreadyExists):
    field = "type_id"


class MetaDataAlreadyExist(AlreadyExists):
    """CreateMetaDataBulk with metadata the element already has. arkindex-cli 0.5 (upload alto)
    full-matches the regex `Metadata ({.*}) already exist[(]s[)] on this element[.]` (its
    parentheses around the set are a capture group, not text) on `non_field_errors[0]`, reads the set of
    (name, type, value) tuples back with `eval` and retries with the others. So the message is
    `Metadata {<Python set literal>} already exist(s) on this element.` — without parentheses
    around the set, whatever a prose rendering of it suggests."""

    field = "metadata_list"

    def __init__(self, existing: Iterable[tuple[str, str, Any]]) -> None:
        self.existing = set(existing)
        super().__init__(
            f"Metadata {self.existing!r} already exist(s) on this element.", existing_id="",
            field="metadata_list",
        )

    def compat_body(self) -> dict[str, object]:
        return {"non_field_errors": [self.message]}
