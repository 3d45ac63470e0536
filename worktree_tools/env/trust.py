"""`.wtconfig` and its approval: commands from the repository run only once a person on this
machine approved that exact file (`git wt trust`).

`.wtconfig` is committed, in git-config syntax (`[env] setup = ...`, `teardown = ...`, each
repeatable, run in order). It is read with `git config --file --no-includes`, so it can never
pull in another file. Approvals live in `$XDG_CONFIG_HOME/git-wt/trust.json` (per user, per
machine, never in the repository), keyed by the repository's git dir and the file's SHA-256: a
changed file is untrusted again until approved again.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from filelock import FileLock

from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.gitcmd import clean_env, git
from worktree_tools.core.statefiles import ENV_CONFIG as CONFIG_FILE
from worktree_tools.worktrees.records import atomic_write_json, now_iso

STORE_VERSION = 1


class Trust(str, Enum):
    NONE = "none"  # no .wtconfig, or no commands in it
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"  # never approved on this machine
    CHANGED = "changed"  # an earlier version was approved; this one is not


@dataclass(frozen=True)
class EnvConfig:
    path: str
    sha256: str
    setup: tuple[str, ...]
    teardown: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "setup": list(self.setup),
            "teardown": list(self.teardown),
        }


def read_config(tree: Path) -> EnvConfig | None:
    """The `.wtconfig` of a worktree, or None. A link or a malformed file is refused."""
    path = tree / CONFIG_FILE
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(
            f"{path} is not a regular file (a link is never followed); its commands do not run",
            fix=f"replace {path} with a plain file",
        )
    data = path.read_bytes()
    return EnvConfig(
        path=os.fspath(path),
        sha256=hashlib.sha256(data).hexdigest(),
        setup=_values(path, "env.setup"),
        teardown=_values(path, "env.teardown"),
    )


def _values(path: Path, key: str) -> tuple[str, ...]:
    res = git(
        ["config", "--file", os.fspath(path), "--no-includes", "-z", "--get-all", key],
        cwd=path.parent,
        env=clean_env(),
        check=False,
    )
    if res.returncode == 1:
        return ()
    if res.returncode != 0:
        raise InvalidInput(
            f"{path} cannot be read as git config: {res.err.strip()}; its commands do not run",
            fix=f"git config --file {path} --list (shows the error), then fix the file",
        )
    return tuple(v for v in res.out.split("\0") if v.strip())


def store_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "git-wt" / "trust.json"


def _load_store() -> list[dict[str, Any]]:
    path = store_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise _corrupt(path, exc) from None
    if not isinstance(data, dict) or data.get("version") != STORE_VERSION:
        raise _corrupt(path, ValueError("not a version-1 trust store"))
    entries = data.get("approved")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _corrupt(path, ValueError("'approved' is not a list of objects"))
    return entries


def _corrupt(path: Path, exc: Exception) -> InvalidInput:
    return InvalidInput(
        f"trust store {path} is unreadable ({exc}); no repository command runs until it is "
        "repaired, and it was not overwritten",
        fix=f"move {path} away, then git wt trust again",
    )


def _repo_key(commondir: Path) -> str:
    return os.path.realpath(commondir)


def status(commondir: Path, cfg: EnvConfig | None) -> Trust:
    if cfg is None or not (cfg.setup or cfg.teardown):
        return Trust.NONE
    key = _repo_key(commondir)
    mine = [e for e in _load_store() if e.get("repo") == key]
    if any(e.get("sha256") == cfg.sha256 for e in mine):
        return Trust.TRUSTED
    return Trust.CHANGED if mine else Trust.UNTRUSTED


def approve(commondir: Path, cfg: EnvConfig) -> None:
    """Record that a person approved this exact file for this repository."""
    with _store_lock():
        _approve(commondir, cfg)


def _approve(commondir: Path, cfg: EnvConfig) -> None:
    entries = _load_store()
    key = _repo_key(commondir)
    entries = [e for e in entries if not (e.get("repo") == key and e.get("sha256") == cfg.sha256)]
    entries.append(
        {
            "repo": key,
            "sha256": cfg.sha256,
            "approved_at": now_iso(),
            "setup": list(cfg.setup),
            "teardown": list(cfg.teardown),
        }
    )
    atomic_write_json(store_path(), {"version": STORE_VERSION, "approved": entries})


def _store_lock() -> FileLock:
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(os.fspath(path) + ".lock")


def revoke(commondir: Path) -> bool:
    """Forget every approval of this repository's `.wtconfig`."""
    with _store_lock():
        return _revoke(commondir)


def _revoke(commondir: Path) -> bool:
    entries = _load_store()
    key = _repo_key(commondir)
    kept = [e for e in entries if e.get("repo") != key]
    if len(kept) == len(entries):
        return False
    atomic_write_json(store_path(), {"version": STORE_VERSION, "approved": kept})
    return True
