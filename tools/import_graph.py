"""Print ClearSignal's import graph between rooms, and what breaks the layering.

    .venv/bin/python tools/import_graph.py [--depth N] [ROOT_DIR]

A "room" is a module path cut at ``--depth`` parts (2 by default: ``collector.ingest``,
``aggregator.jobs``, ``clearsignal.settings``...). For each pair of rooms it prints how
many module-level imports go from one to the other, then the cycles between rooms and the
imports that go upward in the layers of docs/design.md. Runs on any checkout (``ROOT_DIR``,
default the current directory), so that two versions can be compared.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import grimp

PACKAGES = ("clearsignal", "simulator", "collector", "aggregator", "consent")
LAYERS = ("clearsignal.cli", "simulator", "collector", "aggregator", "consent", "clearsignal")
ENTRY_POINTS = ("clearsignal.__main__",)  # `python -m clearsignal`: the command line


def _layer(module: str) -> int:
    if module in ENTRY_POINTS:
        return 0
    for rank, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return len(LAYERS)


def _room(module: str, depth: int) -> str:
    if (
        module in ENTRY_POINTS
        or module == "clearsignal.cli"
        or module.startswith("clearsignal.cli.")
    ):
        return "clearsignal.cli"  # the top layer, though it shares the ground's package
    return ".".join(module.split(".")[:depth])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=".", type=Path)
    parser.add_argument("--depth", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    present = [p for p in PACKAGES if (args.root / p).is_dir()]
    graph = grimp.build_graph(*present, cache_dir=None)
    edges: Counter[tuple[str, str]] = Counter()
    upward: list[tuple[str, str]] = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            source, target = _room(importer, args.depth), _room(imported, args.depth)
            if source != target:
                edges[source, target] += 1
            if _layer(imported) < _layer(importer):
                upward.append((importer, imported))
    print(f"{len(graph.modules)} modules, {sum(edges.values())} imports between rooms")
    for (source, target), count in sorted(edges.items()):
        print(f"  {source:<28} -> {target:<28} {count:>3}")
    cycles = sorted({tuple(sorted(pair)) for pair in edges if (pair[1], pair[0]) in edges})
    print(f"rooms that import each other: {len(cycles)}")
    for first, second in cycles:
        print(f"  {first} <-> {second}")
    print(f"imports upward in the layers: {len(upward)}")
    for importer, imported in upward:
        print(f"  {importer} -> {imported}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
