"""RetractWorkerRun (issue 14): withdraw everything a user worker run signed."""

from __future__ import annotations

from uuid import UUID

import falcon

from api.base_resources import CommandResource, actor_of
from api.documents import schemas as ds
from api.documents.retraction import RETRACTION_READS, retraction_answer
from commands.retraction_messages import RetractRun


class RetractRunResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        # The aggregate decides: owner or admin (anyone else: 404, as for an unknown run), once (409).
        result = self.commands.run(req, resp, RetractRun(run_id=str(id)))
        # The counts are read once the listings hide the objects, so they are what was hidden.
        self.reads.wait(resp, result.position, RETRACTION_READS)
        with self.reads.connection() as conn:
            answer = retraction_answer(conn, str(id), retracted_by=actor_of(req).user_id)
        resp.media = ds.retraction_schema.dump(answer)
