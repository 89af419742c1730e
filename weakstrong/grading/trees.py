"""Layer 4: answer trees.  A cleaned answer parsed into a small tree (number, text, choice letter, clock time,
ratio, tuple/interval, set, union, relation, matrix, expression) by plain string code, linear in its length,
and the comparisons of clock times and ratios."""

from __future__ import annotations

import re
from functools import lru_cache

from weakstrong.grading.exact import _number
from weakstrong.grading.text import _PLAIN_NUMBER_RE, MAX_ANSWER_CHARS, _clean, _key

# A node is a tuple (kind, src, payload):
#   "empty"/"junk"   payload None
#   "num"            _Num
#   "inf"            +1 / -1
#   "base"           (digits, base)
#   "text"           lower-cased words
#   "choice"         upper-case letter
#   "tuple"          (open, close, items)         ordered: tuples, points, intervals
#   "set"            items                        \{...\} and bare lists (unordered)
#   "union"          items                        A \cup B
#   "matrix"         rows (tuple of tuples of nodes)
#   "assign"         (var, node)                  x = ...
#   "rel"            (ops, parts)                 other (in)equalities, kept as strings
#   "time"           (hour, minute, second, "am"/"pm"/None)   a clock time, 3:45 or 3:45 PM
#   "ratio"          exact values                 a:b(:c...) of plain numbers that is not a clock time
#   "expr"           key string                   anything else (sympy decides)


_WORDS_RE = re.compile(r"^[A-Za-z][A-Za-z'\-]*(?:\s+[A-Za-z][A-Za-z'\-]*)*$")
_CHOICE_RE = re.compile(r"^(?:\(([A-Za-z])\)|([A-Z])|([A-Za-z])\))$")
_TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{2})(?::(\d{2}))?)?(?:([ap])\.?m\.?)?$", re.IGNORECASE)
_RATIO_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?::(?:\d+(?:\.\d+)?|\.\d+))+$")


def _clock(k: str) -> tuple[int, int, int, str | None] | None:
    """(hour, minute, second, "am"/"pm"/None) for a clock time "3:45", "03:45:10", "3:45pm", "3:45p.m.",
    "9am"; None when ``k`` is not one (minutes and seconds must be two digits below 60; the hour 1-12 with
    am/pm, 0-23 without; an hour alone needs am/pm).  A string that looks like a time is always read as
    one: "3:45" is never the ratio 3:45 or the fraction 3/45."""
    m = _TIME_RE.match(k)
    if not m or not (m.group(2) or m.group(4)):
        return None
    h, mi, sec = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    mer = m.group(4).lower() + "m" if m.group(4) else None
    if mi > 59 or sec > 59 or (mer and not 1 <= h <= 12) or (not mer and h > 23):
        return None
    return h, mi, sec, mer


def _times_equal(a: tuple, b: tuple) -> bool:
    """Clock times: equal when they name the same time of day.  With am/pm on one side only, the other
    side may be its 24-hour form ("15:45" = "3:45 PM") or the same 12-hour reading ("3:45" = "3:45 PM");
    two times without am/pm are compared as written ("3:45" != "15:45")."""
    def day(t):  # seconds after midnight of a time with am/pm
        h = t[0] % 12 + (12 if t[3] == "pm" else 0)
        return (h * 60 + t[1]) * 60 + t[2]

    if a[3] and b[3]:
        return day(a) == day(b)
    if not a[3] and not b[3]:
        return a[:3] == b[:3]
    with_, bare = (a, b) if a[3] else (b, a)
    return day(with_) == (bare[0] * 60 + bare[1]) * 60 + bare[2] or with_[:3] == bare[:3]


def _ratios_equal(p: tuple, g: tuple) -> bool:
    """a:b:c against d:e:f: the same proportions, by a positive factor."""
    if len(p) != len(g) or any((x == 0) != (y == 0) for x, y in zip(p, g)):
        return False
    factors = {x / y for x, y in zip(p, g) if y != 0}
    return len(factors) <= 1 and all(f > 0 for f in factors)


_OPENERS = "([{"
_CLOSERS = ")]}"
_REL_RE = re.compile(r"\\le(?![A-Za-z])|\\ge(?![A-Za-z])|\\ne(?![A-Za-z])|\\in(?![A-Za-z])|\\approx(?![A-Za-z])|<|>|=")
_VAR_RE = re.compile(r"^(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{?\w+\}?)?(?:\([A-Za-z]\))?$")
_BASE_RE = re.compile(r"^([0-9A-Z]+)_\{?(\d+)\}?$")
_MATRIX_RE = re.compile(r"^\\begin\{([pbBvV]?matrix|smallmatrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.S)
_FLIP = {"<": ">", ">": "<", "\\le": "\\ge", "\\ge": "\\le", "=": "=", "\\ne": "\\ne", "\\approx": "\\approx"}


def _split_top(s: str, sep_re: re.Pattern) -> list[tuple[str, str]]:
    """Split at depth-0 matches of ``sep_re``; returns [(separator-before, piece), ...]."""
    depth = 0
    pieces, last, prev_sep = [], 0, ""
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c in _OPENERS:
            depth += 1
        elif c in _CLOSERS:
            depth -= 1
        elif depth == 0:
            m = sep_re.match(s, i)
            if m and m.end() > i:
                pieces.append((prev_sep, s[last:i]))
                prev_sep, last, i = m.group(0), m.end(), m.end()
                continue
        i += 1
    pieces.append((prev_sep, s[last:]))
    return pieces


def _wrapped(s: str) -> tuple[str, str, str] | None:
    """(open, inner, close) when one bracket pair encloses the whole string."""
    if s.startswith("\\{") and s.endswith("\\}"):
        start, open_ = 1, "\\{"
    elif s and s[0] in "([":
        start, open_ = 0, s[0]
    else:
        return None
    depth = 0
    for i in range(start, len(s)):
        c = s[i]
        if c in _OPENERS:
            depth += 1
        elif c in _CLOSERS:
            depth -= 1
            if depth == 0:
                if i != len(s) - 1:
                    return None
                if open_ == "\\{":
                    return (open_, s[2:-2], "\\}") if s[i - 1] == "\\" else None
                return (open_, s[1:-1], c) if c in ")]" else None
    return None


_COMMA_RE = re.compile(r"\s*[,;]\s*")
_CUP_RE = re.compile(r"\s*\\cup(?![A-Za-z])\s*")
_PM_RE = re.compile(r"\\(?:pm|mp)(?![A-Za-z])")


def _collection(s: str, items: list[str]) -> tuple:
    nodes = []
    for it in items:
        n = _node(it)
        if n[0] == "set" and not _wrapped(it.strip()):  # flatten "1 \pm 2" inside a list
            nodes.extend(n[2])
        else:
            nodes.append(n)
    return tuple(nodes)


def _is_value(s: str) -> bool:
    """Does ``s`` (what comes before an approximate sign) write a value, not just name one?  It has a digit
    or pi and is not a bare variable: "\\frac{\\sqrt{2}}{2}", "\\pi/4", "\\pi", "x = 2\\sqrt{3}", but not "x",
    "x_1", "AB" or "\\theta" (in "x \\approx 0.71" the decimal is all the answer there is)."""
    k = _key(s)
    return bool(re.search(r"\d|\\pi(?![A-Za-z])", k)) and (k == "\\pi" or not _VAR_RE.match(k))


@lru_cache(maxsize=65536)
def _node(raw: str) -> tuple:
    if len(raw) > MAX_ANSWER_CHARS:
        return ("junk", raw[:50], None)
    s, is_text, _ = _clean(raw)
    if not s:
        return ("empty", s, None)
    if _PLAIN_NUMBER_RE.fullmatch(s):
        num = _number(s)
        if num is not None:
            return ("num", s, num)
    k = _key(s)
    m = _CHOICE_RE.match(k)
    if m:
        return ("choice", s, (m.group(1) or m.group(2) or m.group(3)).upper())
    if is_text or (_WORDS_RE.match(s) and re.search(r"[A-Za-z]{3}", s) and not s.startswith("\\")):
        return ("text", s, " ".join(s.lower().split()))
    m = _MATRIX_RE.match(s)
    if m and m.group(1) not in ("vmatrix", "Vmatrix"):
        rows = [r for r in re.split(r"\\\\", m.group(2)) if r.strip() and not r.strip().startswith("\\hline")]
        return ("matrix", s, tuple(tuple(_node(c.strip()) for c in r.split("&")) for r in rows))
    w = _wrapped(s)
    if w:
        open_, inner, close = w
        items = [p for _, p in _split_top(inner, _COMMA_RE)]
        if open_ == "\\{":
            return ("set", s, _collection(s, items) if inner.strip() else ())
        if len(items) >= 2:
            return ("tuple", s, (open_, close, tuple(_node(p) for p in items)))
        if open_ == "(" and close == ")":
            return _node(inner)
    items = [p for _, p in _split_top(s, _COMMA_RE)]
    if len(items) >= 2:
        return ("set", s, _collection(s, items))
    parts = _split_top(s, _CUP_RE)
    if len(parts) >= 2:
        return ("union", s, tuple(_node(p) for _, p in parts))
    parts = _split_top(s, _REL_RE)
    if len(parts) >= 2:
        ops = tuple(op.strip() for op, _ in parts[1:])
        sides = [p.strip() for _, p in parts]
        if "\\approx" in ops:  # "\frac{\sqrt2}{2} \approx 0.71": the exact value is the answer, not its rounding
            head = "".join(op + part for op, part in parts[: ops.index("\\approx") + 1]).strip()
            if _is_value(head):
                return _node(head)
        if ops in (("\\in",), ("\\approx",)) or (ops == ("=",) and _VAR_RE.match(_key(sides[0]))):
            if ops == ("=",):
                return ("assign", s, (_key(sides[0]).lower(), _node(sides[1])))
            return _node(sides[1])
        lhs = _wrapped(_key(sides[0]))
        if ops == ("=",) and lhs and all(_VAR_RE.match(v) for v in lhs[1].split(",")):  # (x,y)=(2,3)
            return _node(sides[1])
        if ops == ("=",) and _VAR_RE.match(_key(sides[1])):
            return ("assign", s, (_key(sides[1]).lower(), _node(sides[0])))
        return ("rel", s, (ops, tuple(_key(x) for x in sides)))
    if len(_PM_RE.findall(s)) == 1:
        plus, minus = _PM_RE.sub("+", s), _PM_RE.sub("-", s)
        plus = re.sub(r"^\s*\+", "", plus)
        return ("set", s, (_node(plus), _node(minus)))
    if k in ("\\infty", "+\\infty", "-\\infty"):
        return ("inf", s, -1 if k.startswith("-") else 1)
    m = _BASE_RE.match(k)
    if m:
        return ("base", s, (m.group(1), m.group(2)))
    if ":" in k or k[-1:] in "mM.":
        t = _clock(k)
        if t is not None:
            return ("time", s, t)
        if _RATIO_RE.match(k):
            parts = tuple(_number(x) for x in k.split(":"))
            if all(x is not None for x in parts):
                return ("ratio", s, tuple(x.value for x in parts))
    num = _number(k)
    if num is not None:
        return ("num", s, num)
    return ("expr", s, k)
