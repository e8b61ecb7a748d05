"""Every projection the runner drives, in one table: the read models (projections/registry.py)
and the subject and visibility index (integrations/index.py).

Here rather than in projections/registry.py because the index's projector decides visibility
with integrations/scopes.py, a layer above the read side. The composition root
(worker_runs/bootstrap.py) gives this table to the runner, so the relay announces, the workers
run, `projections status|rebuild|retry` manage and /metrics and /readyz report every one.
"""

from __future__ import annotations

from integrations import index
from projections.registry import PROJECTIONS, Projection

ALL_PROJECTIONS: dict[str, Projection] = {**PROJECTIONS, index.NAME: index.PROJECTION}
