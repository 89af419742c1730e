"""Layer 1: answer text.  Brace matching, delimiter stripping and cleaning (LaTeX noise, units, separators)
of one answer string, and its whitespace-free key.  Imports nothing from the rest of the grader."""

from __future__ import annotations

import re
from functools import lru_cache

#: Answers longer than this (after extraction) are graded False without parsing.
MAX_ANSWER_CHARS = 2000


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
    ("≈", "\\approx "), ("\\simeq", "\\approx"), ("\\approxeq", "\\approx"), ("\\thickapprox", "\\approx"),
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
