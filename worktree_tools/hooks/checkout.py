"""The isolated hook checkout: a private repository where commit hooks run.

Hook managers rewrite the working tree they run in (pre-commit stashes "unstaged" changes, runs
`git checkout -- .`, then re-applies its patch) and use the stash, which is one ref for every
worktree of a repository (lint-staged backs up with `git stash store`, lefthook drops every
stash entry with its label). So, by default, hooks run in a checkout of their own: one per live
worktree, reused across commits (commits of one worktree are serialized, so it has one user at a
time) and synced before each commit to exactly the tree being committed, with HEAD on a branch of
the same name at its parent.

The checkout is a repository of its own, not a linked worktree: its refs (the stash included),
index and hooks are private to it, so no hook run there sees, applies, drops or leaves behind a
stash entry of anyone else. It reads the repository's objects through `objects/info/alternates`
and its configuration through `[include]`; objects a hook writes (the fixes it stages) are copied
back into the repository after each run. It lives outside every `.git` directory (tools such as
Jest skip any path containing `/.git/`): by default beside the main worktree in
`../REPO.worktrees/.hooks/`, or under `git config wt.hookCheckoutDir DIR`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from worktree_tools.core import atomic
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.gitcmd import clean_env, git
from worktree_tools.core.repo import Worktree, discover, empty_tree
from worktree_tools.hooks import deps

LEGACY_DIR = "hook-worktrees"  # before: <common git dir>/wt/hook-worktrees/<key>
HOOK_WORKTREES = LEGACY_DIR  # (the guard treats checkouts left there as ours)
DIR_KEY = "wt.hookcheckoutdir"
DEPS_KEY = "wt.hookdeps"
SHARED_REF_PREFIXES = ("refs/heads/", "refs/tags/", "refs/remotes/")


@dataclass(frozen=True)
class HookConfig:
    root: Path
    deps: list[str]

    @classmethod
    def read(cls, wt: Worktree) -> HookConfig:
        res = wt.git(["config", "-z", "--get-regexp", r"^wt\.hook(checkoutdir|deps)$"], check=False)
        root: str | None = None
        names: list[str] = []
        for item in res.out.split("\0"):
            key, _, value = item.partition("\n")
            if key.lower() == DIR_KEY:
                root = value
            elif key.lower() == DEPS_KEY:
                names.append(value)
        return cls(hook_root(wt, root), deps.parse_names(names))


def default_root(wt: Worktree) -> Path:
    """`../REPO.worktrees/.hooks`: beside the agents' worktrees, outside every git dir."""
    from worktree_tools.worktrees import placement

    return placement.default_dir(wt.commondir) / ".hooks"


def hook_root(wt: Worktree, configured: str | None) -> Path:
    """`wt.hookCheckoutDir` (relative to the main worktree, or absolute), else the default; a
    location inside a `.git` directory is refused with the reason."""
    if not configured:
        return default_root(wt)
    from worktree_tools.worktrees import placement

    root = Path(os.path.expanduser(configured))
    if not root.is_absolute():
        root = placement.main_dir(wt.commondir) / root
    root = Path(os.path.normpath(root))
    why = placement.inside_git_dir(root, wt.commondir)
    if why is not None:
        raise InvalidInput(
            f"wt.hookCheckoutDir={configured} puts hook checkouts {why} (inside a .git "
            "directory); tools such as Jest ignore every path containing /.git/, so hooks there "
            "would check nothing; nothing was committed",
            fix=f"git config --unset wt.hookCheckoutDir (default: {default_root(wt)})",
        )
    return root


def checkout_path(wt: Worktree, root: Path) -> Path:
    # Distinct namespaces: a linked worktree may well be *named* "main"; a configured root may
    # be shared by several repositories.
    key = "main" if wt.is_main else f"linked-{wt.gitdir.name}"
    repo_id = hashlib.sha256(os.fsencode(os.path.realpath(wt.commondir))).hexdigest()[:8]
    return root / f"{key}-{repo_id}"


def ensure(wt: Worktree, config: HookConfig, path: Path | None = None) -> Worktree:
    """The hook checkout of `wt` (or the private checkout at `path`, as the land queue's),
    created on first use (the caller's lock makes it the only user)."""
    path = path or checkout_path(wt, config.root)
    if (path / ".git" / "wt-hook-checkout").exists():
        with contextlib.suppress(InvalidInput):
            found = discover(path)
            if found.toplevel == path:
                return found
    _retire_legacy(wt)
    if path.exists():
        shutil.rmtree(path)  # damaged: its files are a copy of a commit, recreated below
    path.mkdir(parents=True)
    git(["init", "-q", "--template=", os.fspath(path)], cwd=path, env=clean_env())
    gd = path / ".git"
    (gd / "objects" / "info").mkdir(parents=True, exist_ok=True)
    (gd / "objects" / "info" / "alternates").write_text(
        os.fspath(wt.commondir / "objects") + "\n", encoding="utf-8"
    )
    fmt = wt.git(["config", "--get", "extensions.objectformat"], check=False).out.strip()
    version = "1" if fmt else "0"
    ext = f"[extensions]\n\tobjectformat = {fmt}\n" if fmt else ""
    # The repository's own settings first (identity, filters, core.autocrlf...), then ours.
    (gd / "config").write_text(
        f"[include]\n\tpath = {_quote(os.fspath(wt.commondir / 'config'))}\n"
        f"[core]\n\trepositoryformatversion = {version}\n\tbare = false\n"
        f"\tworktree = {_quote(os.fspath(path))}\n"
        f"\thooksPath = {_quote(os.fspath(gd / 'hooks'))}\n\tlogallrefupdates = true\n"
        "\tfsmonitor = false\n"
        "[gc]\n\tauto = 0\n\tpruneExpire = never\n[maintenance]\n\tauto = false\n" + ext,
        encoding="utf-8",
    )
    (gd / "info").mkdir(exist_ok=True)
    (gd / "wt-hook-checkout").write_text(f"private checkout for {wt.toplevel}\n", encoding="utf-8")
    return discover(path)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _retire_legacy(wt: Worktree) -> None:
    """A linked hook checkout under the old default (inside .git): unregister and remove it."""
    key = "main" if wt.is_main else f"linked-{wt.gitdir.name}"
    old = wt.state_dir / LEGACY_DIR / key
    if not old.exists():
        return
    from worktree_tools.guard import permit

    with permit.granted(wt):  # removing it drops its HEAD: our own ref change
        wt.git(["worktree", "unlock", os.fspath(old)], check=False)
        wt.git(["worktree", "remove", "-f", "-f", os.fspath(old)], check=False)
    shutil.rmtree(old, ignore_errors=True)


def sync(wt: Worktree, hw: Worktree, tip: str, tree: str, config: HookConfig) -> list[str]:
    """Index and files = `tree`; HEAD = the committing branch (or detached) at `tip`; the
    repository's branches, tags and remote-tracking refs as they are now, and nothing else
    (no stash). Returns the dependency directories linked in."""
    gd = hw.gitdir
    _clear_private_state(gd)
    branch = wt.head_ref()
    res = wt.git(["for-each-ref", "--format=%(objectname) %(refname)", *SHARED_REF_PREFIXES])
    refs = {
        name: oid for oid, _, name in (ln.partition(" ") for ln in res.out.splitlines())
        if name.startswith(SHARED_REF_PREFIXES)
    }  # fmt: skip
    if branch is not None:
        refs[branch] = tip
    packed = "".join(f"{oid} {name}\n" for name, oid in sorted(refs.items()))
    _write(gd / "packed-refs", "# pack-refs with: sorted \n" + packed)
    _write(gd / "HEAD", f"ref: {branch}\n" if branch is not None else f"{tip}\n")
    hw.git(["read-tree", "--reset", "-u", tree])
    names = config.deps
    _write(gd / "info" / "exclude", "".join(f"/{n}\n" for n in names))
    hw.git(["clean", "-ffdq"])  # leftovers of earlier hook runs (ignored caches are kept)
    return deps.link_into(hw.toplevel, wt.toplevel, names, config.root / deps.STORE)


def _clear_private_state(gd: Path) -> None:
    """Refs, reflogs (the stash) and objects that earlier hook runs made."""
    for sub in ("refs", "logs"):
        shutil.rmtree(gd / sub, ignore_errors=True)
    for sub in ("refs/heads", "refs/tags"):
        (gd / sub).mkdir(parents=True, exist_ok=True)
    objects = gd / "objects"
    with contextlib.suppress(OSError):
        for entry in os.scandir(objects):
            if len(entry.name) == 2 or entry.name == "pack":
                shutil.rmtree(entry.path, ignore_errors=True)


def _write(path: Path, text: str) -> None:
    # Not durable: a hook checkout is rebuilt from the repository whenever it is in doubt.
    atomic.write_text(path, text, durable=False)


def export_objects(hw: Worktree, wt: Worktree) -> int:
    """Copy the objects hooks wrote in the checkout (staged fixes) into the repository."""
    src_root = hw.gitdir / "objects"
    dst_root = wt.commondir / "objects"
    count = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(src_root):
            if len(entry.name) != 2 or not entry.is_dir():
                continue
            for obj in os.scandir(entry.path):
                dst = dst_root / entry.name / obj.name
                if dst.exists():
                    continue
                dst.parent.mkdir(exist_ok=True)
                _link_or_copy(Path(obj.path), dst)
                count += 1
        pack = src_root / "pack"
        if pack.is_dir():  # a hook ran git gc there: packs first, their indexes last
            for suffix in (".pack", ".idx"):
                for p in pack.glob("*" + suffix):
                    if not (dst_root / "pack" / p.name).exists():
                        _link_or_copy(p, dst_root / "pack" / p.name)
                        count += 1
    return count


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except FileExistsError:
        pass
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        atomic.copy_file(src, dst, durable=False, mode=0o444)  # read-only, as git's objects


def index_tree(hw: Worktree) -> str:
    """The tree the hooks left staged (a hook may stage its fixes, as under git commit)."""
    return hw.git(["write-tree"]).out.strip()


@dataclass(frozen=True)
class CarryBack:
    written: list[str]
    not_written: list[str]


def carry_back_fixes(wt: Worktree, hw: Worktree, tip: str | None, tree: str) -> CarryBack:
    """Copy files that hooks changed in the hook checkout (left in its files, or staged by the
    manager) back to the live worktree: only paths this commit changes, and only where the live
    file still equals what was committed."""
    res = hw.git(["diff", "--name-only", "-z", "--no-renames", tree])
    fixed = [os.fsdecode(p) for p in res.stdout.split(b"\0") if p]
    if not fixed:
        return CarryBack([], [])
    res = wt.git(["diff-tree", "-r", "--name-only", "-z", tip or empty_tree(wt), tree])
    committed = {os.fsdecode(p) for p in res.stdout.split(b"\0") if p}
    candidates = [p for p in fixed if p in committed]
    skipped = [p for p in fixed if p not in committed]
    if not candidates:
        return CarryBack([], skipped)
    entries = _tree_blobs(wt, tree, candidates)
    regular = [p for p in candidates if _is_regular(os.fspath(wt.toplevel / p))]
    live_oids = dict(zip(regular, _hash_files(wt, regular), strict=True))
    written: list[str] = []
    for path in candidates:
        fixed_file = hw.toplevel / path
        ok = _is_regular(os.fspath(fixed_file))
        if ok and path in live_oids and live_oids[path] == entries.get(path):
            _replace_file(fixed_file, wt.toplevel / path)
            written.append(path)
        else:
            skipped.append(path)
    return CarryBack(written, skipped)


def _tree_blobs(wt: Worktree, tree: str, paths: list[str]) -> dict[str, str]:
    res = wt.git(["ls-tree", "-r", "-z", tree, "--", *paths], literal=True)
    out: dict[str, str] = {}
    for item in res.stdout.split(b"\0"):
        if item:
            meta, path = item.split(b"\t", 1)
            out[os.fsdecode(path)] = meta.split()[2].decode()
    return out


def _hash_files(wt: Worktree, paths: list[str]) -> list[str]:
    """Blob ids of the live files as git would store them (filters by path applied)."""
    if not paths:
        return []
    return wt.git(["hash-object", "--", *paths]).out.split()


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _replace_file(source: Path, target: Path) -> None:
    mode = stat.S_IMODE(os.lstat(source).st_mode)
    atomic.copy_file(source, target, durable=False, mode=mode)
