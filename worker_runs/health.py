"""What this process's own supervisors report about their components, for /readyz.

`worker-runs serve` runs the Celery worker as a child it restarts with a back-off; while that
child crash-loops the API keeps serving but must not look healthy. Components report here
(process-local, thread-safe) and /readyz lists every one that is not ok. In a gunicorn
process nothing reports: /readyz then depends on the database and the lag only.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_problems: dict[str, str] = {}


def report(component: str, problem: str | None) -> None:
    """`problem=None`: the component is fine again."""
    with _lock:
        if problem is None:
            _problems.pop(component, None)
        else:
            _problems[component] = problem


def problems() -> dict[str, str]:
    with _lock:
        return dict(_problems)
