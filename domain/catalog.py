"""What a run may name besides its version: worker configurations and models.

`WorkerConfiguration` (stream `worker-configuration-<uuid>`): a named JSON configuration of a
worker. `Model` (stream `model-<uuid>`): a model and its numbered versions.
"""

from __future__ import annotations

from typing import Any

from domain.actor import Actor
from domain.aggregate import Aggregate
from domain.errors import InvalidValue, NotFound
from domain.events import ModelCreated, ModelVersionCreated, WorkerConfigurationCreated


def configuration_stream(configuration_id: str) -> str:
    return f"worker-configuration-{configuration_id}"


def model_stream(model_id: str) -> str:
    return f"model-{model_id}"


class WorkerConfiguration(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.configuration_id = ""
        self.worker_id = ""
        self.name = ""
        self.configuration: dict[str, Any] = {}
        self.secret_keys: list[str] = []

    def create(
        self, *, configuration_id: str, worker_id: str, name: str,
        configuration: dict[str, Any], secret_keys: list[str],
    ) -> None:
        if self.exists:
            return
        if not name.strip():
            raise InvalidValue("A configuration needs a name.", field="name")
        if not isinstance(configuration, dict):
            raise InvalidValue("configuration must be a JSON object.", field="configuration")
        unknown = set(secret_keys) - set(configuration)
        if unknown:
            raise InvalidValue("secret_keys must name keys of the configuration.", field="secret_keys")
        self._record(WorkerConfigurationCreated(
            configuration_id=configuration_id, worker_id=worker_id, name=name,
            configuration=configuration, secret_keys=sorted(secret_keys),
        ))

    def when_WorkerConfigurationCreated(self, e: WorkerConfigurationCreated) -> None:
        self.configuration_id, self.worker_id, self.name = e.configuration_id, e.worker_id, e.name
        self.configuration, self.secret_keys = e.configuration, e.secret_keys


class Model(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.model_id = ""
        self.name = ""
        self.owner_id = ""
        self.versions: dict[str, int] = {}  # model version id -> number

    def can_use(self, actor: Actor) -> bool:
        return actor.is_admin or actor.user_id == self.owner_id

    def create(self, *, model_id: str, name: str, owner_id: str, description: str = "") -> None:
        if self.exists:
            return
        if not name.strip():
            raise InvalidValue("A model needs a name.", field="name")
        self._record(ModelCreated(model_id=model_id, name=name, owner_id=owner_id, description=description))

    def create_version(
        self, actor: Actor, *, model_version_id: str, configuration: dict[str, Any], tag: str | None = None,
    ) -> None:
        if not self.exists or not self.can_use(actor):
            raise NotFound("No such model.")
        if not isinstance(configuration, dict):
            raise InvalidValue("configuration must be a JSON object.", field="configuration")
        self._record(ModelVersionCreated(
            model_id=self.model_id, model_version_id=model_version_id, number=len(self.versions) + 1,
            configuration=configuration, tag=tag,
        ))

    def when_ModelCreated(self, e: ModelCreated) -> None:
        self.model_id, self.name, self.owner_id = e.model_id, e.name, e.owner_id

    def when_ModelVersionCreated(self, e: ModelVersionCreated) -> None:
        self.versions[e.model_version_id] = e.number
