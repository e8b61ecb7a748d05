"""Resource shapes published twice: by the HTTP API (arkindex-api.md §5) and in the public
integration events (docs/integration-events.md). Here, below both, so that neither layer
imports the other and the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from domain.local_process import local_process_id


def local_process(user_id: str, process_id: str | None = None) -> dict[str, Any]:
    """The user's personal process. Fixed values keep unmodified base-workers happy:
    mode "local" (a known mode), no corpus, activities disabled, and
    `skip_elements_json: false` so a worker started without an element list exits cleanly
    instead of asking StartWorkerActivity for elements a user token cannot draw."""
    return {
        "id": process_id or local_process_id(user_id),
        "name": "Local process",
        "mode": "local",
        "corpus": None,
        "state": "unscheduled",
        "activity_state": "disabled",
        "model_id": None,
        "train_folder_id": None,
        "validation_folder_id": None,
        "test_folder_id": None,
        "skip_elements_json": False,
    }


def user(user_id: str, username: str, email: str | None, is_admin: bool) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": email,
        "display_name": username,
        "admin": is_admin,
        "verified_email": True,
        # The CLI reads `features` (e.g. to detect OIDC); this instance enables none.
        "features": {},
    }
