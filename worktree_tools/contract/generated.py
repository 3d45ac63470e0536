"""Files the package ships that are rendered from its code (the JSON schemas, the man pages):
the one `--write` / stale check their modules run as `python -m MODULE [--write]`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def write_or_check(rendered: Mapping[Path, str], argv: Sequence[str], module: str) -> int:
    """`--write` in `argv`: write every file (0). Otherwise name each file that differs from
    what the code renders now, with the command that renders it, and return 1 if any did."""
    if "--write" in argv:
        for path, text in rendered.items():
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
        return 0
    stale = [p for p, text in rendered.items() if not p.exists() or p.read_text() != text]
    for path in stale:
        print(f"stale: {path} (run: python -m {module} --write)")
    return 1 if stale else 0
