"""Architecture figures for the package: modules over 400 lines, import cycles, and the longest
chain of project imports that `wt-commit` loads. Usage: python scripts/architecture.py [ROOT]."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PKG = "worktree_tools"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_imports(root: Path) -> dict[str, set[str]]:
    """Module-level imports between the package's own modules (what runs at import time)."""
    files = {module_name(root, p): p for p in (root / PKG).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        deps: set[str] = set()
        for node in ast.parse(path.read_text()).body:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            deps.update(t for t in targets if t in files and t != name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def wt_commit_chain(root: Path) -> tuple[int, int]:
    """(longest nesting of project imports, project modules loaded) for one real `wt-commit`."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PYTHONPATH": str(root), "PATH": os.environ["PATH"], "HOME": tmp}
        env |= {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a"}
        env |= {"GIT_COMMITTER_EMAIL": "a@b"}
        subprocess.run(["git", "init", "-q", tmp], check=True, env=env)
        Path(tmp, "f").write_text("x\n")
        code = "import sys; sys.argv=['wt-commit','-m','x','--','f']\n"
        code += "from worktree_tools.cli import wt_commit_main\nwt_commit_main()\n"
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            cwd=tmp,
            capture_output=True,
            text=True,
            env=env,
        )
    depth, count = 0, 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        name = line.rsplit("|", 1)[1]
        if name.strip().startswith(PKG):
            count += 1
            depth = max(depth, (len(name) - len(name.lstrip())) // 2)
    return depth, count


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
    big = sorted(
        (n, p.relative_to(root))
        for p in (root / PKG).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    )
    graph = module_imports(root)
    found = cycles(graph)
    depth, count = wt_commit_chain(root)
    readme = len((root / "README.md").read_text().splitlines())
    print(f"modules: {len(graph)}; over 400 lines: {len(big)} {[str(p) for _, p in big]}")
    print(f"import cycles (module level): {len(found)} {found}")
    print(f"one wt-commit: {count} project modules, longest import chain {depth}")
    print(f"README lines: {readme}")


if __name__ == "__main__":
    main()
