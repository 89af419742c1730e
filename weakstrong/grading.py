"""Answer extraction and equivalence grading for MATH- and GSM8K-style completions.

Public API (stable, other code calls exactly this):

* ``extract_answer(completion, style)`` -> final answer string or ``None``;
* ``is_equivalent(prediction, gold)`` -> bool;
* ``grade(completion, gold, style)`` -> bool (extract, then compare);
* ``grade_many(completions, golds, style, *, timeout, workers, progress)`` -> per-item dicts
  ``{"extracted_answer", "correct", "undecided", "reason", "timed_out"}``;
* ``undecided_summary(verdicts)`` -> how many items the grader could not decide;
* ``GRADER_VERSION`` and ``grader_settings()`` (written beside every graded file).

Design: every answer is first cleaned (LaTeX noise, units, separators) and parsed
into a small tree (number, text, choice letter, clock time, ratio, tuple/interval,
set, union, relation, matrix, expression) by plain string code whose cost is linear
in the answer length.  Two trees are compared exactly where that is decidable without
sympy (numbers are exact ``Fraction`` values; an expression that floating point with
error bounds shows to differ is rejected in-process); only what is left goes to sympy
(through Math-Verify's ``latex2sympy2_extended`` converter), and that always runs in a
worker process under a deadline that starts when the worker begins the pair: a worker
that overruns is killed and replaced and the pair is *undecided* (``correct`` False,
``undecided`` True, with a reason), never silently wrong.  Exact values are compared
exactly: no tolerance between two integers, however large.  See ``docs/grading.md``
for the rules and their reasons.
"""

from __future__ import annotations

import atexit
import logging
import math
import multiprocessing as mp
import os
import random
import re
import sys
import threading
import time
import zlib
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from importlib import metadata
from multiprocessing.connection import wait as _wait_conns

from weakstrong.styles import check_style

GRADER_VERSION = "1.2.1"
DEFAULT_TIMEOUT = 5.0
#: Answers longer than this (after extraction) are graded False without parsing.
MAX_ANSWER_CHARS = 2000
#: Largest decimal exponent / digit count the exact fast path accepts.
_MAX_EXP = 1000
_MAX_DIGITS = 1000
#: A decimal prediction compared with a non-terminating exact gold needs this many significant digits.
MIN_SIG_DIGITS = 6

log = logging.getLogger(__name__)


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


# Minerva's format: "Final Answer: The final answer is X. I hope it is correct."  The full line may drop the
# "Final Answer:" label; a line without "I hope it is correct" needs the label and must not be cut off.
_MINERVA_KEY, _MINERVA_HOPE = "the final answer is", "i hope it is correct"
_HOPE_NEXT_RE = re.compile(r"\s*i hope it is correct")
_NO_LINE = object()


def _balanced(text: str) -> bool:
    depth = 0
    for i, c in enumerate(text):
        if c == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif c == "}" and (i == 0 or text[i - 1] != "\\"):
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and len(re.findall(r"(?<!\\)\$", text)) % 2 == 0


def _minerva(text: str):
    """X of the first Minerva final-answer line; None when that line is cut off or empty; ``_NO_LINE``
    when the text has no such line.  The first line counts: what follows "I hope it is correct." belongs
    to a new problem (as in lm-eval's minerva_math).  Linear in the text length: plain substring search,
    the first "The final answer is" of each line only."""
    low = text.lower()
    if len(low) != len(text):  # lower() changed the length (rare Unicode): lower only what keeps it
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    pos = low.find(_MINERVA_KEY)
    hope = -2  # position of the next "i hope it is correct" at or after the current answer; -2: not looked
    while pos >= 0:
        start = pos + len(_MINERVA_KEY)
        line_start = low.rfind("\n", 0, pos) + 1
        line_end = low.find("\n", start)
        line_end = len(low) if line_end < 0 else line_end
        if hope != -1 and hope < start:
            hope = low.find(_MINERVA_HOPE, start)
        if hope >= 0 and (hope < line_end or _HOPE_NEXT_RE.match(low, line_end)):
            answer = text[start:hope] if hope < line_end else text[start:line_end]
            answer = answer.strip()
            answer = answer[:-1].rstrip() if answer.endswith(".") else answer
            break
        if low[line_start:pos].rstrip().endswith("final answer:"):
            answer = text[start:line_end].strip()
            closed = answer.endswith((".", "$", "\\)"))  # a full stop or a closed math environment
            if not text[line_end:].strip() and not closed:
                return None  # the text stops right after the answer: it may be cut off inside it
            break
        pos = low.find(_MINERVA_KEY, line_end)
    else:
        return _NO_LINE
    if not answer or len(answer) > MAX_ANSWER_CHARS or not _balanced(answer):
        return None
    return answer


def _answer_region(text: str) -> tuple[str, bool]:
    """The text whose final boxes hold the answer (a Minerva line's X when there is one) and whether it
    came from a Minerva line."""
    x = _minerva(text)
    if x is _NO_LINE:
        return text, False
    return (x or ""), True


def _extract_math(text: str) -> str | None:
    region, minerva = _answer_region(text)
    if minerva and not _BOX_RE.search(region):
        answer = _strip_delims(region)
        return answer or None
    final = _final_boxes(region)
    if final is None:
        return None
    answer = ", ".join(p.strip() for p in final[0]).strip()
    return answer or None


def _alternatives(completion: str, style: str) -> list[str]:
    """Final boxes offered as alternatives ("\boxed{15\frac{39}{40}}, or \boxed{\frac{639}{40}}"): every
    join between them says "or".  Empty otherwise.  They count as one answer when each equals the gold
    (two forms of one value); "\boxed{2} or \boxed{3}" stays the list "2, 3", as roots are written."""
    final = _final_boxes(_answer_region(completion)[0]) if style == "math" and completion else None
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


_HSPACE_RE = re.compile(r"[^\S\n]*")


def _answer_markers(body: str) -> list[re.Match]:
    """``_ANSWER_IS_RE.finditer(body)``, found faster: the regex is tried only where "answer" or a line
    starting with "A:" is (a plain substring search finds those)."""
    low = body.lower()
    if len(low) != len(body):  # lower() changed the length (rare Unicode): plain regex scan
        return list(_ANSWER_IS_RE.finditer(body))
    starts = []
    i = low.find("answer")
    while i >= 0:
        starts.append(i)
        i = low.find("answer", i + 6)
    i, line, first, seen = low.find("a:"), 0, -1, 0
    while i >= 0:  # "A:" first on its line (after spaces); each line is looked at once
        nl = low.rfind("\n", seen, i)
        if nl >= 0 or first < 0:
            line = nl + 1 if nl >= 0 else line
            first = _HSPACE_RE.match(low, line).end()
        seen = i
        if i == first:
            starts.append(line)
        i = low.find("a:", i + 2)
    out, end = [], -1
    for start in sorted(set(starts)):
        if start < end:
            continue
        m = _ANSWER_IS_RE.match(body, start)
        if m:
            out.append(m)
            end = m.end()
    return out


def _extract_gsm8k(text: str) -> str | None:
    m = _HASH_RE.search(text)  # GSM8K's "#### N" ends the solution: the first one counts
    if m:
        return _fmt_number(m.group(1), m.group(2))
    if "####" in text:
        return None
    body = _CALC_RE.sub("", text)
    # "The answer is 15 gallons * 8 = ..." is still working, not an answer
    matches = [m for m in _answer_markers(body) if not _STILL_WORKING_RE.match(body, m.end())]
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
    check_style(style)
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
    r"(?<=[\d}).])\s*(?P<unit>" + _UNIT_WORDS + r"(?![A-Za-z])(?:\s*\^\s*\{?\d\}?)?"
    r"(?:(?:\s*/\s*|\s+per\s+)(?:" + _UNIT_WORDS + r"|[hs])(?![A-Za-z]))?"
    r"(?:\s+" + _UNIT_WORDS + r"(?![A-Za-z]))*)\s*$",
    re.IGNORECASE,
)
#: Units of measure, each spelling -> one name.  Two answers whose units differ are different answers
#: (no conversion: "5 feet" is not "60 inches").  Count words (people, apples, ways, times, units, ...)
#: are labels, not units: they are removed and never make two answers differ.
_UNIT_NAMES = {
    **dict.fromkeys(("inch", "inches", "in"), "in"), **dict.fromkeys(("foot", "feet", "ft"), "ft"),
    **dict.fromkeys(("yard", "yards", "yd"), "yd"), **dict.fromkeys(("mile", "miles", "mi"), "mi"),
    **dict.fromkeys(("meter", "meters", "metre", "metres", "m"), "m"),
    **dict.fromkeys(("centimeter", "centimeters", "centimetre", "centimetres", "cm"), "cm"),
    **dict.fromkeys(("millimeter", "millimeters", "millimetre", "millimetres", "mm"), "mm"),
    **dict.fromkeys(("kilometer", "kilometers", "kilometre", "kilometres", "km"), "km"),
    **dict.fromkeys(("gram", "grams", "g"), "g"), **dict.fromkeys(("kilogram", "kilograms", "kg"), "kg"),
    **dict.fromkeys(("pound", "pounds", "lb", "lbs"), "lb"), **dict.fromkeys(("ounce", "ounces", "oz"), "oz"),
    **dict.fromkeys(("liter", "liters", "litre", "litres", "l"), "L"), **dict.fromkeys(("gallon", "gallons"), "gal"),
    **dict.fromkeys(("cup", "cups"), "cup"),
    **dict.fromkeys(("dollar", "dollars"), "dollar"), **dict.fromkeys(("cent", "cents"), "cent"),
    **dict.fromkeys(("euro", "euros"), "euro"),
    **dict.fromkeys(("degree", "degrees"), "deg"), **dict.fromkeys(("radian", "radians"), "rad"),
    **dict.fromkeys(("second", "seconds", "sec", "secs", "s"), "s"),
    **dict.fromkeys(("minute", "minutes", "min", "mins"), "min"),
    **dict.fromkeys(("hour", "hours", "hr", "hrs", "h"), "h"), **dict.fromkeys(("day", "days"), "day"),
    **dict.fromkeys(("week", "weeks"), "week"), **dict.fromkeys(("month", "months"), "month"),
    **dict.fromkeys(("year", "years"), "year"), "mph": "mi/h", "percent": "percent",
}
#: One letter after a number is a unit only inside \text{}/\mbox{}/\mathrm{} ("5\text{ m}"); bare "5m" is 5·m.
_TEXT_LETTER_UNITS = {"m", "g", "s", "L", "l", "h"}
_MERIDIEM_RE = re.compile(r"\s*[ap]\.?\s*m\.?\s*", re.IGNORECASE)


_PLAIN_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")


def _unit_name(text: str) -> str | None:
    """One name for a unit phrase ("square inches", "cm^2", "miles per hour"); None for a count word."""
    names = []
    for part in re.split(r"\s*/\s*|\s+per\s+", text.strip().lower().replace(".", " ")):
        m = re.search(r"\^\s*\{?\s*(\d)\s*\}?\s*$", part)
        power = int(m.group(1)) if m else 1
        base = None
        for word in (part[: m.start()] if m else part).split():
            if word in ("square", "sq"):
                power = 2
            elif word == "cubic":
                power = 3
            elif word in _UNIT_NAMES:
                base = _UNIT_NAMES[word] if base is None else base + " " + _UNIT_NAMES[word]
        if base is None:
            return None
        names.append(base if power == 1 else f"{base}^{power}")
    return "/".join(names) if names else None


_TEXT_CMD = r"\\(?:text|textbf|textit|textrm|textsf|texttt|textnormal|mbox|mathrm|mathbf|mathit|mathsf|mathtt|hbox)"
_TEXT_RE = re.compile(_TEXT_CMD + r"\s*\{([^{}]*)\}(\s*\^\s*\{?\s*\d\s*\}?)?")
_WHOLE_TEXT_RE = re.compile(r"^" + _TEXT_CMD + r"\s*\{([^{}]*)\}$")
_WORDS_RE = re.compile(r"^[A-Za-z][A-Za-z'\-]*(?:\s+[A-Za-z][A-Za-z'\-]*)*$")
_CHOICE_RE = re.compile(r"^(?:\(([A-Za-z])\)|([A-Z])|([A-Za-z])\))$")
_SIZING_RE = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![A-Za-z])\s*(?:\.(?!\d))?")
_SEP_THOUSANDS_RE = re.compile(r"(?<=\d)\s*(?:\{,\}|,\s*\\!|\\,|\\!|\\ |~)\s*(?=\d{3}(?!\d))")
_PLAIN_THOUSANDS_RE = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACES_RE = re.compile(r"(\\[A-Za-z]+)\s+(?=[A-Za-z])|\s+")
_DEGREE_RE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree(?![A-Za-z])")
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
        while s.startswith("{") and _match_brace(s, 0) == len(s) - 1:  # LaTeX grouping: {{7}} is 7
            s = s[1:-1].strip()
        s = re.sub(r"[.;,]+$", "", s).rstrip()
        s = re.sub(r"\\\.?$", "", s).rstrip() if s.endswith("\\") else s
        if s == before:
            break
    return s


def _unwrap_text(s: str, units: set) -> str:
    """Remove unit words in ``\\text{}`` after math (adding their names to ``units``), turn "or"/"and"
    into commas, keep "a.m."/"p.m.", unwrap the rest."""

    def repl(m: re.Match) -> str:
        inner = m.group(1).strip()
        if re.fullmatch(r"(?:or|and)", inner, re.IGNORECASE):
            return ", "
        rest = (s[: m.start()] + s[m.end() :]).strip()
        if _MERIDIEM_RE.fullmatch(inner) and re.search(r"\d", rest):
            return " " + inner
        letters = sum(c.isalpha() for c in inner)
        if letters >= 2 and re.fullmatch(r"[A-Za-z .\-]+", inner) and re.search(r"[\d}\)]", rest):
            name = _unit_name(inner + (m.group(2) or ""))
            if name:
                units.add(name)
            return " "
        if inner in _TEXT_LETTER_UNITS and re.search(r"[\d}\)]\s*$", s[: m.start()]):
            units.add(_unit_name(inner + (m.group(2) or "")))
            return " "
        return inner + (m.group(2) or "")

    for _ in range(4):
        new = _TEXT_RE.sub(repl, s)
        if new == s:
            break
        s = new
    return s


@lru_cache(maxsize=65536)
def _clean(raw: str) -> tuple[str, bool, frozenset]:
    """Cleaned answer string (single spaces kept), whether it is a text answer, and the names of the
    units of measure written in it (degrees, percent, dollars, words such as "cm" or "inches")."""
    if len(raw) > MAX_ANSWER_CHARS:
        return raw, False, frozenset()
    if _PLAIN_NUMBER_RE.fullmatch(raw):  # most GSM8K answers: nothing to clean
        return raw, False, frozenset()
    units: set[str] = set()
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
    # degrees, percent, dollars: units written as signs
    s, n = _DEGREE_RE.subn("", s)
    if n:
        units.add("deg")
    if "%" in s:
        units.add("percent")
        s = s.replace("\\%", "").replace("%", "")
    if "\\$" in s:
        units.add("dollar")
    s = s.replace("\\$", "").replace("$", "")
    s = re.sub(r"\\(?:mathrm|text|operatorname)\s*\{\s*(sin|cos|tan|cot|sec|csc|log|ln|exp)\s*\}", r"\\\1 ", s)
    s = _unwrap_text(s, units)
    m = _UNIT_TAIL_RE.search(s)
    if m:
        name = _unit_name(m.group("unit"))
        if name:
            units.add(name)
        s = s[: m.start()]
    # \frac12, \frac 59, \frac{270}7, \sqrt2
    s = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\s*(\d)\s*\{", r"\\frac{\1}{", s)
    s = re.sub(r"\\frac\s*(\{[^{}]*\})\s*(\d)", r"\\frac\1{\2}", s)
    s = re.sub(r"\\sqrt\s*(\d|[A-Za-z](?![A-Za-z]))", r"\\sqrt{\1}", s)
    s = " ".join(s.split())
    s = _strip_delims(s)
    if _PLAIN_THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    return s, is_text, frozenset(units)


def _units_differ(prediction: str, gold: str) -> bool:
    """Both answers name units of measure, and not the same ones ("5 inches" vs "5 feet")."""
    up, ug = _clean(prediction)[2], _clean(gold)[2]
    return bool(up) and bool(ug) and up != ug


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
_POW_RE = re.compile(r"^([+-]?)(\d+)\^(?:\{([+-]?\d+)\}|(\d))$")
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
    m = _POW_RE.match(k)  # 2^{64}, 10^{-20}: exact integer powers, as large as the exact path allows
    if m:
        base, exp = int(m.group(2)), int(m.group(3) or m.group(4))
        if (base == 0 and exp < 0) or (base > 1 and abs(exp) * math.log10(base) > _MAX_DIGITS):
            return None
        v = Fraction(base) ** exp
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
#   "time"           (hour, minute, second, "am"/"pm"/None)   a clock time, 3:45 or 3:45 PM
#   "ratio"          exact values                 a:b(:c...) of plain numbers that is not a clock time
#   "expr"           key string                   anything else (sympy decides)

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


# ---------------------------------------------------------------------------
# Quick rejection: floating-point values with error bounds, in this process
# ---------------------------------------------------------------------------
# An expression of numbers, + - * /, powers, \frac, \sqrt, \pi, i, factorials, binomials, a few functions
# and single-letter variables is evaluated in complex floating point, each value with a bound on its
# rounding error (variables at a fixed point).  Two values further apart than their error bounds (plus
# a decimal's last place) cannot be equal, so the pair is graded False without sympy.  Nothing is ever
# graded True this way, and anything the grammar does not read unambiguously the way sympy reads it
# ("x^23", "a/bc", "\sin 2x", "e", subscripts) is left to sympy.

_EPS = 2.0**-52
_Q_TOKEN_RE = re.compile(r"\s+|(\d+(?:\.\d*)?|\.\d+)|(\\[A-Za-z]+)|([A-Za-z])|([-+*/^(){}!\[\]])|(.)")
_Q_FUNCS = {"sin", "cos", "tan", "cot", "sec", "csc", "ln", "exp", "log"}
_Q_GREEK = {"alpha", "beta", "gamma", "delta", "theta", "lambda", "mu", "nu", "rho", "sigma", "tau", "phi",
            "psi", "omega", "xi", "eta", "zeta", "kappa", "chi"}


class _NoQuick(Exception):
    pass


def _q_var(name: str) -> complex:
    """The fixed point at which a variable is evaluated (any point is sound: only differences count)."""
    return complex(1.0 + (zlib.crc32(name.encode()) % 10007) / 10007 * 1.618)


def _q_check(v: complex, e: float) -> tuple[complex, float]:
    if not (math.isfinite(v.real) and math.isfinite(v.imag) and math.isfinite(e)) or e > 1e-3 * max(1.0, abs(v)):
        raise _NoQuick
    return v, e


class _QuickParser:
    def __init__(self, k: str) -> None:
        self.toks = []
        for m in _Q_TOKEN_RE.finditer(k):
            if m.group(5) is not None:
                raise _NoQuick
            if m.group(1) is not None:
                self.toks.append(("n", m.group(1)))
            elif m.group(2) is not None:
                self.toks.append(("c", m.group(2)[1:]))
            elif m.group(3) is not None:
                self.toks.append(("l", m.group(3)))
            elif m.group(4) is not None:
                self.toks.append(("o", m.group(4)))
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, kind=None, text=None):
        tok = self.peek()
        if tok[0] is None or (kind and tok[0] != kind) or (text and tok[1] != text):
            raise _NoQuick
        self.i += 1
        return tok

    def parse(self):
        v = self.expr()
        if self.i != len(self.toks):
            raise _NoQuick
        return v

    def expr(self):
        v = self.term()
        while self.peek() in (("o", "+"), ("o", "-")):
            sign = 1 if self.take()[1] == "+" else -1
            b = self.term()
            r = v[0] + sign * b[0]
            v = _q_check(r, v[1] + b[1] + 2 * abs(r) * _EPS)
        return v

    def starts_atom(self) -> bool:
        kind, text = self.peek()
        return kind in ("n", "l") or (kind == "c" and text not in ("cdot", "times", "div")) or (kind, text) in (
            ("o", "("), ("o", "{"))

    def term(self):
        v = self.unary()
        while True:
            kind, text = self.peek()
            if (kind, text) in (("o", "*"), ("c", "cdot"), ("c", "times")):
                self.take()
                v = _q_mul(v, self.unary())
            elif (kind, text) in (("o", "/"), ("c", "div")):
                self.take()
                v = _q_div(v, self.power())
                if self.starts_atom():  # "a/bc": sympy reads a/(bc); not guessed here
                    raise _NoQuick
            elif self.starts_atom():
                v = _q_mul(v, self.power())
            else:
                return v

    def unary(self):
        if self.peek() == ("o", "-"):
            self.take()
            v = self.unary()
            return -v[0], v[1]
        if self.peek() == ("o", "+"):
            self.take()
            return self.unary()
        return self.power()

    def power(self):
        base = self.postfix()
        if self.peek() != ("o", "^"):
            return base
        self.take()
        if self.peek() == ("o", "{"):
            self.take()
            exp = self.expr()
            self.take("o", "}")
        else:
            kind, text = self.take()
            if kind == "n" and len(text) == 1:
                exp = (complex(int(text)), 0.0)
            elif kind == "l" and text not in "eEiI":
                exp = (_q_var(text.lower()), 0.0)
            else:
                raise _NoQuick
        if self.peek() in (("o", "^"), ("o", "!")):
            raise _NoQuick
        return _q_pow(base, exp)

    def postfix(self):
        v = self.atom()
        if self.peek() == ("o", "!"):
            self.take()
            if self.peek() == ("o", "!"):
                raise _NoQuick
            n = _q_int(v)
            if n is None or not 0 <= n <= 170:
                raise _NoQuick
            f = float(math.factorial(n))
            v = (complex(f), f * _EPS)
        return v

    def group(self):
        self.take("o", "{")
        v = self.expr()
        self.take("o", "}")
        return v

    def atom(self):
        kind, text = self.take()
        if kind == "n":
            f = float(text)
            exact = "." not in text and f < 2.0**53
            return complex(f), 0.0 if exact else abs(f) * _EPS
        if kind == "l":
            if text in "eEiI":
                if text in "iI":
                    return 1j, 0.0
                raise _NoQuick  # e is Euler's number, E a symbol: not guessed
            return _q_var(text.lower()), 0.0
        if kind == "o" and text == "(":
            v = self.expr()
            self.take("o", ")")
            return v
        if kind == "o" and text == "{":
            self.i -= 1
            return self.group()
        if kind != "c":
            raise _NoQuick
        if text == "pi":
            return complex(math.pi), math.pi * _EPS
        if text in _Q_GREEK:
            return _q_var(text), 0.0
        if text == "frac":
            return _q_div(self.group(), self.group())
        if text == "binom":
            n, k = _q_int(self.group()), _q_int(self.group())
            if n is None or k is None or n < 0 or n > 1000:
                raise _NoQuick
            c = float(math.comb(n, k)) if k >= 0 else 0.0
            return complex(c), c * _EPS
        if text == "sqrt":
            if self.peek() == ("o", "["):
                self.take()
                n = _q_int(self.expr())
                self.take("o", "]")
                arg = self.group()
                if n is None or n < 2 or arg[0].imag != 0 or arg[0].real - arg[1] <= 0:
                    raise _NoQuick
                r = arg[0].real ** (1.0 / n)
                return _q_check(complex(r), r * (2 * arg[1] / (n * arg[0].real) + 4 * _EPS))
            return _q_sqrt(self.group())
        if text in _Q_FUNCS:
            return self.function(text)
        raise _NoQuick

    def function(self, name: str):
        if name == "log":  # its base (natural, 10 or a subscript) is sympy's call
            raise _NoQuick
        if self.peek() == ("o", "(") or self.peek() == ("o", "{"):
            opener = self.take()[1]
            arg = self.expr()
            self.take("o", ")" if opener == "(" else "}")
        else:
            kind, text = self.peek()
            if kind not in ("n", "l") and (kind, text) != ("c", "pi"):
                raise _NoQuick
            arg = self.atom()
            if self.peek()[0] is not None and self.peek() not in (("o", "+"), ("o", "-"), ("o", ")"), ("o", "}")):
                raise _NoQuick  # "\sin 2x": where the argument ends is sympy's call
        if self.peek() in (("o", "^"), ("o", "!")):
            raise _NoQuick  # "\sin(x)^2"
        return _q_func(name, arg)


def _q_int(v) -> int | None:
    if v[1] != 0 or v[0].imag != 0 or v[0].real != int(v[0].real) or abs(v[0].real) > 2.0**53:
        return None
    return int(v[0].real)


def _q_mul(a, b):
    r = a[0] * b[0]
    return _q_check(r, abs(a[0]) * b[1] + abs(b[0]) * a[1] + a[1] * b[1] + 4 * abs(r) * _EPS)


def _q_div(a, b):
    if abs(b[0]) <= 2 * b[1] or b[0] == 0:
        raise _NoQuick
    r = a[0] / b[0]
    e = (abs(a[0]) * b[1] + abs(b[0]) * a[1]) / (abs(b[0]) * (abs(b[0]) - b[1])) + 4 * abs(r) * _EPS
    return _q_check(r, e)


def _q_sqrt(a):
    x, e = a
    if x.imag != 0:
        raise _NoQuick
    if x.real == 0 and e == 0:
        return 0j, 0.0
    if abs(x.real) - e <= 0:
        raise _NoQuick
    r = math.sqrt(abs(x.real))
    err = e / (math.sqrt(abs(x.real) - e) + r) + 2 * r * _EPS
    return _q_check(complex(r) if x.real > 0 else complex(0, r), err)


def _q_pow(a, b):
    n = _q_int(b)
    try:
        if n is not None and abs(n) <= 10_000:
            if a[0] == 0:
                if a[1] == 0 and n > 0:
                    return 0j, 0.0
                raise _NoQuick
            rel = a[1] / abs(a[0])
            if abs(n) * rel > 1e-6:
                raise _NoQuick
            r = a[0] ** n
            return _q_check(r, abs(r) * (2 * abs(n) * rel + 4 * (abs(n) + 4) * _EPS))
        x, y = a[0], b[0]
        if x.imag != 0 or y.imag != 0 or x.real - a[1] <= 0:
            raise _NoQuick
        r = x.real ** y.real
        rel = a[1] / x.real
        return _q_check(complex(r), abs(r) * (2 * abs(y.real) * rel + 2 * abs(math.log(x.real)) * b[1] + 16 * _EPS))
    except (OverflowError, ZeroDivisionError, ValueError):
        raise _NoQuick from None


def _q_func(name: str, arg):
    x, e = arg
    if x.imag != 0 or e > 1e-6:
        raise _NoQuick
    x = x.real
    try:
        if name == "sin":
            r, d = math.sin(x), 1.0
        elif name == "cos":
            r, d = math.cos(x), 1.0
        elif name in ("tan", "sec"):
            c = math.cos(x)
            if abs(c) < 1e-3:
                raise _NoQuick
            r = math.tan(x) if name == "tan" else 1 / c
            d = (1 + r * r) if name == "tan" else abs(r * math.tan(x))
        elif name in ("cot", "csc"):
            sn = math.sin(x)
            if abs(sn) < 1e-3:
                raise _NoQuick
            r = math.cos(x) / sn if name == "cot" else 1 / sn
            d = (1 + r * r) if name == "cot" else abs(r * math.cos(x) / sn)
        elif name == "ln":
            if x - e <= 0 or x < 1e-3:
                raise _NoQuick
            r, d = math.log(x), 1 / (x - e)
        elif name == "exp":
            r = math.exp(x)
            d = r * 1.01
        else:
            raise _NoQuick
    except (OverflowError, ValueError):
        raise _NoQuick from None
    return _q_check(complex(r), 2 * d * e + 8 * (abs(r) + abs(x) + 1) * _EPS)


@lru_cache(maxsize=65536)
def _quick_value(k: str) -> tuple[complex, float] | None:
    """(value, error bound) of an expression key, or None when the quick grammar does not read it."""
    if len(k) > 200 or "\\frac{d" in k:  # \frac{d}{dx}: a derivative to sympy
        return None
    try:
        return _QuickParser(k).parse()
    except (_NoQuick, RecursionError, IndexError):
        return None


def _num_value(n: _Num) -> tuple[complex, float, float] | None:
    """(value, error bound, last-place slack) of an exact number."""
    try:
        f = float(n.value)
    except OverflowError:
        return None
    slack = 10.0 ** -n.decimals if n.decimals is not None else 0.0
    return complex(f), abs(f) * _EPS, slack


def _quick_differs(p: tuple, g: tuple) -> bool:
    """True when the pair is certainly not equal: an expression's value against a number, another
    expression's value, or something that is no number at all (a set, tuple, relation, choice letter)."""
    e_node, other = (p, g) if p[0] == "expr" else (g, p)
    if other[0] in ("choice", "base", "empty", "junk"):
        return True  # sympy never equates these with an expression either
    value = _quick_value(e_node[2])
    if value is None:
        return False
    if other[0] in ("tuple", "set", "matrix", "union", "rel", "inf"):
        return True  # a finite number is none of these
    if other[0] == "num":
        o = _num_value(other[2])
        if o is None:
            return False
        ov, oe, slack = o
    elif other[0] == "expr":
        o = _quick_value(other[2])
        if o is None:
            return False
        (ov, oe), slack = o, 0.0
    else:
        return False
    diff = abs(value[0] - ov)
    bound = 4 * (value[1] + oe) + 1e-12 * max(abs(value[0]), abs(ov)) + slack
    return diff > bound


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


class _Undecidable(Exception):
    """The comparison cannot be settled within the grader's limits (the pair is graded undecided)."""


class _TooLarge(Exception):
    pass


#: Largest exact rational (in bits of numerator or denominator) computed when comparing closed forms.
EXACT_BITS = 1_000_000
#: Decimal digits of working precision sympy may use to show that a difference of closed forms is non-zero.
ZERO_TEST_DIGITS = 600


def _check_bits(v: Fraction) -> Fraction:
    if max(v.numerator.bit_length(), v.denominator.bit_length()) > EXACT_BITS:
        raise _TooLarge
    return v


def _exact(x) -> Fraction | None:
    """The exact value of a closed form made of rationals with +, -, *, /, integer powers, factorials and
    binomials; None when it has anything else (a root, pi, a symbol); _TooLarge past ``EXACT_BITS``."""
    if isinstance(x, sympy.Rational):
        return _check_bits(Fraction(int(x.p), int(x.q)))
    if isinstance(x, (sympy.Add, sympy.Mul)):
        total = Fraction(0 if isinstance(x, sympy.Add) else 1)
        for arg in x.args:
            v = _exact(arg)
            if v is None:
                return None
            total = _check_bits(total + v if isinstance(x, sympy.Add) else total * v)
        return total
    if isinstance(x, sympy.Pow):
        exp = _exact(x.exp)
        if exp is None or exp.denominator != 1:
            return None
        base = _exact(x.base)
        if base is None or (base == 0 and exp < 0):
            return None
        n = int(exp)
        if abs(base.numerator) > 1 or base.denominator > 1:
            bits = max(abs(base.numerator).bit_length(), base.denominator.bit_length())
            if abs(n) * (bits - 1) > EXACT_BITS:
                raise _TooLarge
        return _check_bits(base**n)
    if isinstance(x, (sympy.factorial, sympy.binomial)):
        args = [_exact(a) for a in x.args]
        if any(a is None or a.denominator != 1 or a < 0 for a in args):
            return None
        ints = [int(a) for a in args]
        if ints[0] > 100_000:
            raise _TooLarge
        return _check_bits(Fraction(math.factorial(ints[0]) if len(ints) == 1 else math.comb(*ints)))
    return None


def _exact_or_large(x):
    try:
        return _exact(x)
    except _TooLarge:
        return _TooLarge


def _size_digits(v) -> int:
    """About how many decimal digits the integer part of ``|v|`` has (0 below 1)."""
    m = abs(v)
    if isinstance(m, float):
        return int(math.log10(m)) if m > 1 else 0
    mpf = sympy.Float(m)._mpf_
    return max(0, int((mpf[2] + mpf[3]) * 0.30103))


def _difference_is_zero(a, b, size: int = 0) -> bool:
    """Is ``a - b`` zero, for two numeric closed forms already known to agree to about 25 digits?

    Exact where sympy can evaluate the difference; otherwise the difference is evaluated with adaptive
    precision (up to ``ZERO_TEST_DIGITS`` digits beyond twice the ``size`` of the values, in digits): a
    non-zero value means different, and a difference that stays zero to that precision is taken as zero."""
    d = a - b
    if d == 0:
        return True
    if d.is_Rational:
        return False
    try:
        v = d.evalf(15, strict=True, maxn=ZERO_TEST_DIGITS + 2 * size)
    except sympy.core.evalf.PrecisionExhausted:
        return True
    if not v.is_number:
        return False
    return bool(v == 0)


def _expr_equal(a, b) -> bool:
    if a == b:
        return True
    if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
        return False
    if a.has(sympy.Float) or b.has(sympy.Float):  # decimals inside expressions: compare exactly
        a, b = sympy.nsimplify(a, rational=True), sympy.nsimplify(b, rational=True)
    if not a.free_symbols and not b.free_symbols:
        ra, rb = _exact_or_large(a), _exact_or_large(b)
        if isinstance(ra, Fraction) and isinstance(rb, Fraction):
            return ra == rb  # exact values: exact comparison, no tolerance
        va, vb = _numeric(a), _numeric(b)
        if va is None or vb is None:
            return False
        if isinstance(va, complex) or isinstance(vb, complex):
            close = _close(complex(va), complex(vb))
        else:
            close = _close(va, vb)
        if not close:
            return False
        if ra is _TooLarge or rb is _TooLarge:
            raise _Undecidable("numbers too large to compare exactly")
        return _difference_is_zero(a, b, max(_size_digits(va), _size_digits(vb)))
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
    """sympy verdict on two nodes (called only where the exact rules could not decide).  Raises
    ``_Undecidable`` when the pair cannot be settled."""
    _sympy_setup()
    try:
        return bool(_deep_verdict(p, g))
    except _Undecidable:
        raise
    except Exception:  # noqa: BLE001 - sympy could not decide: not shown equal
        return False


def _deep_verdict(p: tuple, g: tuple):
    for dec, other, gold_is_decimal in ((p, g, False), (g, p, True)):
        if dec[0] == "num" and other[0] == "expr":
            x = _to_sympy(other[1])
            if x is None or not isinstance(x, sympy.Expr) or x.free_symbols:
                return False
            if x.has(sympy.Float):
                x = sympy.nsimplify(x, rational=True)
            value = _exact_or_large(x)
            if isinstance(value, Fraction):  # an exact rational: the exact number rules decide
                other_num = _Num(value)
                return _numbers_equal(other_num, dec[2]) if gold_is_decimal else _numbers_equal(dec[2], other_num)
            val = _numeric(x)
            if val is None or isinstance(val, complex):
                return False
            exact = sympy.Rational(dec[2].value.numerator, dec[2].value.denominator)
            if _close(val, exact):
                if value is _TooLarge:
                    raise _Undecidable("numbers too large to compare exactly")
                if _difference_is_zero(x, exact, _size_digits(val)):
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
    if _units_differ(prediction, gold):
        return False
    return bool(_compare(_node(prediction), _node(gold), deep=True))


# ---------------------------------------------------------------------------
# Worker processes with deadlines
# ---------------------------------------------------------------------------
# The parent hands a worker one pair at a time.  The worker answers ("began", tag) when it starts the
# pair and ("done", tag, verdict, reason) when it has a verdict.  A pair's deadline (``timeout``) starts
# when "began" arrives, so a worker's cold start (fork, importing sympy, a machine too loaded to schedule
# it) never counts against a comparison; a worker gets ``START_TIMEOUT`` seconds to report that it began.
# A pair whose worker overruns, dies or never starts is *undecided*: graded not correct, and flagged.

#: Seconds a worker may take to start and report that it began a pair; not part of the pair's deadline.
START_TIMEOUT = 120.0
#: Why a pair is undecided (``_Undecidable`` messages are the fourth kind, e.g. "numbers too large ...").
TIMEOUT, WORKER_DIED, NOT_STARTED = "timeout", "worker died", "worker did not start"


#: Pairs that walk sympy's main paths once, so that the modules sympy imports lazily (simplify, sets,
#: solvers, evalf) are loaded before any deadline runs: in the parent before it forks, else in the worker.
_WARMUP_PAIRS = (
    (r"\frac{3}{\sqrt{2}}", r"\frac{3\sqrt{2}}{2}"), ("x^2-1", "(x-1)(x+1)"), (r"\sin^2 x", r"1-\cos^2 x"),
    (r"x \ge 2", r"[2,\infty)"), (r"\mathbb{R}\setminus\{2\}", r"(-\infty,2)\cup(2,\infty)"),
    (r"0.577350", r"\frac{\sqrt{3}}{3}"), ("2x+y=0", "y=-2x"), (r"\frac{1}{2}+0.5x", r"\frac{x+1}{2}"),
)
_warmed = False


def _warm_sympy() -> None:
    """Import sympy, warm the LaTeX parser and sympy's lazily imported paths (once per process)."""
    global _warmed
    if _warmed:
        return
    _sympy_setup()
    _to_sympy("1")
    for prediction, gold in _WARMUP_PAIRS:
        try:
            _full_equal(prediction, gold)
        except Exception:  # noqa: BLE001 - warming only
            pass
    _warmed = True


def _warm_worker() -> None:
    """A worker's start-up, before it reads its first pair (not counted in any deadline)."""
    logging.disable(logging.CRITICAL)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    _warm_sympy()


def _worker_main(conn) -> None:
    _warm_worker()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        tag, prediction, gold = msg
        reason = None
        try:
            conn.send(("began", tag))
            try:
                ok = _full_equal(prediction, gold)
            except _Undecidable as exc:
                ok, reason = None, str(exc)
            except BaseException:  # noqa: BLE001 - RecursionError, MemoryError, sympy bugs: not equal
                ok = False
            conn.send(("done", tag, ok, reason))
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
        parent, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True, name="weakstrong-grader")
        with _spawn_lock:  # one fork at a time: no thread of ours is inside a fork when another forks
            if ctx.get_start_method() == "fork":
                # Import and warm sympy here, once, under the same lock, so that a forked worker
                # imports nothing (no import lock can be inherited half-held) and starts warm.
                _warm_sympy()
            self.proc.start()
        child.close()
        self.conn = parent
        self.tag = None
        self.began = False
        self.deadline = 0.0

    def send(self, tag, prediction: str, gold: str) -> None:
        self.tag = tag
        self.began = False
        self.deadline = time.monotonic() + START_TIMEOUT  # until the worker reports that it began
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


def _available_cpus() -> int:
    """CPUs this process may run on (a Slurm/cgroup CPU set, not the whole machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _checkout(n: int) -> list[_Worker]:
    with _idle_lock:
        got = [w for w in _idle[:n] if w.alive()]
        del _idle[:n]
    return got + [_Worker() for _ in range(n - len(got))]


def _checkin(workers: list[_Worker]) -> None:
    """Keep finished workers for reuse, at most one per CPU; stop the rest."""
    keep = _available_cpus()
    with _idle_lock:
        _idle.extend(w for w in workers if w.alive())
        surplus = _idle[keep:]
        del _idle[keep:]
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


def _run_bounded(jobs: list[tuple], timeout: float, workers: int, on_done=None) -> dict:
    """Grade ``jobs`` (tag, prediction, gold) in worker processes: {tag: (verdict, reason)}.

    ``verdict`` is True/False, or None when the pair is undecided, with ``reason`` saying why
    (``TIMEOUT``: it ran past ``timeout`` seconds after the worker began it; ``WORKER_DIED``;
    ``NOT_STARTED``: no report within ``START_TIMEOUT``; or sympy's own "too large" limit).
    A worker past its deadline is killed and replaced.
    """
    results: dict = {}
    if not jobs:
        return results
    pending = list(reversed(jobs))
    pool = _checkout(max(1, min(workers, len(jobs))))
    busy: dict = {}

    def finish(w: _Worker, verdict, reason) -> None:
        results[w.tag] = (verdict, reason)
        busy.pop(w.conn, None)
        w.tag = None
        if on_done:
            on_done()

    def replace(w: _Worker) -> None:
        w.kill()
        pool[pool.index(w)] = _Worker()

    def read(w: _Worker) -> None:
        """Handle every message the worker has sent; its death too."""
        try:
            while w.tag is not None and w.conn.poll():
                msg = w.conn.recv()
                if msg[0] == "began" and msg[1] == w.tag:
                    w.began = True
                    w.deadline = time.monotonic() + timeout
                elif msg[0] == "done" and msg[1] == w.tag:
                    finish(w, None if msg[2] is None else bool(msg[2]), msg[3])
        except (EOFError, OSError):  # the worker died (out of memory, a crash): undecided
            log.warning("a grading worker died during a pair; the pair is undecided")
            finish(w, None, WORKER_DIED)
            replace(w)

    try:
        while pending or busy:
            for i, w in enumerate(pool):
                if w.tag is None and pending:
                    tag, pred, gold = pending.pop()
                    try:
                        w.send(tag, pred, gold)
                    except (OSError, ValueError):
                        w.kill()
                        pool[i] = w = _Worker()
                        w.send(tag, pred, gold)
                    busy[w.conn] = w
            now = time.monotonic()
            wait_for = max(0.0, min(w.deadline for w in busy.values()) - now)
            for conn in _wait_conns(list(busy), timeout=wait_for):
                if conn in busy:
                    read(busy[conn])
            for w in list(busy.values()):
                if time.monotonic() < w.deadline:
                    continue
                read(w)  # a verdict (or a death) that arrived meanwhile wins over the deadline
                if w.tag is None or time.monotonic() < w.deadline:
                    continue
                reason = TIMEOUT if w.began else NOT_STARTED
                log.warning("grading: %s after %.1fs; worker killed, pair undecided", reason,
                            timeout if w.began else START_TIMEOUT)
                finish(w, None, reason)
                replace(w)
    finally:
        for w in list(busy.values()):
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
        if _units_differ(prediction, gold):
            return False
        return _compare(_node(prediction), _node(gold), deep=False)
    except Exception:  # noqa: BLE001 - e.g. RecursionError on absurd nesting: a bounded worker decides
        log.debug("fast path failed on %r vs %r", prediction[:80], gold[:80], exc_info=True)
        return None


def is_equivalent(prediction: str, gold: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Is ``prediction`` the same final answer as ``gold``?

    Exact string/number rules decide most pairs in-process; the rest are settled by
    sympy in a worker process within ``timeout`` seconds of comparison.  An undecided
    pair (see ``grade_many``) is not shown equal: False.
    """
    r = _fast(prediction, gold)
    if r is not None:
        return r
    return bool(_run_bounded([(0, prediction, gold)], timeout, 1)[0][0])


def grade(completion: str, gold: str, style: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Extract the final answer of ``completion`` and compare it with ``gold``; no answer is False.

    Final boxes joined by "or" also count when every one of them equals ``gold`` (see ``_alternatives``).
    Undecided is False here; ``grade_many`` reports it.
    """
    answer = extract_answer(completion, style)
    if answer is None:
        return False
    if is_equivalent(answer, gold, timeout=timeout):
        return True
    alternatives = _alternatives(completion, style)
    return bool(alternatives) and all(is_equivalent(a, gold, timeout=timeout) for a in alternatives)


def _resolve_workers(workers: int | None) -> int:
    return max(1, int(workers) if workers else _available_cpus())


def _or3(values) -> bool | None:
    """Three-valued OR: True if any is True, else None if any is None, else False."""
    values = list(values)
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def grade_many(completions: list[str], golds: list[str], style: str, *, timeout: float = DEFAULT_TIMEOUT,
               workers: int | None = None, progress: bool = False) -> list[dict]:
    """Grade many completions; per item, in input order::

        {"extracted_answer": str | None, "correct": bool,
         "undecided": bool,      # the grader could not decide: a comparison timed out, its worker
                                 # died or never started, or the numbers were too large to compare
         "reason": str | None,   # why undecided: "timeout", "worker died", "worker did not start",
                                 # "numbers too large to compare exactly"; None when decided
         "timed_out": bool}      # reason == "timeout" (kept for older readers)

    An undecided item has ``correct`` False: it must be counted as undecided, not as wrong (see
    ``undecided_summary``).  Pairs the exact rules decide are graded in this process; the others go
    to ``workers`` processes (default: the CPUs this process may use), each pair under a deadline of
    ``timeout`` seconds that starts when its worker begins it.
    """
    check_style(style)
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
    reasons: dict[tuple[int, int], str | None] = {}
    for i, (completion, gold) in enumerate(zip(completions, golds)):
        answer = extract_answer(completion, style)
        out.append({"extracted_answer": answer, "correct": False, "undecided": False, "reason": None,
                    "timed_out": False})
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
    for key, (verdict, reason) in done.items():
        verdicts[key], reasons[key] = verdict, reason
    for i, item in enumerate(out):
        if not candidates[i]:
            continue  # no answer: decided, not correct
        keys = [(i, j) for j in range(len(candidates[i]))]
        alternatives = [verdicts[k] for k in keys[1:]]
        verdict = _or3([verdicts[keys[0]], _all3(alternatives) if alternatives else False])
        item["correct"] = verdict is True
        if verdict is None:
            item["undecided"] = True
            item["reason"] = next(reasons[k] for k in keys if verdicts[k] is None)
            item["timed_out"] = item["reason"] == TIMEOUT
    if bar:
        bar.close()
    return out


def undecided_summary(verdicts) -> dict:
    """How many graded items the grader could not decide, for the record beside each graded file.

    ``verdicts`` are ``grade_many`` items, or graded records carrying the same fields (``undecided`` /
    ``reason``, or ``grading_undecided`` / ``grading_undecided_reason``).  Returns
    ``{"items", "decided", "undecided", "undecided_share", "by_reason": {reason: count}}``, with
    ``undecided_share`` None when there are no items."""
    items = undecided = 0
    by_reason: dict[str, int] = {}
    for v in verdicts:
        items += 1
        if v.get("undecided", v.get("grading_undecided", False)):
            undecided += 1
            reason = v.get("reason", v.get("grading_undecided_reason")) or "unknown"
            by_reason[reason] = by_reason.get(reason, 0) + 1
    return {"items": items, "decided": items - undecided, "undecided": undecided,
            "undecided_share": undecided / items if items else None, "by_reason": dict(sorted(by_reason.items()))}


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
        "start_timeout_seconds": START_TIMEOUT,
        "deadline": "per pair, from the moment its worker reports that it began the pair (a worker's "
                    "start-up is not counted); undecided when exceeded",
        "undecided_reasons": [TIMEOUT, WORKER_DIED, NOT_STARTED, "numbers too large to compare exactly"],
        "exact_rational_bits": EXACT_BITS,
        "closed_form_zero_test_digits": ZERO_TEST_DIGITS,
        "closed_form_prefilter_relative_tolerance": _REL_TOL,
        "units": "answers naming different units of measure differ (no conversion); a unit-less side matches",
        "clock_times": "h:mm[:ss] (or an hour with am/pm) read as a time of day, never a ratio or fraction; "
                       "am/pm on one side only: equal to the 24-hour form or the same 12-hour reading; a whole "
                       "number 0-23 against a time reads as that hour without am/pm",
        "math_verify_version": _version("math-verify"),
        "latex2sympy2_extended_version": _version("latex2sympy2_extended"),
        "sympy_version": _version("sympy"),
        "python_version": sys.version.split()[0],
        "math_extraction": "the first Minerva line 'Final Answer: The final answer is X. I hope it is correct.' "
                           "(X, or the boxes in X); else the last \\boxed{}/\\fbox{} (side-by-side boxes "
                           "joined); none -> None; boxes joined by 'or' also count when each equals the gold",
        "gsm8k_extraction": "first '#### N'; else last 'answer is N'/'Answer: N'/'A: N'; else last boxed number; "
                            "else last number only if the text ends finished (. ! ? or EOS token)",
    }


__all__ = ["GRADER_VERSION", "extract_answer", "is_equivalent", "grade", "grade_many", "grader_settings",
           "undecided_summary"]
