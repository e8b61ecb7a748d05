"""Request bodies that share fields: what they load, in the documented order."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from api.catalog import schemas as s


def test_worker_version_bodies_share_their_fields_in_the_documented_order() -> None:
    assert list(s.create_worker_version_body.fields) == [
        "configuration", "gpu_usage", "model_usage", "docker_image_iid", "revision_url", "tag", "branch",
        "state",
    ]
    assert list(s.update_worker_version_body.fields) == [
        "configuration", "gpu_usage", "model_usage", "docker_image_iid", "tag", "branch", "state", "archived",
    ]


def test_a_version_update_refuses_a_revision_and_both_bodies_validate_alike() -> None:
    with pytest.raises(ValidationError) as refused:
        s.update_worker_version_body.load({"revision_url": "https://example.org/commit/1"})
    assert refused.value.messages == {"revision_url": ["Unknown field."]}
    for body in (s.create_worker_version_body, s.update_worker_version_body):
        with pytest.raises(ValidationError) as invalid:
            body.load({"gpu_usage": "sometimes", "tag": "x" * 201})
        assert set(invalid.value.messages) == {"gpu_usage", "tag"}
    loaded = s.update_worker_version_body.load({"tag": "v1", "archived": True})
    assert loaded == {"tag": "v1", "archived": True}
