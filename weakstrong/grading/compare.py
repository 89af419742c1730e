"""Layer 7: comparison of two answer trees.  Exact where that is decidable (numbers, texts, letters, times,
ratios, sets, tuples, matrices, relations written alike), quick floating-point rejection for expressions,
and sympy for the rest when ``deep`` (``_compare`` and the sympy verdict live apart: sympy never calls back
into this module)."""

from __future__ import annotations

import re

from weakstrong.grading.exact import _Num, _numbers_equal
from weakstrong.grading.quick import _quick_differs
from weakstrong.grading.symbolic import _deep_equal
from weakstrong.grading.text import _units_differ
from weakstrong.grading.trees import _FLIP, _node, _ratios_equal, _times_equal, _wrapped

_SCALARS = {"num", "inf", "base", "text", "choice"}
_COLLECTIONS = {"tuple", "set", "matrix"}


def _all3(results) -> bool | None:
    """Three-valued AND."""
    undecided = False
    for r in results:
        if r is False:
            return False
        if r is None:
            undecided = True
    return None if undecided else True


def _same_sets(p_items, g_items, deep: bool) -> bool | None:
    """Set equality: every item matched by some item of the other side."""
    if not p_items or not g_items:
        return not p_items and not g_items
    table = [[_compare(p, g, deep) for g in g_items] for p in p_items]
    rows = all(any(r is True for r in row) for row in table)
    cols = all(any(table[i][j] is True for i in range(len(p_items))) for j in range(len(g_items)))
    if rows and cols:
        return True
    if deep or not any(r is None for row in table for r in row):
        return False
    return None


def _compare(p: tuple, g: tuple, deep: bool) -> bool | None:
    """True/False, or None when only sympy can tell (never None when ``deep``)."""
    pk, gk = p[0], g[0]
    if pk in ("empty", "junk") or gk in ("empty", "junk"):
        return False
    if p[1] == g[1] and pk == gk:
        return True
    if pk == "assign" and gk == "assign":
        return _compare(p[2][1], g[2][1], deep) if p[2][0] == g[2][0] else False
    if pk == "assign" and gk != "rel":
        return _compare(p[2][1], g, deep)
    if gk == "assign" and pk != "rel":
        return _compare(p, g[2][1], deep)
    if pk == "time" or gk == "time":
        if pk == gk:
            return _times_equal(p[2], g[2])
        other = g if pk == "time" else p
        if other[0] != "num" or other[2].decimals is not None or other[2].value not in range(24):
            return False
        hour = (int(other[2].value), 0, 0, None)  # a whole hour written as a number: "9" for "9 a.m."
        return _times_equal(p[2] if pk == "time" else hour, hour if pk == "time" else g[2])
    if pk == "ratio" or gk == "ratio":
        if pk == gk:
            return _ratios_equal(p[2], g[2])
        ratio, other = (p, g) if pk == "ratio" else (g, p)
        if len(ratio[2]) != 2 or ratio[2][1] == 0 or other[0] not in ("num", "expr"):
            return False
        as_num = ("num", ratio[1], _Num(ratio[2][0] / ratio[2][1]))  # a:b read as the number a/b
        return _compare(as_num, g, deep) if ratio is p else _compare(p, as_num, deep)
    if pk == "expr" or gk == "expr":
        if pk == gk and p[2] == g[2]:
            return True
        if pk == "choice" or gk == "choice":  # gold "(C)" vs prediction "c"
            other = g if pk == "choice" else p
            if re.fullmatch(r"[A-Za-z]", other[2]):
                return other[2].upper() == (p[2] if pk == "choice" else g[2])
        if _quick_differs(p, g):
            return False
        return _deep_equal(p, g) if deep else None
    if pk == "num" and gk == "num":
        return _numbers_equal(p[2], g[2])
    if pk == "inf" and gk == "inf":
        return p[2] == g[2]
    if pk == "base" or gk == "base":
        if pk == gk:
            return p[2][0] == g[2][0] and p[2][1] == g[2][1]
        other = g if pk == "base" else p
        base = p if pk == "base" else g
        return other[0] == "num" and other[2].value.denominator == 1 and str(other[2].value) == base[2][0]
    if pk == "text" and gk == "text":
        return p[2] == g[2]
    if pk == "choice" and gk == "choice":
        return p[2] == g[2]
    if pk == "set" and gk == "set":
        return _same_sets(p[2], g[2], deep)
    if pk == "set" or gk == "set":  # a one-element list vs a scalar; a bare list vs a tuple
        st, other = (p, g) if pk == "set" else (g, p)
        if other[0] == "tuple" and not _wrapped(st[1]) and other[2][:2] == ("(", ")"):
            items = st[2]
            pairs = zip(items, other[2][2]) if st is p else zip(other[2][2], items)
            return _all3(_compare(a, b, deep) for a, b in pairs) if len(items) == len(other[2][2]) else False
        if len(st[2]) == 1 and other[0] != "union":
            return _compare(st[2][0], other, deep) if st is p else _compare(p, st[2][0], deep)
        if other[0] in _SCALARS or other[0] in _COLLECTIONS:
            return False
    if pk == "tuple" and gk == "tuple":
        (po, pc, pi), (go, gc, gi) = p[2], g[2]
        if po != go or pc != gc or len(pi) != len(gi):
            return False
        return _all3(_compare(a, b, deep) for a, b in zip(pi, gi))
    if pk == "matrix" and gk == "matrix":
        if len(p[2]) != len(g[2]) or any(len(a) != len(b) for a, b in zip(p[2], g[2])):
            return False
        return _all3(_compare(a, b, deep) for ra, rb in zip(p[2], g[2]) for a, b in zip(ra, rb))
    if pk == "union" and gk == "union":
        r = _same_sets(p[2], g[2], False)
        if r:
            return True
        return _deep_equal(p, g) if deep else None
    if pk in ("union", "rel") or gk in ("union", "rel"):
        if pk == "rel" and gk == "rel" and _rel_same_text(p[2], g[2]):
            return True
        if {pk, gk} & {"text", "choice", "matrix", "base", "num", "inf"}:
            return False  # a set or relation is never a number (sympy agrees: no scalar is a set)
        return _deep_equal(p, g) if deep else None
    return False


def _rel_same_text(p, g) -> bool:
    (pops, pparts), (gops, gparts) = p, g
    if pops == gops and pparts == gparts:
        return True
    flipped = tuple(_FLIP.get(o, o) for o in reversed(pops))
    return flipped == gops and tuple(reversed(pparts)) == gparts


def _full_equal(prediction: str, gold: str) -> bool:
    if _units_differ(prediction, gold):
        return False
    return bool(_compare(_node(prediction), _node(gold), deep=True))
