"""Pages with a generated part (docs/rules.md, docs/configuration.md): a command rewrites the text between a
begin marker line and an end marker line; the rest of the page is written by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def splice(page: str, begin: str, end: str, text: str, where: str) -> str:
    """``page`` with the text between its ``begin`` and ``end`` marker lines replaced by ``text``."""
    if page.count(begin) != 1 or page.count(end) != 1 or page.index(begin) > page.index(end):
        raise ValueError(f"{where}: needs one '{begin}' line and, after it, one '{end}' line")
    head, rest = page.split(begin)
    _, tail = rest.split(end)
    return f"{head}{begin}\n{text}\n{end}{tail}"


def rewrite(argv: list[str], command: str, with_generated: Callable[[str, str], str]) -> None:
    """The command line of a page's generator: ``argv`` names the page, which ``with_generated(text, where)``
    rewrites; a missing or broken marker stops with the message, the page untouched."""
    if len(argv) != 1:
        raise SystemExit(f"usage: python -m {command} PAGE")
    page = Path(argv[0])
    try:
        page.write_text(with_generated(page.read_text(encoding="utf-8"), str(page)), encoding="utf-8")
    except ValueError as error:
        raise SystemExit(str(error)) from None
