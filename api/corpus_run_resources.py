"""ListCorpusWorkerRuns (issue 10): the worker runs that produced data in a corpus."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon

from api import presenters
from api import schemas as s
from api.resources import _actor, _Resource
from projections import corpus_run_queries as cq
from projections import queries as q


class CorpusWorkerRunsResource(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        actor = _actor(req)

        def fetch(conn: Any, **window: int) -> q.Page | None:
            return cq.list_corpus_runs(conn, actor, str(id), **window)

        self._list(req, resp, fetch, presenters.worker_run, s.worker_run_schema)
