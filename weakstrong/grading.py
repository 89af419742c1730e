"""Answer extraction and equivalence grading for MATH- and GSM8K-style completions.

Public API (stable, other code calls exactly this):

* ``extract_answer(completion, style)`` -> final answer string or ``None``;
* ``is_equivalent(prediction, gold)`` -> bool;
* ``grade(completion, gold, style)`` -> bool (extract, then compare);
* ``grade_many(completions, golds, style, *, timeout, workers, progress)`` -> per-item dicts;
* ``GRADER_VERSION`` and ``grader_settings()`` (written beside every graded file).

Design: every answer is first cleaned (LaTeX noise, units, separators) and parsed
into a small tree (number, text, choice letter, tuple/interval, set, union,
relation, matrix, expression) by plain string code whose cost is linear in the
answer length.  Two trees are compared exactly where that is decidable without
sympy (numbers are exact ``Fraction`` values); only what is left undecided goes
to sympy (through Math-Verify's ``latex2sympy2_extended`` converter), and that
always runs in a worker process under a wall-clock deadline: a worker that
overruns is killed and replaced and the pair is graded False.  See
``docs/grading.md`` for the rules and their reasons.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing as mp
import os
import random
import re
import sys
import threading
import time
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from importlib import metadata
from multiprocessing.connection import wait as _wait_conns

GRADER_VERSION = "1.1.0"
STYLES = ("math", "gsm8k")
DEFAULT_TIMEOUT = 5.0
#: Answers longer than this (after extraction) are graded False without parsing.
MAX_ANSWER_CHARS = 2000
#: Largest decimal exponent / digit count the exact fast path accepts.
_MAX_EXP = 1000
_MAX_DIGITS = 1000
#: A decimal prediction compared with a non-terminating exact gold needs this many significant digits.
MIN_SIG_DIGITS = 6

log = logging.getLogger(__name__)


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise ValueError(f"unknown grading style {style!r}; expected one of {', '.join(STYLES)}")


# ---------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------

_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])(\s*)")
_BOX_JOIN_RE = re.compile(r"^(?:\s|[,;$]|\\[,;:!]|\\quad|\\text\{\s*(?:and|or)\s*\}|\band\b|\bor\b)*$")
_OR_RE = re.compile(r"\bor\b")


def _brace_pairs(text: str) -> dict[int, int]:
    """{index of "{": index of its "}"} for the whole text in one pass (escaped braces skipped)."""
    pairs, stack = {}, []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            pairs[stack.pop()] = i
        i += 1
    return pairs


def _match_brace(text: str, i: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``text[i]``, or -1."""
    return _brace_pairs(text).get(i, -1)


def _boxes(text: str) -> list[tuple[int, int, str | None]]:
    """Every ``\\boxed``/``\\fbox`` as (start, end, content); content None when unclosed."""
    out = []
    pairs = None
    for m in _BOX_RE.finditer(text):
        pos = m.end()
        if pos < len(text) and text[pos] == "{":
            if pairs is None:
                pairs = _brace_pairs(text)
            close = pairs.get(pos, -1)
            if close < 0:
                out.append((m.start(), len(text), None))
            else:
                out.append((m.start(), close + 1, text[pos + 1 : close]))
        else:  # "\\boxed 5" form: one token
            tok = re.match(r"[^\s$]+", text[pos : pos + MAX_ANSWER_CHARS])
            if tok and m.group(1):
                out.append((m.start(), pos + tok.end(), tok.group(0)))
    return out


def _final_boxes(text: str) -> tuple[list[str], list[str]] | None:
    """The contents of the final boxes written side by side, and the text between them; None when the
    text has no box or is cut off inside its last one."""
    boxes = _boxes(text)
    if not boxes or boxes[-1][2] is None:  # no box, or cut off inside the final box: no final answer
        return None
    parts, joins = [boxes[-1][2]], []
    # Boxes of one final answer written side by side ("\boxed{1}, \boxed{2}") are one list;
    # boxes separated by any other words (a self-correction) are not: the last one counts.
    for prev, nxt in zip(reversed(boxes[:-1]), reversed(boxes)):
        join = text[prev[1] : nxt[0]]
        if prev[2] is None or not _BOX_JOIN_RE.match(join):
            break
        parts.insert(0, prev[2])
        joins.insert(0, join)
    return parts, joins


def _extract_math(text: str) -> str | None:
    final = _final_boxes(text)
    if final is None:
        return None
    answer = ", ".join(p.strip() for p in final[0]).strip()
    return answer or None


def _alternatives(completion: str, style: str) -> list[str]:
    """Final boxes offered as alternatives ("\boxed{15\frac{39}{40}}, or \boxed{\frac{639}{40}}"): every
    join between them says "or".  Empty otherwise.  They count as one answer when each equals the gold
    (two forms of one value); "\boxed{2} or \boxed{3}" stays the list "2, 3", as roots are written."""
    final = _final_boxes(completion) if style == "math" and completion else None
    if final is None or len(final[0]) < 2 or not all(_OR_RE.search(join) for join in final[1]):
        return []
    return [part.strip() for part in final[0]]


_NUM_PAT = r"(?<![\w.])(-|−)?\s?(?:\\?\$\s?)?((?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:\.\d+)?|\.\d+)"
_NUM_RE = re.compile(_NUM_PAT)
_HASH_RE = re.compile(r"####\s*(?:\\?\$\s?)?" + r"(-|−)?\s?((?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:\.\d+)?|\.\d+)")
_ANSWER_IS_RE = re.compile(
    r"(?:(?<![\w/])answer\s*(?:is|:)|^\s*A:)[\s:]*(?:\*\*)?\s*(?:\\\(|\$)?\s*(?:\\boxed\{)?\s*" + _NUM_PAT,
    re.IGNORECASE | re.MULTILINE,
)
_CALC_RE = re.compile(r"<<[^<>]*>>")
_STILL_WORKING_RE = re.compile(r"[^\n.=]{0,40}?(?:[=*/×÷+<>^]|\\times|\\cdot|\s-\s)")
_EOS_RE = re.compile(r"(?:\s*(?:</s>|<\|endoftext\|>|<\|eot_id\|>|<\|im_end\|>|<eos>|<end_of_turn>))+\s*$")
_FINISHED_RE = re.compile(r"[.!?。](?:\s|[*\"'”’)$\]])*$")


def _looks_finished(text: str) -> bool:
    """True when a completion without an answer marker ends like a finished text.

    Rule: it ends with an end-of-sequence token, or with sentence-final punctuation
    (``.``, ``!``, ``?``, optionally followed by closing quotes, brackets, ``$`` or ``**``).
    A text that stops on a number, a word, an operator or an open ``<<`` annotation is
    taken as cut off, so its last number is not an answer.
    """
    tail = text[-300:]
    if _EOS_RE.search(tail):
        return True
    return bool(_FINISHED_RE.search(tail.rstrip()))


def _fmt_number(sign: str | None, digits: str) -> str:
    s = digits.replace(",", "")
    if s.startswith("."):
        s = "0" + s
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    s = s.lstrip("0") or "0"
    if s.startswith("."):
        s = "0" + s
    if sign and s != "0":
        s = "-" + s
    return s


def _extract_gsm8k(text: str) -> str | None:
    m = _HASH_RE.search(text)  # GSM8K's "#### N" ends the solution: the first one counts
    if m:
        return _fmt_number(m.group(1), m.group(2))
    if "####" in text:
        return None
    body = _CALC_RE.sub("", text)
    # "The answer is 15 gallons * 8 = ..." is still working, not an answer
    matches = [m for m in _ANSWER_IS_RE.finditer(body) if not _STILL_WORKING_RE.match(body, m.end())]
    if matches:
        m = matches[-1]
        return _fmt_number(m.group(1), m.group(2))
    boxed = _extract_math(body)
    if boxed is not None and len(boxed) <= MAX_ANSWER_CHARS:
        num = _number(_key(_clean(boxed)[0]))
        if num is not None and num.value.denominator == 1:
            return str(num.value.numerator)
        m = _NUM_RE.fullmatch(boxed.strip())
        return _fmt_number(m.group(1), m.group(2)) if m else None
    if "<<" in body or not _looks_finished(text):
        return None
    nums = list(_NUM_RE.finditer(body))
    if not nums:
        return None
    m = nums[-1]
    return _fmt_number(m.group(1), m.group(2))


def extract_answer(completion: str, style: str) -> str | None:
    """The final answer of a completion, or None when it has none.

    ``math``: the content of the last ``\\boxed{}``/``\\fbox{}`` (boxes written side by
    side at the end, separated only by commas/"and", form one list); no box, an empty
    box or a box cut off before its closing brace gives None.
    ``gsm8k``: the number after the first ``#### ``; else the last "The answer is N" /
    "Answer: N" / "A: N"; else the last boxed number; else the last number, but only
    when the completion looks finished (see ``_looks_finished``).  Numbers come back
    normalised: no ``$``, no thousands commas, no trailing ``.00``.
    """
    _check_style(style)
    if not completion:
        return None
    if style == "math":
        return _extract_math(completion)
    return _extract_gsm8k(completion)


# ---------------------------------------------------------------------------
# Cleaning
# ---------------------------------------------------------------------------

_UNIT_WORDS = (
    r"(?:square\s+|sq\.?\s+|cubic\s+)?(?:units?|inch(?:es)?|in\.|feet|foot|ft|yards?|yd|miles?|mi|"
    r"(?:centi|milli|kilo)?met(?:er|re)s?|cm|mm|km|meters?|metres?|"
    r"grams?|kilograms?|kg|pounds?|lbs?|ounces?|oz|liters?|litres?|gallons?|"
    r"dollars?|cents?|euros?|degrees?|radians?|"
    r"seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|"
    r"mph|percent|people|persons?|students?|apples?|eggs?|cookies?|books?|points?|pages?|"
    r"cups?|tickets?|marbles?|pieces?|times?|ways?|sq)"
)
_UNIT_TAIL_RE = re.compile(
    r"(?<=[\d}).])\s*(?:" + _UNIT_WORDS + r"(?![A-Za-z]))(?:\s*\^\s*\{?\d\}?)?(?:\s+" + _UNIT_WORDS + r"(?![A-Za-z]))*\s*$",
    re.IGNORECASE,
)
_TEXT_CMD = r"\\(?:text|textbf|textit|textrm|textsf|texttt|textnormal|mbox|mathrm|mathbf|mathit|mathsf|mathtt|hbox)"
_TEXT_RE = re.compile(_TEXT_CMD + r"\s*\{([^{}]*)\}(\s*\^\s*\{?\s*\d\s*\}?)?")
_WHOLE_TEXT_RE = re.compile(r"^" + _TEXT_CMD + r"\s*\{([^{}]*)\}$")
_WORDS_RE = re.compile(r"^[A-Za-z][A-Za-z'\-]*(?:\s+[A-Za-z][A-Za-z'\-]*)*$")
_CHOICE_RE = re.compile(r"^(?:\(([A-Za-z])\)|([A-Z])|([A-Za-z])\))$")
_SIZING_RE = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![A-Za-z])\s*(?:\.(?!\d))?")
_SEP_THOUSANDS_RE = re.compile(r"(?<=\d)\s*(?:\{,\}|,\s*\\!|\\,|\\!|\\ |~)\s*(?=\d{3}(?!\d))")
_PLAIN_THOUSANDS_RE = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACES_RE = re.compile(r"(\\[A-Za-z]+)\s+(?=[A-Za-z])|\s+")
_REPLACEMENTS = (
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cfrac", "\\frac"),
    ("\\dbinom", "\\binom"), ("\\tbinom", "\\binom"), ("\\displaystyle", " "),
    ("\\leqslant", "\\le"), ("\\geqslant", "\\ge"), ("\\leq", "\\le"), ("\\geq", "\\ge"),
    ("\\neq", "\\ne"), ("\\lt", "<"), ("\\gt", ">"), ("≤", "\\le "), ("≥", "\\ge "), ("≠", "\\ne "),
    ("−", "-"), ("–", "-"), ("×", "\\times "), ("·", "\\cdot "), ("π", "\\pi "), ("∞", "\\infty "),
    ("\\infinity", "\\infty"), ("\\varnothing", "\\emptyset"), ("\\dots", "\\ldots"), ("\\cdots", "\\ldots"),
    ("\\mathbb R", "\\mathbb{R}"), ("\\Bbb{R}", "\\mathbb{R}"), ("\\R ", "\\mathbb{R} "),
    ("\\rangle", ")"), ("\\langle", "("), ("\\lbrace", "\\{"), ("\\rbrace", "\\}"),
)


def _strip_delims(s: str) -> str:
    s = s.strip()
    for _ in range(4):
        before = s
        if len(s) >= 2 and s[0] == "$" and s[-1] == "$":
            s = s.strip("$").strip()
        for a, b in (("\\(", "\\)"), ("\\[", "\\]")):
            if s.startswith(a) and s.endswith(b):
                s = s[2:-2].strip()
        m = re.match(r"^\\(?:boxed|fbox)\s*\{", s)
        if m and _match_brace(s, m.end() - 1) == len(s) - 1:
            s = s[m.end() : -1].strip()
        s = re.sub(r"[.;,]+$", "", s).rstrip()
        s = re.sub(r"\\\.?$", "", s).rstrip() if s.endswith("\\") else s
        if s == before:
            break
    return s


def _unwrap_text(s: str) -> str:
    """Remove unit words in ``\\text{}`` after math, turn "or"/"and" into commas, unwrap the rest."""

    def repl(m: re.Match) -> str:
        inner = m.group(1).strip()
        if re.fullmatch(r"(?:or|and)", inner, re.IGNORECASE):
            return ", "
        rest = (s[: m.start()] + s[m.end() :]).strip()
        letters = sum(c.isalpha() for c in inner)
        if letters >= 2 and re.fullmatch(r"[A-Za-z .\-]+", inner) and re.search(r"[\d}\)]", rest):
            return " "
        return inner + (m.group(2) or "")

    for _ in range(4):
        new = _TEXT_RE.sub(repl, s)
        if new == s:
            break
        s = new
    return s


@lru_cache(maxsize=65536)
def _clean(raw: str) -> tuple[str, bool]:
    """Cleaned answer string (single spaces kept) and whether it is a text answer."""
    if len(raw) > MAX_ANSWER_CHARS:
        return raw, False
    s = _strip_delims(raw)
    m = _WHOLE_TEXT_RE.match(s)
    is_text = bool(m) and not re.search(r"\d", m.group(1)) if m else False
    for a, b in _REPLACEMENTS:
        if a in s:
            s = s.replace(a, b)
    s = _SIZING_RE.sub("", s)
    s = _SEP_THOUSANDS_RE.sub("", s)
    s = s.replace("\\!", "")
    s = re.sub(r"(?<!\\)\\(?:[,;:> ]|q?quad(?![A-Za-z]))|~", " ", s)
    # degrees, percent, dollars
    s = re.sub(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree(?![A-Za-z])", "", s)
    s = s.replace("\\%", "").replace("%", "").replace("\\$", "").replace("$", "")
    s = re.sub(r"\\(?:mathrm|text|operatorname)\s*\{\s*(sin|cos|tan|cot|sec|csc|log|ln|exp)\s*\}", r"\\\1 ", s)
    s = _unwrap_text(s)
    s = _UNIT_TAIL_RE.sub("", s)
    # \frac12, \frac 59, \frac{270}7, \sqrt2
    s = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\s*(\d)\s*\{", r"\\frac{\1}{", s)
    s = re.sub(r"\\frac\s*(\{[^{}]*\})\s*(\d)", r"\\frac\1{\2}", s)
    s = re.sub(r"\\sqrt\s*(\d|[A-Za-z](?![A-Za-z]))", r"\\sqrt{\1}", s)
    s = " ".join(s.split())
    s = _strip_delims(s)
    if _PLAIN_THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    return s, is_text


def _key(s: str) -> str:
    """Whitespace-free form (one space kept after a command name followed by a letter)."""
    return _SPACES_RE.sub(lambda m: m.group(1) + " " if m.group(1) else "", s)


# ---------------------------------------------------------------------------
# Exact numbers
# ---------------------------------------------------------------------------


class _Num:
    """An exact value; ``decimals`` is the number of decimal places when written as a decimal."""

    __slots__ = ("value", "decimals", "sig")

    def __init__(self, value: Fraction, decimals: int | None = None, sig: int = 0):
        self.value, self.decimals, self.sig = value, decimals, sig

    def __repr__(self) -> str:
        return f"_Num({self.value}, decimals={self.decimals})"


_INT_RE = re.compile(r"^([+-]?)(\d+)$")
_DEC_RE = re.compile(r"^([+-]?)(\d*)\.(\d*)$")
_SCI_RE = re.compile(r"^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(?:\\times|\\cdot|\*)10\^\{?([+-]?\d+)\}?)$")
_FRAC_RE = re.compile(r"^([+-]?)(?:\\frac\{([+-]?\d+)\}\{([+-]?\d+)\}|(\d+)/(\d+))$")
_MIXED_RE = re.compile(r"^([+-]?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$")


def _sig_digits(mantissa: str) -> int:
    return len(mantissa.replace(".", "").lstrip("0"))


def _number(k: str) -> _Num | None:
    """Parse a whitespace-free answer as an exact number, or None."""
    if len(k) > _MAX_DIGITS:
        return None
    m = _INT_RE.match(k)
    if m:
        v = Fraction(int(m.group(2)))
        return _Num(-v if m.group(1) == "-" else v)
    m = _DEC_RE.match(k)
    if m and (m.group(2) or m.group(3)):
        v = Fraction(Decimal((m.group(2) or "0") + "." + (m.group(3) or "0")))
        d = len(m.group(3))
        return _Num(-v if m.group(1) == "-" else v, d if d else None, _sig_digits(m.group(2) + m.group(3)))
    m = _SCI_RE.match(k)
    if m:
        exp = int(m.group(3) or m.group(4))
        if abs(exp) > _MAX_EXP:
            return None
        mant = m.group(2)
        try:
            v = Fraction(Decimal(mant)) * Fraction(10) ** exp
        except InvalidOperation:
            return None
        places = (len(mant.split(".")[1]) if "." in mant else 0) - exp
        return _Num(-v if m.group(1) == "-" else v, max(places, 0) or None, _sig_digits(mant))
    m = _FRAC_RE.match(k)
    if m:
        num, den = (m.group(2), m.group(3)) if m.group(2) is not None else (m.group(4), m.group(5))
        if int(den) == 0:
            return None
        v = Fraction(int(num), int(den))
        return _Num(-v if m.group(1) == "-" else v)
    m = _MIXED_RE.match(k)
    if m and int(m.group(4)) != 0 and int(m.group(3)) < int(m.group(4)):
        v = int(m.group(2)) + Fraction(int(m.group(3)), int(m.group(4)))
        return _Num(-v if m.group(1) == "-" else v)
    return None


def _decimal_matches(dec: _Num, exact_value, strict_round: bool) -> bool:
    """Does the decimal ``dec`` stand for the exact (possibly non-terminating) value?

    Only reached when the two values differ.  A decimal with ``k`` places equals a
    value that is not a ``k``-place decimal when it is that value rounded or cut to
    ``k`` places (``strict_round``: rounded only, used when the gold is the decimal).
    Integers and ``k``-place decimals therefore never match a different decimal.
    """
    if dec.decimals is None:
        return False
    ulp = Fraction(1, 10**dec.decimals)
    diff = abs(exact_value - dec.value)
    if strict_round:
        return diff <= ulp / 2
    return dec.sig >= MIN_SIG_DIGITS and diff < ulp


def _numbers_equal(p: _Num, g: _Num) -> bool:
    if p.value == g.value:
        return True
    if p.decimals is not None and g.decimals is None:
        return _decimal_matches(p, g.value, strict_round=False)
    if g.decimals is not None and p.decimals is None:
        return _decimal_matches(g, p.value, strict_round=True)
    return False


# ---------------------------------------------------------------------------
# Answer trees
# ---------------------------------------------------------------------------
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
#   "expr"           key string                   anything else (sympy decides)

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


@lru_cache(maxsize=65536)
def _node(raw: str) -> tuple:
    if len(raw) > MAX_ANSWER_CHARS:
        return ("junk", raw[:50], None)
    s, is_text = _clean(raw)
    if not s:
        return ("empty", s, None)
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
    num = _number(k)
    if num is not None:
        return ("num", s, num)
    return ("expr", s, k)


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------

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
    if pk == "expr" or gk == "expr":
        if pk == gk and p[2] == g[2]:
            return True
        if pk == "choice" or gk == "choice":  # gold "(C)" vs prediction "c"
            other = g if pk == "choice" else p
            if re.fullmatch(r"[A-Za-z]", other[2]):
                return other[2].upper() == (p[2] if pk == "choice" else g[2])
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
        if {pk, gk} & {"text", "choice", "matrix", "base"}:
            return False
        return _deep_equal(p, g) if deep else None
    return False


def _rel_same_text(p, g) -> bool:
    (pops, pparts), (gops, gparts) = p, g
    if pops == gops and pparts == gparts:
        return True
    flipped = tuple(_FLIP.get(o, o) for o in reversed(pops))
    return flipped == gops and tuple(reversed(pparts)) == gparts


# ---------------------------------------------------------------------------
# sympy (runs only inside a worker process, under a deadline)
# ---------------------------------------------------------------------------

_sympy_ready = False


def _sympy_setup() -> None:
    global _sympy_ready, sympy, latex2sympy, _NORM, _CONV
    if _sympy_ready:
        return
    import sympy  # noqa: F811
    from latex2sympy2_extended import latex2sympy  # noqa: F811
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig
    from latex2sympy2_extended.math_normalization import NormalizationConfig

    _NORM = NormalizationConfig(basic_latex=True, units=False, malformed_operators=True, nits=False, boxed="none", equations=False)
    _CONV = ConversionConfig(interpret_as_mixed_fractions=True, interpret_simple_eq_as_assignment=False,
                             interpret_contains_as_eq=True, lowercase_symbols=True)
    _sympy_ready = True


@lru_cache(maxsize=8192)
def _to_sympy(s: str):
    _sympy_setup()
    try:
        x = latex2sympy(s, normalization_config=_NORM, conversion_config=_CONV)
    except Exception:  # noqa: BLE001 - any parse failure means "cannot tell", graded False
        return None
    i = sympy.Symbol("i")
    if hasattr(x, "free_symbols") and i in x.free_symbols:  # the imaginary unit, as in 6+9i
        x = x.xreplace({i: sympy.I})
    return x


_PREC = 40
_REL_TOL = 10 ** -25


def _numeric(x):
    """High-precision complex value of a closed-form expression, or None."""
    try:
        v = sympy.N(x, _PREC)
        if not v.is_number or v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            return None
        return complex(v) if abs(sympy.im(v)) > 0 else v
    except Exception:  # noqa: BLE001
        return None


def _close(a, b) -> bool:
    scale = max(abs(a), abs(b))
    if scale == 0:
        return True
    return bool(abs(a - b) <= _REL_TOL * scale)


def _expr_equal(a, b) -> bool:
    if a == b:
        return True
    if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
        return False
    if a.has(sympy.Float) or b.has(sympy.Float):  # decimals inside expressions: compare exactly
        a, b = sympy.nsimplify(a, rational=True), sympy.nsimplify(b, rational=True)
    if not a.free_symbols and not b.free_symbols:
        if a.is_Rational and b.is_Rational:
            return a == b
        va, vb = _numeric(a), _numeric(b)
        if va is None or vb is None:
            return False
        return _close(complex(va), complex(vb)) if isinstance(va, complex) or isinstance(vb, complex) else _close(va, vb)
    # random-point probe first (cheap rejection), then a symbolic proof
    syms = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = random.Random(12345)
    for _ in range(3):
        point = {x: sympy.Rational(rng.randint(3, 97), rng.randint(7, 31)) for x in syms}
        try:
            va, vb = _numeric(a.subs(point)), _numeric(b.subs(point))
        except Exception:  # noqa: BLE001
            va = vb = None
        if va is not None and vb is not None and not _close(complex(va), complex(vb)):
            return False
    diff = a - b
    if sympy.expand(diff) == 0:
        return True
    return sympy.simplify(diff) == 0


def _rel_normal(r):
    """(op, expression) with the relation read as ``expression op 0`` and op in ==, !=, >, >=."""
    lhs, rhs = r.lhs, r.rhs
    if isinstance(r, sympy.Eq):
        return "==", lhs - rhs
    if isinstance(r, sympy.Ne):
        return "!=", lhs - rhs
    if isinstance(r, sympy.StrictGreaterThan):
        return ">", lhs - rhs
    if isinstance(r, sympy.GreaterThan):
        return ">=", lhs - rhs
    if isinstance(r, sympy.StrictLessThan):
        return ">", rhs - lhs
    if isinstance(r, sympy.LessThan):
        return ">=", rhs - lhs
    return None, None


def _rel_equal(a, b) -> bool:
    (oa, ea), (ob, eb) = _rel_normal(a), _rel_normal(b)
    if oa is None or oa != ob:
        return False
    if eb == 0 or ea == 0:
        return ea == eb
    ratio = sympy.simplify(ea / eb)
    if not ratio.is_number or ratio == 0:
        return False
    return bool(ratio > 0) if oa in (">", ">=") else True


def _as_set(x):
    if isinstance(x, sympy.Set):
        return x
    if isinstance(x, (sympy.Rel, sympy.And, sympy.Or)) and len(x.free_symbols) == 1:
        return x.as_set()
    return None


def _sym_equal(a, b) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, sympy.MatrixBase) or isinstance(b, sympy.MatrixBase):
        return (isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase) and a.shape == b.shape
                and all(_sym_equal(x, y) for x, y in zip(a, b)))
    if isinstance(a, sympy.Tuple) or isinstance(b, sympy.Tuple):
        return (isinstance(a, sympy.Tuple) and isinstance(b, sympy.Tuple) and len(a) == len(b)
                and all(_sym_equal(x, y) for x, y in zip(a, b)))
    if isinstance(a, sympy.Rel) and isinstance(b, sympy.Rel):
        return _rel_equal(a, b)
    if isinstance(a, (sympy.Set, sympy.Rel, sympy.And, sympy.Or)) or isinstance(b, (sympy.Set, sympy.Rel, sympy.And, sympy.Or)):
        sa, sb = _as_set(a), _as_set(b)
        if sa is None or sb is None:
            return False
        if isinstance(sa, sympy.FiniteSet) and isinstance(sb, sympy.FiniteSet):
            return all(any(_sym_equal(x, y) for y in sb) for x in sa) and all(any(_sym_equal(x, y) for x in sa) for y in sb)
        if sa == sb:
            return True
        return sympy.Complement(sa, sb) == sympy.S.EmptySet and sympy.Complement(sb, sa) == sympy.S.EmptySet
    if isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr):
        return _expr_equal(a, b)
    return False


def _deep_equal(p: tuple, g: tuple) -> bool:
    """sympy verdict on two nodes (called only where the exact rules could not decide)."""
    _sympy_setup()
    try:
        return bool(_deep_verdict(p, g))
    except Exception:  # noqa: BLE001 - sympy could not decide: not shown equal
        return False


def _deep_verdict(p: tuple, g: tuple):
    for dec, other, gold_is_decimal in ((p, g, False), (g, p, True)):
        if dec[0] == "num" and other[0] == "expr":
            val = _numeric(_to_sympy(other[1])) if _to_sympy(other[1]) is not None else None
            if val is None or isinstance(val, complex):
                return False
            exact = sympy.Rational(dec[2].value.numerator, dec[2].value.denominator)
            if _close(val, exact):
                return True
            if dec[2].decimals is None:
                return False
            ulp = sympy.Rational(1, 10 ** dec[2].decimals)
            diff = abs(val - exact)
            return bool(diff <= ulp / 2) if gold_is_decimal else bool(dec[2].sig >= MIN_SIG_DIGITS and diff < ulp)
    if {p[0], g[0]} & {"text", "choice", "base", "empty", "junk"}:
        if p[0] == "text" or g[0] == "text":
            return _sym_equal(_to_sympy(p[1]), _to_sympy(g[1]))
        return False
    return _sym_equal(_to_sympy(p[1]), _to_sympy(g[1]))


def _full_equal(prediction: str, gold: str) -> bool:
    return bool(_compare(_node(prediction), _node(gold), deep=True))


# ---------------------------------------------------------------------------
# Worker processes with deadlines
# ---------------------------------------------------------------------------


def _worker_main(conn) -> None:
    logging.disable(logging.CRITICAL)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    _sympy_setup()
    _to_sympy("1")  # warm up the ANTLR parser
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        tag, prediction, gold = msg
        try:
            ok = _full_equal(prediction, gold)
        except BaseException:  # noqa: BLE001 - RecursionError, MemoryError, sympy bugs: not equal
            ok = False
        try:
            conn.send((tag, ok))
        except (EOFError, OSError):
            return


_ctx = None
_ctx_lock = threading.Lock()


def _context():
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            # fork: a worker starts in milliseconds with sympy already imported and never
            # re-imports __main__ (Snakemake scripts and notebooks have no main guard).
            # The worker loop takes no locks of its own.  Elsewhere (macOS, Windows): spawn.
            if "fork" in mp.get_all_start_methods() and sys.platform.startswith("linux"):
                _ctx = mp.get_context("fork")
            else:
                _ctx = mp.get_context("spawn")
        return _ctx


_spawn_lock = threading.Lock()


class _Worker:
    def __init__(self) -> None:
        ctx = _context()
        if ctx.get_start_method() == "fork":
            # Import sympy and warm the LaTeX parser here, once, so that a forked worker
            # imports nothing (no import lock can be inherited half-held) and starts warm.
            _to_sympy("1")
        parent, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True, name="weakstrong-grader")
        with _spawn_lock:  # one fork at a time: no thread of ours is inside a fork when another forks
            self.proc.start()
        child.close()
        self.conn = parent
        self.tag = None
        self.deadline = 0.0

    def send(self, tag, prediction: str, gold: str, timeout: float) -> None:
        self.tag = tag
        self.deadline = time.monotonic() + timeout
        self.conn.send((tag, prediction, gold))

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.join(5)
        finally:
            self.conn.close()

    def alive(self) -> bool:
        return self.proc.is_alive()


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _checkout(n: int) -> list[_Worker]:
    with _idle_lock:
        got = [w for w in _idle[:n] if w.alive()]
        del _idle[:n]
    return got + [_Worker() for _ in range(n - len(got))]


def _checkin(workers: list[_Worker]) -> None:
    """Keep finished workers for reuse, at most one per core; stop the rest."""
    with _idle_lock:
        _idle.extend(w for w in workers if w.alive())
        surplus = _idle[os.cpu_count() or 1 :]
        del _idle[os.cpu_count() or 1 :]
    for w in surplus:
        w.kill()


@atexit.register
def _shutdown() -> None:
    with _idle_lock:
        workers = list(_idle)
        _idle.clear()
    for w in workers:
        try:
            w.conn.send(None)
        except (OSError, ValueError):
            pass
        w.kill()


def _run_bounded(jobs: list[tuple[int, str, str]], timeout: float, workers: int, on_done=None) -> dict[int, tuple[bool, bool]]:
    """Grade ``jobs`` (tag, prediction, gold) in worker processes; {tag: (correct, timed_out)}.

    Each pair gets ``timeout`` seconds of wall clock from the moment it is handed to a
    worker; a worker past its deadline is killed and replaced, its pair graded False.
    """
    results: dict[int, tuple[bool, bool]] = {}
    if not jobs:
        return results
    pending = list(reversed(jobs))
    pool = _checkout(max(1, min(workers, len(jobs))))
    busy: dict = {}
    try:
        while pending or busy:
            for i, w in enumerate(pool):
                if w.tag is None and pending:
                    tag, pred, gold = pending.pop()
                    try:
                        w.send(tag, pred, gold, timeout)
                    except (OSError, ValueError):
                        w.kill()
                        pool[i] = w = _Worker()
                        w.send(tag, pred, gold, timeout)
                    busy[w.conn] = w
            now = time.monotonic()
            wait_for = max(0.0, min(w.deadline for w in busy.values()) - now)
            for conn in _wait_conns(list(busy), timeout=wait_for):
                w = busy.pop(conn)
                try:
                    tag, ok = conn.recv()
                    results[tag] = (bool(ok), False)
                except (EOFError, OSError):  # the worker died (e.g. out of memory): not equal
                    results[w.tag] = (False, False)
                    w.kill()
                    pool[pool.index(w)] = _Worker()
                w.tag = None
                if on_done:
                    on_done()
            now = time.monotonic()
            for conn, w in list(busy.items()):
                if now >= w.deadline:
                    del busy[conn]
                    results[w.tag] = (False, True)
                    log.warning("grading timed out after %.1fs; worker killed", timeout)
                    w.kill()
                    pool[pool.index(w)] = _Worker()
                    if on_done:
                        on_done()
    finally:
        for w in busy.values():
            w.kill()
        _checkin([w for w in pool if w.tag is None])
    return results


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _fast(prediction: str | None, gold: str) -> bool | None:
    if prediction is None or gold is None:
        return False
    try:
        return _compare(_node(prediction), _node(gold), deep=False)
    except Exception:  # noqa: BLE001 - e.g. RecursionError on absurd nesting: a bounded worker decides
        log.debug("fast path failed on %r vs %r", prediction[:80], gold[:80], exc_info=True)
        return None


def is_equivalent(prediction: str, gold: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Is ``prediction`` the same final answer as ``gold``?

    Exact string/number rules decide most pairs in-process; the rest are settled by
    sympy in a worker process within ``timeout`` seconds (False when it overruns).
    """
    r = _fast(prediction, gold)
    if r is not None:
        return r
    return _run_bounded([(0, prediction, gold)], timeout, 1)[0][0]


def grade(completion: str, gold: str, style: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Extract the final answer of ``completion`` and compare it with ``gold``; no answer is False.

    Final boxes joined by "or" also count when every one of them equals ``gold`` (see ``_alternatives``).
    """
    answer = extract_answer(completion, style)
    if answer is None:
        return False
    if is_equivalent(answer, gold, timeout=timeout):
        return True
    alternatives = _alternatives(completion, style)
    return bool(alternatives) and all(is_equivalent(a, gold, timeout=timeout) for a in alternatives)


def _resolve_workers(workers: int | None) -> int:
    return max(1, int(workers) if workers else (os.cpu_count() or 1))


def grade_many(completions: list[str], golds: list[str], style: str, *, timeout: float = DEFAULT_TIMEOUT,
               workers: int | None = None, progress: bool = False) -> list[dict]:
    """Grade many completions; per item ``{"extracted_answer", "correct", "timed_out"}`` in input order.

    Pairs the exact rules decide are graded in this process; the others go to
    ``workers`` processes (default: all cores), each pair under its own deadline.
    """
    _check_style(style)
    if len(completions) != len(golds):
        raise ValueError(f"grade_many: {len(completions)} completions but {len(golds)} gold answers")
    if timeout <= 0:
        raise ValueError(f"grade_many: timeout must be positive, got {timeout}")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(completions), desc=f"grading ({style})", unit="pair")
    # Each item's candidates: its answer and, unless that is already right, its "or" alternatives
    # (all of which must equal the gold).  Exact rules decide most here; sympy settles the rest.
    out: list[dict] = []
    candidates: list[list[str]] = []
    verdicts: dict[tuple[int, int], bool | None] = {}
    for i, (completion, gold) in enumerate(zip(completions, golds)):
        answer = extract_answer(completion, style)
        out.append({"extracted_answer": answer, "correct": False, "timed_out": False})
        candidates.append([] if answer is None else [answer])
        if answer is None:
            continue
        verdicts[i, 0] = _fast(answer, gold)
        if verdicts[i, 0] is not True:
            candidates[i] += _alternatives(completion, style)
            verdicts.update({(i, j): _fast(candidates[i][j], gold) for j in range(1, len(candidates[i]))})
    jobs = [(key, candidates[key[0]][key[1]], golds[key[0]]) for key, verdict in verdicts.items() if verdict is None]
    if bar:  # one comparison per item (none without an answer), plus one per alternative
        bar.total = len(completions) + sum(max(0, len(c) - 1) for c in candidates)
        bar.update(bar.total - len(jobs))
    done = _run_bounded(jobs, timeout, _resolve_workers(workers), on_done=bar.update if bar else None)
    verdicts.update({key: ok for key, (ok, _) in done.items()})
    late = {key[0] for key, (_, timed_out) in done.items() if timed_out}
    for i, item in enumerate(out):
        alternatives = [verdicts[i, j] for j in range(1, len(candidates[i]))]
        item["correct"] = bool(verdicts.get((i, 0)) or (alternatives and all(alternatives)))
        item["timed_out"] = i in late and not item["correct"]
    if bar:
        bar.close()
    return out


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def grader_settings(*, timeout: float = DEFAULT_TIMEOUT, workers: int | None = None) -> dict:
    """Everything that determines a grading verdict, for the record beside each graded file."""
    return {
        "grader_version": GRADER_VERSION,
        "timeout_seconds": float(timeout),
        "workers": _resolve_workers(workers),
        "start_method": _context().get_start_method(),
        "max_answer_chars": MAX_ANSWER_CHARS,
        "min_sig_digits_for_rounded_decimals": MIN_SIG_DIGITS,
        "numeric_relative_tolerance": _REL_TOL,
        "math_verify_version": _version("math-verify"),
        "latex2sympy2_extended_version": _version("latex2sympy2_extended"),
        "sympy_version": _version("sympy"),
        "python_version": sys.version.split()[0],
        "math_extraction": "last \\boxed{}/\\fbox{} (side-by-side boxes joined); none -> None; boxes joined "
                           "by 'or' also count when each equals the gold",
        "gsm8k_extraction": "first '#### N'; else last 'answer is N'/'Answer: N'/'A: N'; else last boxed number; "
                            "else last number only if the text ends finished (. ! ? or EOS token)",
    }


__all__ = ["GRADER_VERSION", "extract_answer", "is_equivalent", "grade", "grade_many", "grader_settings"]
