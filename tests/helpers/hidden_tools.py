"""A PATH without some programs, as on a fresh machine that lacks them (for example TeX)."""

from __future__ import annotations

import os
from pathlib import Path

#: The TeX engines a run could find.
TEX_ENGINES = ("pdflatex", "lualatex", "xelatex", "latex", "latexmk", "tectonic")


def path_without(tools: tuple[str, ...], shadow_root: Path, path: str | None = None) -> str:
    """``path`` (default ``$PATH``) with each directory that holds one of ``tools`` replaced by a shadow
    directory under ``shadow_root``: links to everything else in it, so only ``tools`` go missing."""
    entries = []
    for index, entry in enumerate((path if path is not None else os.environ["PATH"]).split(os.pathsep)):
        directory = Path(entry)
        if not any((directory / tool).exists() for tool in tools):
            entries.append(entry)
            continue
        shadow = shadow_root / f"path-{index}"
        shadow.mkdir(parents=True, exist_ok=True)
        for item in directory.iterdir():
            if item.name not in tools and not (shadow / item.name).exists():
                (shadow / item.name).symlink_to(item)
        entries.append(str(shadow))
    return os.pathsep.join(entries)
