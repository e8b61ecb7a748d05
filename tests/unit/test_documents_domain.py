"""Pure domain rules of the document model: what workers publish and who signed it."""

from __future__ import annotations

import pytest

from domain.actor import Actor
from domain.documents import Corpus, Element, Signature, check_signing_run
from domain.errors import AlreadyExists, InvalidValue, NotFound, PermissionDenied

ALICE = Actor("alice")
BOB = Actor("bob")


def make_corpus() -> Corpus:
    corpus = Corpus("corpus-c1")
    corpus.create(corpus_id="c1", name="Letters", owner_id="alice")
    corpus.create_element_type(ALICE, type_id="t1", slug="page", display_name="Page")
    corpus.create_ml_class(ALICE, class_id="k1", name="handwritten")
    return corpus


ALICE_ALONE = Signature("alice")


def make_element(corpus: Corpus, signature: Signature = ALICE_ALONE) -> Element:
    element = Element("element-e1")
    element.create(corpus, ALICE, signature, element_id="e1", type="page", name="1")
    return element


def test_corpus_records_types_and_classes_once() -> None:
    corpus = make_corpus()
    assert [type(e).__name__ for e in corpus.collect()] == [
        "CorpusCreated", "ElementTypeCreated", "MLClassCreated",
    ]
    with pytest.raises(AlreadyExists) as dup_type:
        corpus.create_element_type(ALICE, type_id="t2", slug="page", display_name="Page")
    assert dup_type.value.existing_id == "t1"
    with pytest.raises(AlreadyExists) as dup_class:
        corpus.create_ml_class(ALICE, class_id="k2", name="handwritten")
    assert dup_class.value.existing_id == "k1"


def test_only_the_owner_writes_to_a_corpus() -> None:
    corpus = make_corpus()
    with pytest.raises(NotFound):
        corpus.create_ml_class(BOB, class_id="k3", name="printed")
    with pytest.raises(NotFound):
        Element("element-x").create(corpus, BOB, Signature("bob"), element_id="x", type="page", name="x")


def test_element_records_its_signature() -> None:
    corpus = make_corpus()
    element = make_element(corpus, Signature("alice", "run-1"))
    created = element.collect()[0]
    assert (created.user_id, created.worker_run_id) == ("alice", "run-1")


def test_unknown_type_and_bad_confidence_are_refused() -> None:
    corpus = make_corpus()
    with pytest.raises(InvalidValue):
        Element("element-y").create(corpus, ALICE, Signature("alice"), element_id="y", type="line", name="y")
    element = make_element(corpus)
    with pytest.raises(InvalidValue):
        element.add_transcription(Signature("alice"), transcription_id="tr", text="a", confidence=1.5)
    with pytest.raises(InvalidValue):
        element.add_transcription(
            Signature("alice"), transcription_id="tr", text="a", confidence=0.5, orientation="diagonal",
        )


def test_one_classification_per_class_per_run() -> None:
    corpus = make_corpus()
    element = make_element(corpus)
    run = Signature("alice", "run-1")
    element.add_classification(corpus, run, classification_id="cl1", ml_class_id="k1", confidence=0.9)
    with pytest.raises(AlreadyExists) as dup:
        element.add_classification(corpus, run, classification_id="cl2", ml_class_id="k1", confidence=0.8)
    assert dup.value.existing_id == "cl1"
    # Another run (or the user alone) may classify the same element with the same class.
    element.add_classification(
        corpus, Signature("alice", "run-2"), classification_id="cl3", ml_class_id="k1", confidence=0.7,
    )
    with pytest.raises(InvalidValue):
        element.add_classification(corpus, run, classification_id="cl4", ml_class_id="nope", confidence=0.7)


def test_metadata_types_are_checked() -> None:
    element = make_element(make_corpus())
    element.add_metadata(Signature("alice"), metadata_id="m1", type="text", name="author", value="Ada")
    with pytest.raises(InvalidValue):
        element.add_metadata(Signature("alice"), metadata_id="m2", type="colour", name="x", value="y")


def test_runs_are_personal() -> None:
    check_signing_run("alice", ALICE)
    # Like a run that does not exist: no existence oracle (issue 12)
    with pytest.raises(NotFound):
        check_signing_run("alice", BOB)
    with pytest.raises(PermissionDenied):  # an administrator may read it anyway: told why
        check_signing_run("alice", Actor("root", is_admin=True))


def test_replay_rebuilds_the_classification_guard() -> None:
    corpus = make_corpus()
    element = make_element(corpus)
    element.add_classification(
        corpus, Signature("alice", "r"), classification_id="cl1", ml_class_id="k1", confidence=0.9,
    )
    replayed = Element.replay("element-e1", element.collect())
    assert isinstance(replayed, Element)
    with pytest.raises(AlreadyExists):
        replayed.add_classification(
            corpus, Signature("alice", "r"), classification_id="cl2", ml_class_id="k1", confidence=0.5,
        )
