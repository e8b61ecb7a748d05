"""Every domain event class has a decided visibility scope (integrations/scopes.py)."""

from __future__ import annotations

from domain.events import EVENT_TYPES
from integrations.scopes import ACTOR_SCOPED, SCOPES


def test_every_event_class_is_scoped_or_explicitly_left_to_its_actor() -> None:
    classes = set(EVENT_TYPES.values())
    undecided = classes - set(SCOPES) - ACTOR_SCOPED
    names = sorted(c.__name__ for c in undecided)
    assert not undecided, f"decide who may see {names} (integrations/scopes.py)"


def test_no_event_class_is_in_both_tables() -> None:
    assert not set(SCOPES) & ACTOR_SCOPED
    assert set(SCOPES) | ACTOR_SCOPED <= set(EVENT_TYPES.values())
