"""Read-model tables, built by the projections from the event log.

Every row carries the `generation` of the projection that wrote it. A rebuild writes
generation N+1 beside the live generation N, then switches `projection_state.live_generation`
in one transaction and deletes the old rows: readers never see a half-built model, and the
schema stays static (managed by Alembic like everything else).
"""

from __future__ import annotations

import sqlalchemy as sa

# The read models share the event store's MetaData (re-exported: projections.apply looks tables up in it).
from eventstore.schema import BigInt, Json, UTCDateTime
from eventstore.schema import metadata as metadata

# --- bookkeeping --------------------------------------------------------------------------

projection_state = sa.Table(
    "projection_state",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("live_generation", sa.Integer, nullable=False),
    # A rebuild in progress, if any: its generation catches up, then becomes live.
    sa.Column("building_generation", sa.Integer, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# One row per (projection, generation), and for the relay: written in the same
# transaction as the rows it accounts for.
projection_checkpoints = sa.Table(
    "projection_checkpoints",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("position", BigInt, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Events a projection could not apply after its retries, and the later events of the same
# stream held behind them (other streams keep flowing).
dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("global_position", BigInt, primary_key=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("stream_id", sa.String(200), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("held_behind", BigInt, nullable=True),
    sa.Column("parked_at", UTCDateTime, nullable=False),
    sa.Index("ix_dead_letters_stream", "name", "stream_id"),
)

# Failed attempts of an event not parked yet (for back-off and the retry budget).
projection_failures = sa.Table(
    "projection_failures",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("global_position", BigInt, primary_key=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


def _generation() -> sa.Column[int]:
    return sa.Column("generation", sa.Integer, primary_key=True)


# --- the catalog projection: users, worker types, workers, versions, configurations, models

rm_users = sa.Table(
    "rm_users",
    metadata,
    _generation(),
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(150), nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("is_admin", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

rm_worker_types = sa.Table(
    "rm_worker_types",
    metadata,
    _generation(),
    sa.Column("slug", sa.String(100), primary_key=True),
    sa.Column("type_id", sa.String(36), nullable=False),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("created_position", BigInt, nullable=False),
)

rm_workers = sa.Table(
    "rm_workers",
    metadata,
    _generation(),
    sa.Column("worker_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("slug", sa.String(200), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("repository_url", sa.String(500), nullable=True),
    sa.Column("owner_id", sa.String(36), nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_position", BigInt, nullable=False),
    # "my workers" by name, and their count (index-only): migration 0011
    sa.Index("ix_rm_workers_owner_name", "generation", "owner_id", "name", "worker_id", "archived"),
    sa.Index("ix_rm_workers_type", "generation", "type", "name"),
    sa.Index("ix_rm_workers_name", "generation", "name", "worker_id"),
)

rm_worker_access = sa.Table(
    "rm_worker_access",
    metadata,
    _generation(),
    sa.Column("worker_id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Index("ix_rm_worker_access_user", "generation", "user_id"),
)

rm_worker_versions = sa.Table(
    "rm_worker_versions",
    metadata,
    _generation(),
    sa.Column("version_id", sa.String(36), primary_key=True),
    sa.Column("worker_id", sa.String(36), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("configuration", Json, nullable=False),
    sa.Column("docker_image_iid", sa.String(500), nullable=True),
    sa.Column("revision_url", sa.String(500), nullable=True),
    sa.Column("gpu_usage", sa.String(20), nullable=False),
    sa.Column("model_usage", sa.String(20), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("tag", sa.String(200), nullable=True),
    sa.Column("branch", sa.String(200), nullable=True),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_position", BigInt, nullable=False),
    sa.Index("ix_rm_worker_versions_worker", "generation", "worker_id", "number"),
)

rm_worker_configurations = sa.Table(
    "rm_worker_configurations",
    metadata,
    _generation(),
    sa.Column("configuration_id", sa.String(36), primary_key=True),
    sa.Column("worker_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("configuration", Json, nullable=False),
    sa.Column("secret_keys", Json, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_rm_worker_configurations_worker", "generation", "worker_id", "name"),
)

rm_models = sa.Table(
    "rm_models",
    metadata,
    _generation(),
    sa.Column("model_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("owner_id", sa.String(36), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_rm_models_owner", "generation", "owner_id", "name"),
)

rm_model_versions = sa.Table(
    "rm_model_versions",
    metadata,
    _generation(),
    sa.Column("model_version_id", sa.String(36), primary_key=True),
    sa.Column("model_id", sa.String(36), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("configuration", Json, nullable=False),
    sa.Column("tag", sa.String(200), nullable=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_rm_model_versions_model", "generation", "model_id", "number"),
)

# --- the user_runs projection -----------------------------------------------------------

rm_user_runs = sa.Table(
    "rm_user_runs",
    metadata,
    _generation(),
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), nullable=False),
    sa.Column("process_id", sa.String(36), nullable=False),
    sa.Column("worker_id", sa.String(36), nullable=False),
    sa.Column("worker_version_id", sa.String(36), nullable=False),
    sa.Column("configuration_id", sa.String(36), nullable=True),
    sa.Column("model_version_id", sa.String(36), nullable=True),
    sa.Column("summary", sa.String(500), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # The position of the event that created it: the newest-first order, and what a client
    # must wait for to read it.
    sa.Column("created_position", BigInt, nullable=False),
    sa.Index("ix_rm_user_runs_user", "generation", "user_id", "created_position"),
)

# Retracted runs (issue 14), in the `documents` projection (projections/retractions.py): every
# object whose `worker_run_id` is here is hidden from the listings, in the same generation and
# at the same position as the objects themselves (no lag between two projections).
rm_retracted_runs = sa.Table(
    "rm_retracted_runs",
    metadata,
    _generation(),
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), nullable=False),
    sa.Column("retracted_by", sa.String(36), nullable=False),
    sa.Column("retracted_at", UTCDateTime, nullable=False),
    sa.Column("retracted_position", BigInt, nullable=False),
)

# --- the documents projection (issue 5): corpora and what workers publish on elements -------
# Every published object keeps its creator: `user_id`, and `worker_run_id` when a worker run
# signed it. The (generation, worker_run_id, created_position) indexes answer "what did this
# run produce" in order; the primary keys answer "which run produced this object".

rm_corpora = sa.Table(
    "rm_corpora",
    metadata,
    _generation(),
    sa.Column("corpus_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("owner_id", sa.String(36), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_position", BigInt, nullable=False),
    sa.Index("ix_rm_corpora_owner", "generation", "owner_id", "name"),
)

rm_element_types = sa.Table(
    "rm_element_types",
    metadata,
    _generation(),
    sa.Column("type_id", sa.String(36), primary_key=True),
    sa.Column("corpus_id", sa.String(36), nullable=False),
    sa.Column("slug", sa.String(100), nullable=False),
    sa.Column("display_name", sa.String(250), nullable=False),
    sa.Column("folder", sa.Boolean, nullable=False),
    sa.Column("color", sa.String(6), nullable=False),
    sa.Index("ix_rm_element_types_corpus", "generation", "corpus_id", "slug"),
)

rm_ml_classes = sa.Table(
    "rm_ml_classes",
    metadata,
    _generation(),
    sa.Column("class_id", sa.String(36), primary_key=True),
    sa.Column("corpus_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(1024), nullable=False),
    sa.Index("ix_rm_ml_classes_corpus", "generation", "corpus_id", "name"),
)


def _signed_columns(table: str) -> list[sa.schema.SchemaItem]:
    """Creator columns and the provenance indexes shared by every published object."""
    return [
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("worker_run_id", sa.String(36), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_position", BigInt, nullable=False),
        sa.Index(f"ix_{table}_run", "generation", "worker_run_id", "created_position"),
        sa.Index(f"ix_{table}_user", "generation", "user_id", "created_position"),
    ]


rm_elements = sa.Table(
    "rm_elements",
    metadata,
    _generation(),
    sa.Column("element_id", sa.String(36), primary_key=True),
    sa.Column("corpus_id", sa.String(36), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("parent_id", sa.String(36), nullable=True),
    sa.Column("polygon", Json, nullable=True),
    sa.Column("image_id", sa.String(36), nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    # issue 10 (migration 0007): the orientation base-worker applies when it opens the image
    sa.Column("rotation_angle", sa.Integer, nullable=False, server_default="0"),
    sa.Column("mirrored", sa.Boolean, nullable=False, server_default=sa.false()),
    *_signed_columns("rm_elements"),
    sa.Index("ix_rm_elements_parent", "generation", "parent_id", "created_position"),
    sa.Index("ix_rm_elements_corpus", "generation", "corpus_id", "created_position"),
)

rm_transcriptions = sa.Table(
    "rm_transcriptions",
    metadata,
    _generation(),
    sa.Column("transcription_id", sa.String(36), primary_key=True),
    sa.Column("element_id", sa.String(36), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("orientation", sa.String(20), nullable=False),
    *_signed_columns("rm_transcriptions"),
    sa.Index("ix_rm_transcriptions_element", "generation", "element_id", "created_position"),
)

rm_classifications = sa.Table(
    "rm_classifications",
    metadata,
    _generation(),
    sa.Column("classification_id", sa.String(36), primary_key=True),
    sa.Column("element_id", sa.String(36), nullable=False),
    sa.Column("ml_class_id", sa.String(36), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("high_confidence", sa.Boolean, nullable=False),
    *_signed_columns("rm_classifications"),
    sa.Index("ix_rm_classifications_element", "generation", "element_id", "created_position"),
)

rm_metadata = sa.Table(
    "rm_metadata",
    metadata,
    _generation(),
    sa.Column("metadata_id", sa.String(36), primary_key=True),
    sa.Column("element_id", sa.String(36), nullable=False),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("value", Json, nullable=True),
    sa.Column("entity_id", sa.String(36), nullable=True),
    *_signed_columns("rm_metadata"),
    sa.Index("ix_rm_metadata_element", "generation", "element_id", "created_position"),
)

DOCUMENT_TABLES = (
    rm_corpora, rm_element_types, rm_ml_classes, rm_elements, rm_transcriptions, rm_classifications,
    rm_metadata,
)
