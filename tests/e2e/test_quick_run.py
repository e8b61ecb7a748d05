"""Issue 14, the one-step run: QuickUserRun (worker, version and run in one transaction) and
`worker-runs runs create`, with `--from-git` read from a real temporary git repository."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from commands import messages as m
from commands.bus import CommandBus
from domain.actor import Actor
from domain.errors import AlreadyExists, InvalidValue, NotFound, PermissionDenied, VersionNotUsable
from domain.local_process import LocalProcess
from tests.api_support import Api, ApiUser, assert_error, grant
from tests.race_support import run_concurrently
from worker_runs.bootstrap import Container
from worker_runs.cli import main
from worker_runs.git_checkout import web_url


def user(bus: CommandBus, username: str) -> Actor:
    return Actor(bus.handle(m.RegisterUser(username)).data["user_id"])


def quick(container: Container, actor: Actor, name: str = "My OCR", **kwargs: Any) -> dict[str, Any]:
    return container.bus.handle(m.QuickUserRun(name=name, **kwargs), actor=actor).data


def types_after(container: Container, position: int) -> list[str]:
    return [e.event_type for e in container.store.read_all(position)]


# --- the command ---------------------------------------------------------------------------------


def test_first_quick_run_creates_worker_version_and_run_in_one_transaction(container: Container) -> None:
    alice = user(container.bus, "alice")
    before = container.store.head()
    result = container.bus.handle(m.QuickUserRun(name="My OCR", type="Recognizer"), actor=alice)
    data = result.data
    assert (data["worker_created"], data["version_created"], data["run_created"]) == (True, True, True)
    assert (data["worker_slug"], data["worker_type"], data["version_number"]) == ("my-ocr", "recognizer", 1)
    written = container.store.read_all(before)
    assert [e.event_type for e in written] == [
        "WorkerTypeCreated", "WorkerCreated", "WorkerVersionCreated", "UserWorkerRunCreated",
    ]
    # One append: consecutive positions, one causation, the answer's position is the last one.
    assert len({e.causation_id for e in written}) == 1
    assert [e.global_position for e in written] == list(range(before + 1, before + 5))
    assert result.position == written[-1].global_position
    run = written[-1].payload
    assert (run["run_id"], run["worker_version_id"]) == (data["run_id"], data["worker_version_id"])
    assert run["summary"] == "Worker My OCR @ version 1"


def test_a_repeat_answers_the_same_run_and_writes_nothing(container: Container) -> None:
    alice = user(container.bus, "alice")
    first = quick(container, alice)
    head = container.store.head()
    again = quick(container, alice, type="another type")
    assert again["run_id"] == first["run_id"]
    assert (again["worker_created"], again["version_created"], again["run_created"]) == (False, False, False)
    assert again["worker_type"] == "worker"  # an existing worker keeps its type
    assert container.store.head() == head


def test_a_worker_made_by_hand_gets_its_newest_usable_version_used(container: Container) -> None:
    bus, alice = container.bus, user(container.bus, "alice")
    worker_id = bus.handle(m.CreateWorker("My OCR", "my-ocr", "ocr"), actor=alice).data["worker_id"]
    v1 = bus.handle(m.CreateWorkerVersion(worker_id), actor=alice).data["version_id"]
    v2 = bus.handle(m.CreateWorkerVersion(worker_id), actor=alice).data["version_id"]
    bus.handle(m.UpdateWorkerVersion(v2, {"archived": True}), actor=alice)
    data = quick(container, alice)
    assert (data["worker_id"], data["worker_version_id"], data["version_created"]) == (worker_id, v1, False)
    assert data["run_created"] is True


def test_a_revision_finds_its_version_or_makes_one(container: Container) -> None:
    alice = user(container.bus, "alice")
    blank = quick(container, alice)
    commit_a = quick(container, alice, revision_url="https://git.example/ocr/commit/aaaa1111",
                     repository_url="https://git.example/ocr")
    assert commit_a["version_created"] and commit_a["run_created"]
    assert commit_a["worker_version_id"] != blank["worker_version_id"]
    assert commit_a["version_number"] == 2
    # The same commit again: its run. Another commit: a third version and run.
    assert quick(container, alice, revision_url="https://git.example/ocr/commit/aaaa1111")["run_id"] == \
        commit_a["run_id"]
    commit_b = quick(container, alice, revision_url="https://git.example/ocr/commit/bbbb2222")
    assert commit_b["version_number"] == 3 and commit_b["run_id"] != commit_a["run_id"]
    runs = [e for e in container.store.read_all(0) if e.event_type == "UserWorkerRunCreated"]
    assert runs[-1].payload["summary"] == "Worker My OCR @ bbbb2222"


def test_a_docker_image_picks_the_version_with_that_image(container: Container) -> None:
    alice = user(container.bus, "alice")
    one = quick(container, alice, docker_image_iid="ocr:1")
    two = quick(container, alice, docker_image_iid="ocr:2")
    assert two["worker_version_id"] != one["worker_version_id"]
    assert quick(container, alice, docker_image_iid="ocr:1")["run_id"] == one["run_id"]


def test_the_version_of_an_archived_commit_is_refused_by_name(container: Container) -> None:
    alice = user(container.bus, "alice")
    data = quick(container, alice, revision_url="https://git.example/ocr/commit/aaaa")
    container.bus.handle(m.UpdateWorkerVersion(data["worker_version_id"], {"archived": True}), actor=alice)
    head = container.store.head()
    with pytest.raises(VersionNotUsable, match="revision is archived") as refused:
        quick(container, alice, revision_url="https://git.example/ocr/commit/aaaa")
    assert refused.value.field == "revision_url"
    assert container.store.head() == head


def test_an_archived_worker_is_refused_by_name(container: Container) -> None:
    alice = user(container.bus, "alice")
    data = quick(container, alice)
    container.bus.handle(m.UpdateWorker(data["worker_id"], {"archived": True}), actor=alice)
    with pytest.raises(VersionNotUsable, match="worker is archived") as refused:
        quick(container, alice)
    assert refused.value.field == "name"


def test_a_revision_with_another_docker_image_is_refused(container: Container) -> None:
    alice = user(container.bus, "alice")
    quick(container, alice, revision_url="https://git.example/ocr/commit/aaaa", docker_image_iid="ocr:1")
    with pytest.raises(InvalidValue, match="has docker image 'ocr:1', not 'ocr:2'"):
        quick(container, alice, revision_url="https://git.example/ocr/commit/aaaa", docker_image_iid="ocr:2")


def test_another_users_private_worker_slug_is_refused(container: Container) -> None:
    alice, bob = user(container.bus, "alice"), user(container.bus, "bob")
    quick(container, alice)
    head = container.store.head()
    with pytest.raises(AlreadyExists):
        quick(container, bob)
    assert container.store.head() == head


def test_a_shared_worker_without_versions_needs_its_owner(container: Container) -> None:
    bus = container.bus
    alice, bob = user(bus, "alice"), user(bus, "bob")
    worker_id = bus.handle(m.CreateWorker("Shared", "shared", "ocr"), actor=alice).data["worker_id"]
    bus.handle(m.GrantWorkerAccess(worker_id, bob.user_id), actor=alice)
    with pytest.raises(PermissionDenied):
        quick(container, bob, name="Shared")
    version_id = bus.handle(m.CreateWorkerVersion(worker_id), actor=alice).data["version_id"]
    data = quick(container, bob, name="Shared")
    assert (data["worker_version_id"], data["run_created"]) == (version_id, True)


def test_a_name_without_letters_is_refused(container: Container) -> None:
    with pytest.raises(InvalidValue, match="no letter or digit"):
        quick(container, user(container.bus, "alice"), name="!!!")


def test_nothing_is_written_when_the_run_is_refused(
    container: Container, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker and version of a quick run whose last step fails are not left behind."""
    alice = user(container.bus, "alice")
    head = container.store.head()

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise NotFound("refused for this test")

    monkeypatch.setattr(LocalProcess, "create_user_run", refuse)
    with pytest.raises(NotFound):
        quick(container, alice)
    assert container.store.head() == head
    assert container.store.resolve("worker-slug:my-ocr") is None


@pytest.mark.postgres
def test_16_concurrent_quick_runs_make_one_worker_one_version_one_run(pg_race_container: Container) -> None:
    container = pg_race_container
    alice = user(container.bus, "alice")
    head = container.store.head()
    outcomes = run_concurrently(16, lambda _i: quick(container, alice, revision_url="https://g.example/c/1"))
    assert [o.error for o in outcomes if o.error is not None] == []
    answers = [o.value for o in outcomes]
    assert len({a["run_id"] for a in answers}) == 1
    assert sum(a["run_created"] for a in answers) == 1
    assert Counter(types_after(container, head)) == Counter({
        "WorkerTypeCreated": 1, "WorkerCreated": 1, "WorkerVersionCreated": 1, "UserWorkerRunCreated": 1,
    })


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("WORKER_RUNS_DATABASE_URL", raising=False)
    monkeypatch.setenv("WORKER_RUNS_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    assert runner.invoke(main, ["users", "create", "alice"]).exit_code == 0
    return runner


def create(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(main, ["runs", "create", "--user", "alice", *args])


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=t@example.org", *args],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "my-ocr"
    path.mkdir()
    git(path, "init", "-q")
    (path / "worker.py").write_text("print('ocr')\n")
    git(path, "add", "worker.py")
    git(path, "commit", "-q", "-m", "first")
    return path


def run_id_of(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    last = result.stdout.splitlines()[-1]
    assert len(last) == 36 and last.count("-") == 4, result.stdout
    return last


def test_cli_creates_then_answers_the_same_run(cli: CliRunner) -> None:
    first = create(cli, "--worker", "My OCR", "--type", "recognizer", "--docker-image", "ocr:1")
    run_id = run_id_of(first)
    assert "Created worker My OCR [my-ocr], type recognizer." in first.stdout
    assert "Created your run on it." in first.stdout
    again = create(cli, "--worker", "My OCR", "--docker-image", "ocr:1")
    assert run_id_of(again) == run_id
    assert "This version already has your run." in again.stdout


def test_cli_from_git_uses_the_commit_and_remote_and_answers_the_same_run(cli: CliRunner, repo: Path) -> None:
    git(repo, "remote", "add", "origin", "git@github.example:team/my-ocr.git")
    commit = git(repo, "rev-parse", "HEAD")
    first = create(cli, "--worker", "My OCR", "--from-git", str(repo))
    run_id = run_id_of(first)
    assert f"(https://github.example/team/my-ocr/commit/{commit})" in first.stdout
    assert "uncommitted" not in first.stderr
    again = create(cli, "--worker", "My OCR", "--from-git", str(repo))
    assert run_id_of(again) == run_id
    assert "This commit already has your run." in again.stdout
    # A new commit is a new version, so a new run.
    (repo / "worker.py").write_text("print('better ocr')\n")
    git(repo, "commit", "-q", "-am", "second")
    assert run_id_of(create(cli, "--worker", "My OCR", "--from-git", str(repo))) != run_id


def test_cli_from_git_warns_about_uncommitted_changes_and_a_missing_remote(
    cli: CliRunner, repo: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    (repo / "worker.py").write_text("print('edited')\n")
    monkeypatch.chdir(repo)  # --from-git without PATH: the current directory
    result = create(cli, "--worker", "My OCR", "--from-git")
    run_id_of(result)
    commit = git(repo, "rev-parse", "HEAD")
    assert f"has uncommitted changes; the run is recorded for commit {commit[:12]}" in result.stderr
    assert "No `origin` remote" in result.stderr
    assert f"Created version 1 ({commit})" in result.stdout


def test_cli_unknown_user_is_a_usage_error(cli: CliRunner) -> None:
    result = cli.invoke(main, ["runs", "create", "--user", "nobody", "--worker", "My OCR"])
    assert result.exit_code == 2
    assert "no user named 'nobody'" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_cli_not_a_checkout_is_a_usage_error(cli: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = create(cli, "--worker", "My OCR", "--from-git", str(empty))
    assert result.exit_code == 2
    assert "is not a git checkout with a commit" in result.stderr


def test_cli_domain_errors_are_one_line(cli: CliRunner) -> None:
    assert cli.invoke(main, ["users", "create", "bob"]).exit_code == 0
    run_id_of(create(cli, "--worker", "My OCR"))
    result = cli.invoke(main, ["runs", "create", "--user", "bob", "--worker", "My OCR"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: A worker with this slug already exists."


@pytest.mark.parametrize(("remote", "url"), [
    ("git@github.com:team/ocr.git", "https://github.com/team/ocr"),
    ("ssh://git@gitlab.example/team/ocr.git", "https://gitlab.example/team/ocr"),
    ("https://gitlab.example/team/ocr.git\n", "https://gitlab.example/team/ocr"),
    ("https://gitlab.example/team/ocr/", "https://gitlab.example/team/ocr"),
])
def test_remotes_read_as_web_addresses(remote: str, url: str) -> None:
    assert web_url(remote) == url


# --- the HTTP operation (CreateQuickUserWorkerRun) ------------------------------------------------

QUICK = "/api/v1/process/workers/quick/"


def test_api_quick_run_answers_the_run_then_the_same_run(api: Api) -> None:
    created = api.post(QUICK, {"name": "Line OCR", "type": "ocr", "docker_image_iid": "ocr:1"})
    assert created.status_code == 201, created.json
    run = created.json
    assert run["worker_version"]["worker"]["slug"] == "line-ocr"
    assert run["worker_version"]["worker"]["type"] == "ocr"
    assert run["worker_version"]["docker_image_iid"] == "ocr:1"
    assert run["summary"] == "Worker Line OCR @ version 1"
    assert api.get(f"/api/v1/process/workers/{run['id']}/").json == run
    again = api.post(QUICK, {"name": "Line OCR", "docker_image_iid": "ocr:1"})
    assert (again.status_code, again.json["id"]) == (200, run["id"])
    # The worker made by CreateWorker is the same one: CreateWorker's get-or-create answers it.
    worker = api.post("/api/v1/workers/", {"name": "Line OCR", "type": "ocr"})
    assert (worker.status_code, worker.json["id"]) == (200, run["worker_version"]["worker"]["id"])


def test_api_quick_run_with_a_revision(api: Api) -> None:
    body = {"name": "Line OCR", "revision_url": "https://git.example/ocr/commit/0123456789abcdef",
            "repository_url": "https://git.example/ocr"}
    run = api.post(QUICK, body).json
    assert run["worker_version"]["revision_url"] == body["revision_url"]
    assert run["summary"] == "Worker Line OCR @ 01234567"
    assert api.post(QUICK, body).json["id"] == run["id"]


def test_api_quick_run_refusals(api: Api, alice: ApiUser, bob: ApiUser, container: Container) -> None:
    def refused(result: Any, code: str, attr: list[str]) -> None:
        assert_error(result, 400, "validation_error", code, attr)

    refused(api.post(QUICK, {"type": "ocr"}), "required", ["name"])
    refused(api.post(QUICK, {"name": "!!!"}), "invalid", ["name"])
    refused(api.post(QUICK, {"name": "x", "slug": "not a slug"}), "invalid", ["slug"])
    api.post(QUICK, {"name": "Line OCR"})
    # Bob may not use Alice's private worker: its slug is taken for him.
    refused(api.as_user(bob).post(QUICK, {"name": "Line OCR"}), "unique", ["slug"])
    # Shared with him but without a version he could use: only its owner may create one.
    shared = api.create_worker("Shared OCR")
    grant(container, alice, shared["id"], bob)
    as_bob = api.as_user(bob).post(QUICK, {"name": "Shared OCR"})
    assert_error(as_bob, 403, "client_error", "permission_denied")
