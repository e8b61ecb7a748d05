"""Read-model rows -> the Arkindex resource shapes (arkindex-api.md §5).

Pure functions from the mappings returned by projections/queries.py to plain dicts, which
the resources dump through the response schemas of api/schemas.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.published import local_process

# Any key type: SQLAlchemy RowMapping rows and plain dicts are both accepted.
Row = Mapping[Any, Any]


def worker_light(row: Row, prefix: str = "") -> dict[str, Any]:
    return {
        "id": row[f"{prefix}worker_id"],
        "name": row[f"{prefix}name"],
        "slug": row[f"{prefix}slug"],
        "type": row[f"{prefix}type"],
        "description": row[f"{prefix}description"],
        "repository_url": row[f"{prefix}repository_url"],
    }


def worker(row: Row) -> dict[str, Any]:
    return {**worker_light(row), "archived": row["archived"]}


def worker_type(row: Row) -> dict[str, Any]:
    return {"id": row["type_id"], "slug": row["slug"], "display_name": row["display_name"]}


def worker_version(row: Row, prefix: str = "", worker_prefix: str = "worker_") -> dict[str, Any]:
    revision_url = row[f"{prefix}revision_url"]
    return {
        "id": row[f"{prefix}version_id"],
        "worker": worker_light(row, worker_prefix),
        # Arkindex numbers only the versions that are not linked to a Git revision.
        "version": None if revision_url else row[f"{prefix}number"],
        "revision_url": revision_url,
        "configuration": row[f"{prefix}configuration"] or {},
        "docker_image_iid": row[f"{prefix}docker_image_iid"],
        "state": row[f"{prefix}state"],
        "gpu_usage": row[f"{prefix}gpu_usage"],
        "model_usage": row[f"{prefix}model_usage"],
        "tag": row[f"{prefix}tag"],
        "branch": row[f"{prefix}branch"],
        "created": row[f"{prefix}created_at"],
        "archived": row[f"{prefix}archived"],
    }


def worker_configuration(row: Row, prefix: str = "") -> dict[str, Any]:
    return {
        "id": row[f"{prefix}configuration_id"],
        "name": row[f"{prefix}name"],
        "configuration": row[f"{prefix}configuration"] or {},
        "secret_keys": list(row[f"{prefix}secret_keys"] or []),
        "archived": row[f"{prefix}archived"],
    }


def model(row: Row) -> dict[str, Any]:
    return {
        "id": row["model_id"],
        "name": row["name"],
        "description": row["description"],
        "created": row["created_at"],
    }


def model_version(row: Row, prefix: str = "", model_name_key: str = "model_name") -> dict[str, Any]:
    return {
        "id": row[f"{prefix}model_version_id"],
        "model": {"id": row[f"{prefix}model_id"], "name": row[model_name_key]},
        "number": row[f"{prefix}number"],
        "tag": row[f"{prefix}tag"],
        "state": row[f"{prefix}state"],
        "configuration": row[f"{prefix}configuration"] or {},
        "s3_url": None,
        "created": row[f"{prefix}created_at"],
    }


def worker_run(row: Row) -> dict[str, Any]:
    """A user worker run from a queries.get_user_run / list_user_runs row."""
    if row["v_version_id"] is not None:
        version = worker_version(row, prefix="v_", worker_prefix="w_")
    else:
        # The catalog projection has not caught up with this run yet (a stale read): keep
        # the keys clients read, with what the run itself knows.
        version = {
            "id": row["worker_version_id"],
            "worker": {"id": row["worker_id"], "name": None, "slug": None, "type": None, "description": "",
                       "repository_url": None},
            "version": None, "revision_url": None, "configuration": {}, "docker_image_iid": None,
            "state": "available", "gpu_usage": "disabled", "model_usage": "disabled", "tag": None,
            "branch": None, "created": None, "archived": False,
        }
    configuration = worker_configuration(row, prefix="c_") if row["c_configuration_id"] is not None else None
    model_version_ = None
    if row["mv_model_version_id"] is not None:
        model_version_ = model_version(row, prefix="mv_", model_name_key="m_name")
    return {
        "id": row["run_id"],
        "parents": [],
        "worker_version": version,
        "model_version": model_version_,
        "configuration": configuration,
        "process": local_process(row["user_id"], row["process_id"]),
        "summary": row["summary"],
        "use_gpu": version["gpu_usage"] == "required",
    }


def worker_run_configuration(row: Row) -> dict[str, Any]:
    """RetrieveWorkerRunConfiguration: the run's named configuration as key/value/secret entries.

    Sorted by key: PostgreSQL's JSONB does not keep the order the keys were sent in, and
    both backends must answer the same bytes.
    """
    if row["c_configuration_id"] is None:
        return {"configuration": []}
    values = row["c_configuration"] or {}
    secrets = set(row["c_secret_keys"] or [])
    return {"configuration": [
        {"key": key, "value": values[key], "secret": key in secrets} for key in sorted(values)
    ]}
