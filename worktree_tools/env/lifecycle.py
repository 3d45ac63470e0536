"""An environment's life, driven by the worktree lease: made at alloc (ignored files, slots,
setup), ended before gc removes the worktree or at `release --state done` (teardown).

Each step remembers in the worktree's memo (wtdir.State) that it ran, so an alloc killed
midway is finished by the next alloc of the same agent, a failed or unapproved setup is
retried by it, and a teardown done at release is not repeated by gc.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core import faults, statefiles
from worktree_tools.env import include, setup, slots, wtdir
from worktree_tools.env.setup import Phase, RunReport, RunStatus
from worktree_tools.worktrees import placement
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import Record

PENDING = "pending"
_RETRY = {PENDING, RunStatus.FAILED.value, RunStatus.UNTRUSTED.value}


@dataclass(frozen=True)
class Plan:
    """What alloc asked for, validated before anything changes."""

    mode: include.Mode
    slot_names: tuple[str, ...]
    timeout: float


def plan(repo: Repo, slot_names: Sequence[str]) -> Plan:
    names = tuple(dict.fromkeys(slots.check_slot_name(n) for n in slot_names))
    for name in names:
        raw = repo.config(f"wt.slot.{name}.range")
        if raw:
            slots.parse_range(raw)
    return Plan(
        mode=include.Mode.parse(repo.config(include.CONFIG_KEY)),
        slot_names=names,
        timeout=setup.timeout_of(repo.config("wt.env.timeout")),
    )


@dataclass
class EnvReport:
    include: include.IncludeReport | None = None
    slots: dict[str, int] = field(default_factory=dict)
    setup: RunReport | None = None

    @property
    def setup_failed(self) -> bool:
        return self.setup is not None and self.setup.status is RunStatus.FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "include": self.include.to_json() if self.include else None,
            "slots": dict(self.slots),
            "setup": self.setup.to_json() if self.setup else None,
        }

    def messages(self) -> list[str]:
        out: list[str] = []
        if self.include is not None and self.include.skipped_count:
            shown = ", ".join(f"{s['path']} ({s['reason']})" for s in self.include.skipped[:5])
            out.append(f".worktreeinclude: {self.include.skipped_count} path(s) skipped: {shown}")
        if self.setup is not None and self.setup.message():
            out.append(str(self.setup.message()))
        return out


def _main_tree(repo: Repo, tree: Path) -> Path | None:
    if repo.commondir.name != ".git":
        return None  # a bare repository has no main worktree to bring files from
    main = placement.main_dir(repo.commondir)
    return None if os.path.realpath(main) == os.path.realpath(tree) else main


def env_for(repo: Repo, rec: Record, held: dict[str, int]) -> dict[str, str]:
    env = wtdir.env_vars(rec.agent, Path(rec.path), held)
    env["WT_MAIN_WORKTREE"] = os.fspath(placement.main_dir(repo.commondir))
    return env


def after_alloc(repo: Repo, rec: Record, p: Plan, *, created: bool) -> EnvReport:
    """Bring the environment of AGENT's worktree up to date. The caller holds the agent lock."""
    tree, admin = Path(rec.path), Path(rec.admin_dir)
    report = EnvReport()
    state = wtdir.load_state(admin)
    if created or not state.included:
        main = _main_tree(repo, tree)
        if main is not None:
            report.include = include.bring(main, tree, p.mode)
        state = wtdir.update(admin, included=True)
    for name in p.slot_names:
        slots.take(repo, rec.agent, name, None)
    report.slots = slots.of_agent(repo, rec.agent)
    if report.slots or (tree / statefiles.WT_DIR / statefiles.WT_ENV).exists():
        wtdir.write_env(tree, rec.agent, report.slots)
    if created or state.torn_down or state.setup in _RETRY:
        wtdir.update(admin, setup=PENDING, torn_down=False)
        faults.point("wt-env-setup")
        report.setup = setup.run(
            Phase.SETUP, tree, repo.commondir, env_for(repo, rec, report.slots), p.timeout
        )
        wtdir.update(admin, setup=report.setup.status.value)
    return report


def teardown(repo: Repo, rec: Record) -> RunReport:
    """Run the teardown commands once (at release as done, or before gc removes the worktree).
    Never raises: a failure is in the report, and gc goes on saving and removing."""
    tree, admin = Path(rec.path), Path(rec.admin_dir)
    if not tree.is_dir():
        return RunReport(Phase.TEARDOWN, RunStatus.SKIPPED)
    if wtdir.load_state(admin).torn_down:
        return RunReport(Phase.TEARDOWN, RunStatus.SKIPPED)
    try:
        timeout = setup.timeout_of(repo.config("wt.env.timeout"))
        held = slots.recorded(repo, rec.agent)
    except Exception as err:  # a bad setting or slot table must not stop gc
        return RunReport(Phase.TEARDOWN, RunStatus.FAILED, output_tail=str(err))
    report = setup.run(Phase.TEARDOWN, tree, repo.commondir, env_for(repo, rec, held), timeout)
    if report.status in (RunStatus.OK, RunStatus.NONE):
        with contextlib.suppress(OSError):
            wtdir.update(admin, torn_down=True)
    return report
