"""The one `main` of a benchmark module run on its own (`python scripts/bench_X.py --quick`).

`scripts/bench` imports the modules and calls their `run`; run alone, a module parses the same
two options, prints its section as a table (or as JSON), and exits 1 when a correctness gate
failed, through `bench_main` here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Section = dict[str, Any]
TARGET_FIELDS = ("name", "value", "unit", "op", "limit", "gate")


def target(
    name: str,
    value: float,
    unit: str,
    op: str = "<=",
    limit: float | None = None,
    gate: bool = False,
) -> dict[str, Any]:
    """One target row as the section modules return it (`met` None: information only)."""
    met = None
    if limit is not None:
        met = {"<": value < limit, "<=": value <= limit, "==": value == limit}[op]
    return {"name": name, "value": round(value, 3), "unit": unit, "op": op, "limit": limit,
            "met": met, "gate": gate}  # fmt: skip


def met(target: dict[str, Any]) -> bool | None:
    """Whether a target (a dict as the modules return them) is met; None: information only."""
    if "met" in target:
        return bool(target["met"]) if target["met"] is not None else None
    from bench import Target

    return Target(**{k: target[k] for k in TARGET_FIELDS if k in target}).met


def render(section: Section) -> str:
    """A section as text: its table, then its targets (MET / MISSED / info) and notes."""
    columns, rows = section["columns"], section["rows"]
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]

    def line(cells: Sequence[Any]) -> str:
        first = str(cells[0]).ljust(widths[0])
        rest = (str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  " + "  ".join([first, *rest])

    out = [f"== {section['title']} ({section.get('name', '-')})", line(columns)]
    out += ["  " + "  ".join("-" * w for w in widths), *map(line, rows), ""]
    for t in section.get("targets", []):
        verdict = {True: "MET", False: "MISSED", None: "info"}[met(t)]
        unit = t.get("unit") or ""
        value = f"{t['value']:.2f}{unit}" if unit else f"{t['value']:g}"
        if t.get("limit") is not None:
            value += f" (target {t.get('op', '<=')} {t['limit']:g}{unit})"
        out.append(f"  {verdict:<8} {t['name']}: {value}")
    out += [f"  note: {n}" for n in section.get("notes", [])]
    return "\n".join(out)


def gate_failures(section: Section) -> list[str]:
    """The correctness gates the section missed."""
    return [t["name"] for t in section.get("targets", []) if t.get("gate") and met(t) is False]


def bench_main(
    name: str,
    doc: str | None,
    run: Callable[[bool], Section],
    argv: Sequence[str] | None = None,
    *,
    quick: str = "a smoke run",
    show: Callable[[Section], str] = render,
    failed: Callable[[Section], list[str]] = gate_failures,
) -> int:
    """Parse `--quick` and `--json [FILE]`, run, print; 1 when a gate failed."""
    ap = argparse.ArgumentParser(prog=f"scripts/{name}.py", description=doc)
    ap.add_argument("--quick", action="store_true", help=quick)
    ap.add_argument(
        "--json", nargs="?", const="-", metavar="FILE",
        help="print the section as one JSON object (with FILE: write it there, print the table)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    section = run(args.quick)
    if args.json == "-":
        print(json.dumps(section, indent=2))
    else:
        print(show(section))
        if args.json:
            Path(args.json).write_text(json.dumps(section, indent=2) + "\n")
    broken = failed(section)
    if broken:
        print(f"{name}: correctness failed: {'; '.join(broken)}", file=sys.stderr)
        return 1
    return 0
