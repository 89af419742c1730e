"""Typed studies for tests: a study with one setting changed, and small in-memory studies."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

from weakstrong.study_config import Model, Pair, Study

REPO = Path(__file__).resolve().parents[2]


def edit(value, path: str, new):
    """``value`` (a study, a section or a mapping) with the setting at the slash-separated ``path`` replaced by
    ``new`` (None: unset); the original is left as it was."""
    key, _, rest = path.partition("/")
    if isinstance(value, dict):
        return {**value, key: edit(value[key], rest, new) if rest else new}
    return dataclasses.replace(value, **{key: edit(getattr(value, key), rest, new) if rest else new})


@lru_cache(maxsize=1)
def test_config_study() -> Study:
    """configs/test.yaml, built (one copy: studies are frozen)."""
    from weakstrong.config import load

    return load(REPO / "configs" / "test.yaml")


def pair_study(weak_params=1e9, strong_params=3e9, budgets=None, match="compute") -> Study:
    """The test study with one pair "p" of models "weak" and "strong" (priced 1.0 and 4.4 USD per million
    tokens) and student "student", on dataset "d": what the cost functions read, nothing checked."""
    budgets = budgets or {"low": 1, "high": 10}
    models = {"weak": Model("weak", False, source="w", parameters=weak_params, price_per_million_tokens=1.0),
              "strong": Model("strong", False, source="s", parameters=strong_params, price_per_million_tokens=4.4),
              "student": Model("student", False, source="x", parameters=1e9)}
    pairs = {"p": Pair("p", "weak", "strong", match, list(budgets), ["d"], ["student", "weak", "strong"])}
    return dataclasses.replace(test_config_study(), models=models, generator_pairs=pairs, budgets=budgets)
