"""doctor's finding kinds are an Enum end to end: watch maps every one of them (git's locks by
age, the rest by one table) and the JSON keeps the words it always printed."""

from __future__ import annotations

from worktree_tools.health.doctor import DoctorFinding, DoctorKind
from worktree_tools.health.watch_doctor import WATCH_KIND


def test_watch_names_every_kind_doctor_finds() -> None:
    judged_by_age = {DoctorKind.STALE_LOCK, DoctorKind.LIVE_LOCK}
    assert set(WATCH_KIND) | judged_by_age == set(DoctorKind)
    assert WATCH_KIND[DoctorKind.ORPHAN_HOOK_UNPROVEN].value == "orphan_hook"


def test_a_finding_prints_its_kind_as_the_word() -> None:
    finding = DoctorFinding(DoctorKind.HOOKS_BYPASSED, "/x/.git/hooks/pre-commit", "d", True)
    assert finding.to_json()["kind"] == "hooks_bypassed"
    assert DoctorKind.parse("stale_lock") is DoctorKind.STALE_LOCK
