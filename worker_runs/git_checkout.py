"""What `worker-runs runs create --from-git` reads from a worker's checkout: its commit, its
remote and whether the tree has uncommitted changes (git itself, run as a subprocess)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: `git@host:owner/repo.git` (scp-like SSH), read as `https://host/owner/repo`
_SCP_LIKE = re.compile(r"^[\w.-]+@([\w.-]+):(?!//)(.+)$")


class GitError(Exception):
    """The path is not a git checkout, git is missing, or the checkout has no commit yet."""


@dataclass(frozen=True)
class Checkout:
    commit: str
    #: the `origin` remote as a web address, None without one (a local-only repository)
    repository_url: str | None
    dirty: bool

    @property
    def revision_url(self) -> str:
        """The version's revision: the commit's page on the remote when there is one, else the
        commit alone (unique on the worker either way, so a repeat finds the same version)."""
        if self.repository_url:
            return f"{self.repository_url}/commit/{self.commit}"
        return self.commit


def _git(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(path), *args], capture_output=True, text=True, timeout=30, check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (needed by --from-git).") from None


def web_url(remote: str) -> str:
    """A remote as the repository URL a person opens: SSH forms become https, `.git` dropped."""
    url = remote.strip()
    match = _SCP_LIKE.match(url)
    if match:
        url = f"https://{match.group(1)}/{match.group(2)}"
    elif url.startswith("ssh://"):
        url = "https://" + re.sub(r"^[^@/]*@", "", url.removeprefix("ssh://"))
    return url.removesuffix("/").removesuffix(".git")


def read_checkout(path: Path) -> Checkout:
    head = _git(path, "rev-parse", "HEAD")
    if head.returncode != 0:
        detail = head.stderr.strip().splitlines()[-1:] or ["no commit"]
        raise GitError(f"{path} is not a git checkout with a commit ({detail[0]}).")
    remote = _git(path, "remote", "get-url", "origin")
    status = _git(path, "status", "--porcelain")
    if status.returncode != 0:
        raise GitError(f"git status failed in {path}: {status.stderr.strip()}")
    return Checkout(
        commit=head.stdout.strip(),
        repository_url=web_url(remote.stdout) if remote.returncode == 0 and remote.stdout.strip() else None,
        dirty=bool(status.stdout.strip()),
    )
