"""The answer styles, the one list of them: a dataset's style (config ``datasets.<name>.style``) says how its
solutions end and so picks its prompt format (``prompts/<style>.yaml``), its grader, its arithmetic checker
and its toy problems. A new style is added here and to each of those; tests/test_styles.py checks they agree.

- ``math``: MATH's LaTeX solutions, the final answer in ``\\boxed{}``;
- ``gsm8k``: GSM8K's plain-text solutions with calculator annotations, the final answer after ``####``.
"""

from __future__ import annotations

STYLES = ("math", "gsm8k")


def check_style(style: str) -> str:
    """``style`` if it is a known answer style, else a ValueError naming the known ones."""
    if style not in STYLES:
        raise ValueError(f"unknown answer style {style!r}; expected one of {', '.join(STYLES)}")
    return style
