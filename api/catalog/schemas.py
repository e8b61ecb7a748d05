"""marshmallow schemas of the catalog (workers, versions, configurations, models) and the user
worker runs: what those operations accept and answer. The shared pieces (request base, bounded
text, page queries, the error body) are in api/base_schemas.py.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, pre_dump, validate

from api.base_schemas import SLUG_RE, JsonObject, PageQuery, RequestSchema, Text
from api.row_fields import Prefixed, Row, computed, or_empty
from domain import published
from domain.worker import USAGES, VERSION_STATES

# --- queries ---------------------------------------------------------------------------------


class ListWorkersQuery(PageQuery):
    type = Text(max_length=100, metadata={"description": "Only workers of this worker type (slug)."})
    name = Text(
        max_length=200, metadata={"description": "Only workers whose name contains this text (any case)."},
    )
    archived = fields.Boolean(
        metadata={"description": "Only archived (true) or non-archived (false) workers. Default: false."},
    )


class ListWorkerVersionsQuery(PageQuery):
    state = fields.String(
        validate=validate.OneOf(VERSION_STATES), metadata={"description": "Filter by state."},
    )
    archived = fields.Boolean(metadata={"description": "Filter on archived versions. Default: all."})


# --- request bodies --------------------------------------------------------------------------


class CreateWorkerBody(RequestSchema):
    name = Text(required=True, min_length=1, max_length=100)
    slug = fields.String(
        validate=[
            validate.Length(min=1), validate.Length(max=100),
            validate.Regexp(SLUG_RE, error="Enter a valid slug."),
        ],
        metadata={"description": "Unique worker slug. Default: derived from the name. "
                                 "An existing slug returns the existing worker (200) when you may use it."},
    )
    type = Text(
        required=True, min_length=1, max_length=100,
        metadata={"description": "Free text: the worker type is created on the fly when it does not exist."},
    )
    description = Text(metadata={"description": "Markdown description."})
    repository_url = Text(max_length=500, allow_none=True)


class UpdateWorkerBody(RequestSchema):
    name = Text(min_length=1, max_length=100)
    type = Text(min_length=1, max_length=100)
    description = Text()
    archived = fields.Boolean()


class WorkerVersionFields(RequestSchema):
    """What CreateWorkerVersion and PartialUpdateWorkerVersion share, in their documented order."""

    configuration = JsonObject()
    gpu_usage = fields.String(validate=validate.OneOf(USAGES))
    model_usage = fields.String(validate=validate.OneOf(USAGES))
    docker_image_iid = Text(max_length=500, allow_none=True)
    revision_url = Text(max_length=500, allow_none=True)
    tag = Text(max_length=200, allow_none=True)
    branch = Text(max_length=200, allow_none=True)
    state = fields.String(validate=validate.OneOf(VERSION_STATES))


class CreateWorkerVersionBody(WorkerVersionFields):
    pass


class UpdateWorkerVersionBody(WorkerVersionFields):
    class Meta:
        # A version's revision is set when it is created (an unknown field here, as before).
        exclude = ("revision_url",)

    archived = fields.Boolean()


class CreateWorkerConfigurationBody(RequestSchema):
    name = Text(required=True, min_length=1, max_length=250)
    configuration = JsonObject(required=True)
    secret_keys = fields.List(
        Text(max_length=250), metadata={"description": "Keys of `configuration` whose values are secrets."},
    )


class CreateModelBody(RequestSchema):
    name = Text(required=True, min_length=1, max_length=250)
    description = Text()


class CreateModelVersionBody(RequestSchema):
    configuration = JsonObject()
    tag = Text(max_length=200, allow_none=True)


class CreateUserWorkerRunBody(RequestSchema):
    worker_version_id = fields.UUID(required=True)
    model_version_id = fields.UUID(allow_none=True)
    configuration_id = fields.UUID(allow_none=True)
    summary = Text(
        max_length=500, allow_none=True,
        metadata={"description": 'Default: "Worker <name> @ <version or short revision>".'},
    )


class QuickUserWorkerRunBody(RequestSchema):
    """Issue 14, the one-step run: what CreateWorker, CreateWorkerVersion and
    CreateUserWorkerRun would take, in one request."""

    name = Text(
        required=True, min_length=1, max_length=100,
        metadata={"description": "The worker's name; its slug (derived from it unless `slug` is given) "
                                 "finds an existing worker you may use, else a worker is created."},
    )
    slug = fields.String(
        validate=[
            validate.Length(min=1), validate.Length(max=100),
            validate.Regexp(SLUG_RE, error="Enter a valid slug."),
        ],
    )
    type = Text(
        min_length=1, max_length=100,
        metadata={"description": "The type of a worker created now (default `worker`); an existing "
                                 "worker keeps its own."},
    )
    docker_image_iid = Text(
        max_length=500, allow_none=True,
        metadata={"description": "Use the newest version with this docker image, else create one."},
    )
    revision_url = Text(
        max_length=500, allow_none=True,
        metadata={"description": "Use the version of this revision (e.g. a commit URL), else create it."},
    )
    repository_url = Text(
        max_length=500, allow_none=True, metadata={"description": "Set on a worker created now."},
    )


# --- responses (arkindex-api.md §5) -----------------------------------------------------------


# --- responses, read straight from the read-model rows (projections/queries.py) --------------


class WorkerLightSchema(Schema):
    id = fields.UUID(attribute="worker_id")
    name = fields.String()
    slug = fields.String()
    type = fields.String(metadata={"description": "The worker type slug."})
    description = fields.String()
    repository_url = fields.String(allow_none=True)


class WorkerSchema(WorkerLightSchema):
    archived = fields.Boolean()


class WorkerTypeSchema(Schema):
    id = fields.UUID(attribute="type_id")
    slug = fields.String()
    display_name = fields.String()


class WorkerVersionSchema(Schema):
    id = fields.UUID(attribute="version_id")
    worker = Prefixed(WorkerLightSchema, "worker_")
    # Arkindex numbers only the versions that are not linked to a Git revision.
    version = computed(fields.Integer(
        allow_none=True, metadata={"description": "Set when not linked to a Git revision."},
    ), lambda row: None if row["revision_url"] else row["number"])
    revision_url = fields.String(allow_none=True)
    configuration = computed(fields.Dict(), or_empty("configuration"))
    docker_image_iid = fields.String(allow_none=True)
    state = fields.String(validate=validate.OneOf(VERSION_STATES))
    gpu_usage = fields.String(validate=validate.OneOf(USAGES))
    model_usage = fields.String(validate=validate.OneOf(USAGES))
    tag = fields.String(allow_none=True)
    branch = fields.String(allow_none=True)
    created = fields.DateTime(attribute="created_at")
    archived = fields.Boolean()


class WorkerConfigurationSchema(Schema):
    id = fields.UUID(attribute="configuration_id")
    name = fields.String()
    configuration = computed(fields.Dict(), or_empty("configuration"))
    secret_keys = computed(fields.List(fields.String()), lambda row: list(row["secret_keys"] or []))
    archived = fields.Boolean()


class ModelSchema(Schema):
    id = fields.UUID(attribute="model_id")
    name = fields.String()
    description = fields.String()
    created = fields.DateTime(attribute="created_at")


class ModelLightSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class ModelVersionSchema(Schema):
    id = fields.UUID(attribute="model_version_id")
    # `model_id` and `model_name` (queries label the model's name so)
    model = Prefixed(ModelLightSchema, "model_")
    number = fields.Integer()
    tag = fields.String(allow_none=True)
    state = fields.String()
    configuration = computed(fields.Dict(), or_empty("configuration"))
    s3_url = computed(
        fields.String(allow_none=True, metadata={"description": "No artifact storage yet: always null."}),
        lambda row: None,
    )
    created = fields.DateTime(attribute="created_at")


class ProcessSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    mode = fields.String(metadata={"description": 'Always "local" for user worker runs.'})
    corpus = fields.UUID(allow_none=True)
    state = fields.String()
    activity_state = fields.String()
    model_id = fields.UUID(allow_none=True)
    train_folder_id = fields.UUID(allow_none=True)
    validation_folder_id = fields.UUID(allow_none=True)
    test_folder_id = fields.UUID(allow_none=True)
    skip_elements_json = fields.Boolean()


def _unprojected_version(row: Row) -> dict[str, Any]:
    """A run whose version the catalog projection has not caught up with yet (a stale read):
    the keys clients read, with what the run itself knows."""
    return {
        "v_version_id": row["worker_version_id"], "v_revision_url": None, "v_number": None,
        "v_configuration": {}, "v_docker_image_iid": None, "v_state": "available",
        "v_gpu_usage": "disabled", "v_model_usage": "disabled", "v_tag": None, "v_branch": None,
        "v_created_at": None, "v_archived": False,
        "v_worker_worker_id": row["worker_id"], "v_worker_name": None, "v_worker_slug": None,
        "v_worker_type": None, "v_worker_description": "", "v_worker_repository_url": None,
    }


class WorkerRunSchema(Schema):
    """A user worker run, from a queries.get_user_run / list_user_runs row (`v_` its version,
    `v_worker_` the version's worker, `c_` its configuration, `mv_` its model version)."""

    id = fields.UUID(attribute="run_id")
    parents = computed(fields.List(fields.UUID()), lambda row: [])
    worker_version = Prefixed(WorkerVersionSchema, "v_")
    model_version = Prefixed(ModelVersionSchema, "mv_", present="model_version_id", allow_none=True)
    configuration = Prefixed(WorkerConfigurationSchema, "c_", present="configuration_id", allow_none=True)
    process = computed(
        fields.Nested(ProcessSchema), lambda row: published.local_process(row["user_id"], row["process_id"]),
    )
    summary = fields.String()
    use_gpu = computed(fields.Boolean(), lambda row: row["v_gpu_usage"] == "required")

    @pre_dump
    def _stale(self, row: Row, **kwargs: Any) -> Row:
        return row if row["v_version_id"] is not None else {**row, **_unprojected_version(row)}


class ConfigurationEntrySchema(Schema):
    key = fields.String()
    value = fields.Raw(allow_none=True)
    secret = fields.Boolean()


def _configuration_entries(row: Row) -> list[dict[str, Any]]:
    """The run's named configuration as key/value/secret entries. Sorted by key: PostgreSQL's
    JSONB does not keep the order the keys were sent in, and both backends must answer the
    same bytes."""
    if row["c_configuration_id"] is None:
        return []
    values = row["c_configuration"] or {}
    secrets = set(row["c_secret_keys"] or [])
    return [{"key": key, "value": values[key], "secret": key in secrets} for key in sorted(values)]


class WorkerRunConfigurationSchema(Schema):
    """RetrieveWorkerRunConfiguration, from a run row."""

    configuration = computed(fields.List(fields.Nested(ConfigurationEntrySchema)), _configuration_entries)


# --- module-level instances (one per use; marshmallow schemas are reusable and thread-safe) ---

list_workers_query = ListWorkersQuery()
list_worker_versions_query = ListWorkerVersionsQuery()

create_worker_body = CreateWorkerBody()
update_worker_body = UpdateWorkerBody()
create_worker_version_body = CreateWorkerVersionBody()
update_worker_version_body = UpdateWorkerVersionBody()
create_worker_configuration_body = CreateWorkerConfigurationBody()
create_model_body = CreateModelBody()
create_model_version_body = CreateModelVersionBody()
create_user_worker_run_body = CreateUserWorkerRunBody()
quick_user_worker_run_body = QuickUserWorkerRunBody()  # issue 14

worker_schema = WorkerSchema()
worker_type_schema = WorkerTypeSchema()
worker_version_schema = WorkerVersionSchema()
worker_configuration_schema = WorkerConfigurationSchema()
model_schema = ModelSchema()
model_version_schema = ModelVersionSchema()
worker_run_schema = WorkerRunSchema()
worker_run_configuration_schema = WorkerRunConfigurationSchema()
