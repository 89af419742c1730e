r"""An exact checker for the arithmetic steps of a worked solution.

A *kept* solution (its final answer is right) is a **false positive** when any step this module can check is
wrong.  Two kinds of step are recognised, in order of appearance:

* **annotations** ``<<expr=value>>`` (GSM8K's calculator notes, also ``<<a=b=c>>``): every part after the
  first must equal the first.  The number written right after ``>>`` (``<<48/2=24>>24``, ``>>$24``,
  ``>>3/4``, ``>>17 500``) is the *carry-over*: it must equal ``value`` (``-200`` may be carried as ``200``:
  "200 less" says the sign in words).  An annotation whose expression is not plain arithmetic (a variable,
  ``%``) is a step whose expression cannot be checked, though its carry-over still can.
* **equalities** ``lhs = rhs`` in LaTeX or plain text (``$3 \times 4 = 12$``, ``48/2 = 24 clips``,
  ``x = 2 \cdot 3 + 1 = 6 + 1 = 7``: each pair of a chain whose right side is a single number is a step,
  here ``6 + 1 = 7``; ``a = b + c = d`` running totals are not read as claims that ``a = b + c``).  The left
  side must compute something (an operator, a fraction or a power: ``Day 2 = 10`` is not a step); the right
  side is one number (``7``, ``-2.5``, ``3/4``, ``\frac{7}{3}``).

Arithmetic is numbers (``1,000``, ``1\,000``, ``2.5``, ``.5``), ``\frac{a}{b}`` (``\dfrac``, ``\tfrac``),
``\times``, ``\cdot``, ``\div``, ``+ - * / × ÷ ·``, ``x`` between two numbers (``3 x 4``), parentheses and
braces, powers with an integer exponent (``2^3``, ``2^{10}``; ``2**10`` inside annotations), signs and
implicit products before a parenthesis (``2(3+4)``).

Anything that could make a text read as a step when it is not one makes it *not a step* (never a wrong
one), so flags are conservative:

* a side must be the whole run of arithmetic next to ``=`` (after dropping brackets opened before it or
  closed after it): ``x^2 = 9``, ``f(2) = 5``, ``\sqrt{16} = 4``, ``3! = 6``, ``3x = 12``, ``20% = 0.2``,
  ``0.\overline{3}`` are not steps;
* ambiguous writing is unreadable: ``2^10`` (TeX reads ``2^1 0``), ``2\frac12``, ``a / b / c`` (``60 / 3/4
  = 80``), numbers with a leading zero (``0900 - 0130``, clock times);
* before the left side may only come a boundary: start of text or line, ``=``, ``$``, ``\(``, ``\[``,
  ``:``, ``;``, ``?``, ``,`` or ``.`` followed by a space, an annotation, an opening bracket, or a word
  after a space that is not in :data:`WORDS_BEFORE` (``20% of 50 = 10``, ``1 and 1/4 = 1.25``); a left
  side starting with a sign may not follow a word (``apples - 2 + 3 = 3``), nor may a bare range
  (``Weeks 1-2 = 26``);
* after the right side may only come a boundary: end of text or line, ``=``, ``$``, ``\)``, ``\]``,
  punctuation followed by a space (not ``0.\overline{3}``, ``0.33...``), a closing bracket, or a word after
  a space (``24 clips``) that is not in :data:`WORDS_AFTER` (``= 5 and 2/3``, ``= 50 cents``).

**Style.**  In ``math`` style ``$`` delimits mathematics (a boundary) and ``\$`` is a currency sign; in
``gsm8k`` style a ``$`` right before a number is a currency sign and is dropped (``$5 * 3 = $15``).

**Exactness.**  All values are :class:`fractions.Fraction`; no floats.  Equal values always match.  A
result written as a plain number with ``d`` decimal places (``d = 0`` for an integer) that is too short to
hold the exact value matches when within ``10**-d`` of it (rounded or truncated: ``10/3 = 3.33``; ``13 / 6 =
2`` full cycles); when ``d`` places could have held it exactly, it must be exact (``0.5 * 3 = 1.4`` is
wrong).  A literal of :data:`FLOAT_DIGITS` or more significant digits is a calculator's float rendering
(``<<9/14*84=54.00000000000001>>``) and matches within a relative ``1e-9``.  Division by zero makes a side
unreadable.

**Safety.**  Only the first :data:`MAX_CHARS` characters are read (``truncated`` says so); number literals
longer than :data:`MAX_DIGITS` digits, values over :data:`MAX_BITS` bits, exponents over
:data:`MAX_EXPONENT`, nesting deeper than :data:`MAX_DEPTH` and runs longer than :data:`MAX_RUN` tokens make
a side unreadable.  The regular expressions do not backtrack badly, so garbage never hangs.

**Validation** (``../shared/data``, gold solutions): of 8,792 GSM8K train+test solutions 8,714 have a
checkable step and 19 are flagged, nearly all real slips in the gold text (``2*8 = 24``, ``70 + 40 =
100``); of MATH500's 500, 108 have a checkable step and 1 is flagged (a real sign slip).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

from weakstrong.styles import check_style

#: Characters of a solution that are read; the rest is ignored (and ``truncated`` is set).
MAX_CHARS = 20_000
#: Digits a number literal may have.
MAX_DIGITS = 60
#: Bits the numerator and denominator of any intermediate value may have.
MAX_BITS = 2048
#: Largest absolute integer exponent.
MAX_EXPONENT = 512
#: Deepest nesting of parentheses, braces and signs.
MAX_DEPTH = 40
#: Significant digits from which a decimal literal is read as a float rendering (``0.09999999999999998``).
FLOAT_DIGITS = 13
#: Longest run of arithmetic tokens that is parsed (longer runs are not steps).
MAX_RUN = 200
#: Longest annotation body between ``<<`` and ``>>``.
MAX_ANNOTATION = 400

#: Words that, right before a left side, make it part of a spoken computation (``20% of 50 = 10``).
WORDS_BEFORE = frozenset(
    "of x times by plus minus over per into divided multiplied less more than add added subtract subtracted "
    "sqrt root and".split())
#: Words that, right after a right side, continue the computation (``= 5 times 3``, ``= 20 percent``).
#: Also a mixed number (``= 5 and 2/3``) and a change of scale (``= 50 cents``, ``= $15 thousand``).
WORDS_AFTER = frozenset("of x times plus minus over divided multiplied squared cubed percent and cents hundred "
                        "thousand million billion dozen".split())
#: LaTeX commands that separate statements.
BOUNDARY_COMMANDS = frozenset(
    r"\( \) \[ \] \\ \implies \Rightarrow \Longrightarrow \rightarrow \to \therefore \because \iff "
    r"\Leftrightarrow \hence \text".split())

# --- preprocessing ------------------------------------------------------------------------------------

_PREPROCESS = (
    (re.compile(r"\\(?:text(?:bf|it|rm|sf|tt|normal)?|math(?:rm|bf|it|sf|tt)|mbox|operatorname)\s*\{([^{}]*)\}"),
     r" \1 "),
    (re.compile(r"\\(?:begin|end)\s*\{[^{}]*\}(?:\{[^{}]*\})?"), "\n"),
    (re.compile(r"\\(?:left|right|[bB]igg?[lr]?)(?![A-Za-z])"), ""),
    (re.compile(r"(?<=[0-9])(?:\{,\}|,\\!|\\,|\\!|\\ )\s?(?=[0-9]{3}(?![0-9]))"), ","),
    (re.compile(r"\\[,;:! ]|~|\\q?quad(?![A-Za-z])|&"), " "),
    (re.compile(r"\\\$"), ""),
)
_CURRENCY_RE = re.compile(r"\$(?=-?\.?[0-9])")

_TOKEN_RE = re.compile(r"""
 (?P<ann><<[^<>]{0,%d}>>)
|(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+)
|(?P<cmd>\\(?:[A-Za-z]+|.))
|(?P<word>[^\W\d_]+)
|(?P<nl>\n)
|(?P<ws>[^\S\n]+)
|(?P<pow>\*\*)
|(?P<op>[-+*/^×÷·−–])
|(?P<lp>\()
|(?P<rp>\))
|(?P<lb>\{)
|(?P<rb>\})
|(?P<eq>=)
|(?P<other>.)
""" % MAX_ANNOTATION, re.X | re.S)

_OPS = {"×": "*", "·": "*", "÷": "/", "−": "-", "–": "-"}
_COMMAND_OPS = {r"\times": "*", r"\cdot": "*", r"\ast": "*", r"\div": "/"}
_FRACS = {r"\frac", r"\dfrac", r"\tfrac"}
_ARITH = frozenset({"num", "op", "lp", "rp", "lb", "rb", "frac"})
_OPEN = {"lp": "rp", "lb": "rb"}
_CARRY_RE = re.compile(r"(?:\\?\$)?([-−]?(?:[0-9]{1,3}(?:[, ][0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?"
                       r"|[-−]?\.[0-9]+)(?:/([0-9]{1,%d})(?![0-9.]))?" % MAX_DIGITS)


class Token(NamedTuple):
    kind: str          # ann num cmd word nl pow op lp rp lb rb eq other frac bound
    text: str          # normalised text ("*" for \times, "^" for ** in annotations)
    start: int
    end: int
    space_before: bool
    next_char: str     # the character right after the token ('' at the end)


def _preprocess(text: str, style: str) -> str:
    check_style(style)
    for pattern, replacement in _PREPROCESS:
        text = pattern.sub(replacement, text)
    return _CURRENCY_RE.sub("", text) if style == "gsm8k" else text


def _tokenize(text: str, *, annotation: bool = False) -> list[Token]:
    """Tokens of ``text`` (already preprocessed), whitespace folded into ``space_before``."""
    tokens: list[Token] = []
    space = False
    for m in _TOKEN_RE.finditer(text):
        kind, raw = m.lastgroup, m.group()
        if kind == "ws":
            space = True
            continue
        value = raw
        if kind == "op":
            value = _OPS.get(raw, raw)
        elif kind == "pow":
            kind, value = ("op", "^") if annotation else ("other", raw)
        elif kind == "cmd":
            if raw in _COMMAND_OPS:
                kind, value = "op", _COMMAND_OPS[raw]
            elif raw in _FRACS:
                kind = "frac"
            elif raw in BOUNDARY_COMMANDS:
                kind = "bound"
        elif kind == "other" and raw == "$":
            kind = "bound"
        tokens.append(Token(kind, value, m.start(), m.end(), space, text[m.end():m.end() + 1]))
        space = False
    # "3 x 4": a lone x between two numbers is a multiplication sign
    for i in range(1, len(tokens) - 1):
        t = tokens[i]
        if (t.kind == "word" and t.text in ("x", "X") and tokens[i - 1].kind in ("num", "rp")
                and tokens[i + 1].kind in ("num", "lp")):
            tokens[i] = t._replace(kind="op", text="*")
    return tokens


# --- exact evaluation -----------------------------------------------------------------------------------

class _Unreadable(Exception):
    """A side that is not plain arithmetic, or too large to evaluate safely."""


def _check_size(value: Fraction) -> Fraction:
    if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
        raise _Unreadable("value too large")
    return value


def number_value(text: str) -> Fraction:
    """Exact value of a number literal (``1,000``, ``2.50``, ``.5``, ``-3``); raises ValueError."""
    digits = text.replace(",", "").replace(" ", "").replace("−", "-")
    if sum(c.isdigit() for c in digits) > MAX_DIGITS:
        raise ValueError(f"number literal longer than {MAX_DIGITS} digits")
    return Fraction(digits)


class _Parser:
    """Recursive descent over arithmetic tokens; ``operations`` counts what was computed."""

    def __init__(self, tokens: list[Token]):
        self.tokens, self.i, self.depth, self.operations = tokens, 0, 0, 0

    def parse(self) -> Fraction:
        if not self.tokens:
            raise _Unreadable("empty")
        value = self._expr()
        if self.i != len(self.tokens):
            raise _Unreadable(f"unexpected {self.tokens[self.i].text!r}")
        return value

    def _peek(self, *kinds: str) -> Token | None:
        if self.i < len(self.tokens) and self.tokens[self.i].kind in kinds:
            return self.tokens[self.i]
        return None

    def _op(self, symbols: str) -> Token | None:
        token = self._peek("op")
        return token if token is not None and token.text in symbols else None

    def _take(self, kind: str) -> Token:
        token = self._peek(kind)
        if token is None:
            raise _Unreadable(f"expected {kind}")
        self.i += 1
        return token

    def _nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Unreadable("nested too deeply")

    def _expr(self) -> Fraction:
        value = self._term()
        while (op := self._op("+-")) is not None:
            self.i += 1
            other = self._term()
            value = _check_size(value + other if op.text == "+" else value - other)
            self.operations += 1
        return value

    def _term(self) -> Fraction:
        value = self._factor()
        while True:
            op = self._op("*/")
            if op is not None:
                self.i += 1
                other = self._factor()
                if op.text == "/":
                    if self._op("/") is not None:
                        raise _Unreadable("a / b / c is ambiguous")  # 60 / 3/4 = 80
                    if other == 0:
                        raise _Unreadable("division by zero")
                    value = value / other
                else:
                    value = value * other
            elif self._peek("lp") is not None:  # implicit product: 2(3+4), (2)(3)
                value = value * self._factor()
            else:
                return value
            value = _check_size(value)
            self.operations += 1

    def _factor(self) -> Fraction:
        sign = self._op("+-")
        if sign is not None:
            self.i += 1
            self._nest()
            value = self._factor()
            self.depth -= 1
            return -value if sign.text == "-" else value
        return self._power()

    def _power(self) -> Fraction:
        base = self._primary()
        caret = self._op("^")
        if caret is None:
            return base
        self.i += 1
        following = self._peek("num")
        if following is not None and len(following.text) > 1 and caret.end - caret.start == 1:
            raise _Unreadable("LaTeX exponent without braces")  # TeX reads 2^10 as 2^1 followed by 0
        self._nest()
        exponent = self._factor()
        self.depth -= 1
        if exponent.denominator != 1 or abs(exponent) > MAX_EXPONENT:
            raise _Unreadable("exponent not a small integer")
        if base == 0 and exponent < 0:
            raise _Unreadable("division by zero")
        bits = max(base.numerator.bit_length(), base.denominator.bit_length())
        if bits * abs(exponent.numerator) > MAX_BITS:
            raise _Unreadable("power too large")
        self.operations += 1
        return _check_size(base ** exponent.numerator)

    def _primary(self) -> Fraction:
        token = self._peek("num", "lp", "lb", "frac")
        if token is None:
            raise _Unreadable("expected a number")
        self.i += 1
        if token.kind == "num":
            if re.match(r"0[0-9]", token.text):
                raise _Unreadable("leading zero (a clock time or a code)")
            try:
                return number_value(token.text)
            except ValueError as error:
                raise _Unreadable(str(error)) from None
        self._nest()
        if token.kind == "frac":
            numerator = self._group()
            denominator = self._group()
            if denominator == 0:
                raise _Unreadable("division by zero")
            self.operations += 1
            value = _check_size(numerator / denominator)
        else:
            value = self._expr()
            self._take(_OPEN[token.kind])
        self.depth -= 1
        return value

    def _group(self) -> Fraction:
        self._take("lb")
        value = self._expr()
        self._take("rb")
        return value


def _evaluate(tokens: list[Token]) -> tuple[Fraction, int] | None:
    """(value, operations) of a complete arithmetic expression, or None."""
    if len(tokens) > MAX_RUN:
        return None
    parser = _Parser(tokens)
    try:
        return parser.parse(), parser.operations
    except (_Unreadable, RecursionError, ZeroDivisionError, OverflowError, ValueError):
        return None


def evaluate(expression: str) -> Fraction | None:
    r"""Exact value of an arithmetic expression (plain, Python-style or LaTeX), or None when it is not one.

    >>> evaluate(r"\frac{3}{4} \times 8 - 2")
    Fraction(4, 1)
    """
    text = _preprocess(expression[:MAX_CHARS], "gsm8k")
    tokens = _tokenize(text, annotation=True)
    if any(t.kind not in _ARITH for t in tokens):
        return None
    result = _evaluate(tokens)
    return None if result is None else result[0]


def _unsigned(tokens: list[Token]) -> list[Token]:
    return tokens[1:] if len(tokens) > 1 and tokens[0].kind == "op" and tokens[0].text in "+-" else tokens


def _is_literal(tokens: list[Token]) -> bool:
    """A single number: ``7``, ``-2.5``, ``3/4``, ``-\frac{7}{3}``."""
    kinds = [t.kind for t in _unsigned(tokens)]
    return (kinds == ["num"] or kinds == ["num", "op", "num"] and _unsigned(tokens)[1].text == "/"
            or kinds == ["frac", "lb", "num", "rb", "lb", "num", "rb"])


def decimal_places(literal: str) -> int | None:
    """Places of a plain number literal (``12`` -> 0, ``-3.25`` -> 2); None for anything else."""
    body = literal.strip().lstrip("+-−")
    if not re.fullmatch(r"[0-9,]*\.?[0-9]+|[0-9,]+", body):
        return None
    return len(body.split(".")[1]) if "." in body else 0


def _literal(tokens: list[Token]) -> str | None:
    body = _unsigned(tokens)
    return body[0].text if len(body) == 1 and body[0].kind == "num" else None


def matches(exact: Fraction, written: Fraction, literal: str | None = None) -> bool:
    """Whether ``written`` states ``exact``.

    ``literal`` is how ``written`` was spelled when it is a plain number literal (None otherwise).  Equal
    values always match.  A literal with ``d`` decimal places that is too short to hold ``exact`` matches
    when it is within ``10**-d`` (rounded or truncated: ``10/3 = 3.33``, ``13/6 = 2`` full cycles).  A
    literal of :data:`FLOAT_DIGITS` or more significant digits is a calculator's float rendering
    (``54.00000000000001``) and matches within a relative ``1e-9``.
    """
    if exact == written:
        return True
    places = None if literal is None else decimal_places(literal)
    if places is None or places > MAX_DIGITS:
        return False
    if len(literal.replace(",", "").replace(".", "").lstrip("+-−0")) >= FLOAT_DIGITS \
            and abs(exact - written) <= abs(exact) * Fraction(1, 10 ** 9):
        return True
    unit = Fraction(1, 10 ** places)
    if (exact / unit).denominator == 1:  # the literal could have been exact
        return False
    return abs(exact - written) < unit


def canonical(value: Fraction) -> str:
    """One spelling per value: ``24``, ``-7/3``."""
    return str(value)


# --- steps -------------------------------------------------------------------------------------------------

def _step(kind: str, text: str, position: int, lhs: str, rhs: str | None) -> dict:
    return {"kind": kind, "text": text, "position": position, "lhs": lhs, "rhs": rhs, "value": None,
            "claimed": None, "carry": None, "checks": {}, "checkable": False, "correct": None}


def _finish(step: dict) -> dict:
    step["checkable"] = bool(step["checks"])
    step["correct"] = all(step["checks"].values()) if step["checks"] else None
    return step


def _carry_readings(match: re.Match | None) -> list[tuple[str, Fraction, str | None]]:
    """Ways to read the number after an annotation: (text, value, literal or None for a fraction).

    ``12 200`` may be twelve thousand two hundred or 12 followed by another number: both are tried."""
    if match is None:
        return []
    literal, denominator = match.group(1).replace("−", "-"), match.group(2)
    candidates = [literal] + ([literal.split(" ")[0]] if " " in literal else [])
    readings = []
    for candidate in candidates:
        try:
            value = number_value(candidate)
        except ValueError:
            continue
        if denominator is None:
            readings.append((candidate, value, candidate.replace(" ", "")))
        elif int(denominator):
            readings.append((f"{candidate}/{denominator}", value / int(denominator), None))
    return readings


def _annotation_step(token: Token, text: str) -> dict:
    body = token.text[2:-2]
    parts = body.split("=")
    step = _step("annotation", token.text, token.start, parts[0].strip(),
                 parts[-1].strip() if len(parts) > 1 else None)
    part_tokens = [_tokenize(part, annotation=True) for part in parts]
    values = [_evaluate(t) if all(x.kind in _ARITH for x in t) else None for t in part_tokens]
    if len(parts) > 1 and values[-1] is not None:
        step["claimed"] = canonical(values[-1][0])
    if len(parts) > 1 and values[0] is not None and all(v is not None for v in values[1:]):
        exact = values[0][0]
        step["value"] = canonical(exact)
        step["checks"]["expression"] = all(
            matches(exact, value[0], _literal(tokens))
            for value, tokens in zip(values[1:], part_tokens[1:]))
    readings = _carry_readings(_CARRY_RE.match(text, token.end))
    if readings:
        step["carry"] = readings[0][0]
        if values[-1] is not None and len(parts) > 1:
            claimed = values[-1][0]
            for spelled, written, literal in readings:
                # "<<1800-2000=-200>>200 less": a sign may be said in words
                if matches(claimed, written, literal) or claimed < 0 < written and matches(-claimed, written, literal):
                    step["carry"] = spelled
                    step["checks"]["carry"] = True
                    break
            else:
                step["checks"]["carry"] = False
    return _finish(step)


def _balanced_left(run: list[Token]) -> list[Token] | None:
    """The part of a left run after its last unmatched opener; None when a closer is unmatched."""
    stack: list[int] = []
    for i, token in enumerate(run):
        if token.kind in _OPEN:
            stack.append(i)
        elif token.kind in ("rp", "rb"):
            if not stack or _OPEN[run[stack[-1]].kind] != token.kind:
                return None
            stack.pop()
    return run[stack[-1] + 1:] if stack else run


def _balanced_right(run: list[Token]) -> list[Token] | None:
    """The part of a right run before its first unmatched closer; None when an opener is unmatched."""
    stack: list[str] = []
    for i, token in enumerate(run):
        if token.kind in _OPEN:
            stack.append(token.kind)
        elif token.kind in ("rp", "rb"):
            if not stack:
                return run[:i]
            if _OPEN[stack.pop()] != token.kind:
                return None
    return None if stack else run


def _left_boundary_ok(before: Token | None, first: Token) -> bool:
    if before is None or before.kind in ("nl", "eq", "bound", "lp", "lb"):
        return True
    signed = first.kind == "op" and first.text in "+-"
    if before.kind == "ann":
        return not signed
    if before.kind == "other":
        if before.text in ",.":  # 16,0000 or 3.(5): a digit group, not a boundary
            return first.space_before
        return before.text in ":;?[\"" or before.text == "**"
    if before.kind == "word":
        return first.space_before and not signed and before.text.lower() not in WORDS_BEFORE
    return False


def _right_boundary_ok(after: Token | None) -> bool:
    if after is None or after.kind in ("nl", "eq", "bound", "rp", "rb", "ann"):
        return True
    if after.kind == "other":
        if after.text in ".,;:?":
            return after.next_char == "" or after.next_char.isspace() or after.next_char in "$*)]\"'"
        return after.text in "]\"" or after.text == "**"
    if after.kind == "word":
        return after.space_before and after.text.lower() not in WORDS_AFTER
    return False


def _is_range(left: list[Token], before: Token | None) -> bool:
    """``Weeks 1-2``: two integers joined by a bare hyphen after a word."""
    return (before is not None and before.kind == "word" and len(left) == 3 and left[0].kind == left[2].kind == "num"
            and left[1].text == "-" and not left[1].space_before and not left[2].space_before)


def _equality_steps(tokens: list[Token], text: str) -> list[dict]:
    steps = []
    for i, token in enumerate(tokens):
        if token.kind != "eq":
            continue
        start = i
        while start > 0 and tokens[start - 1].kind in _ARITH and i - start < MAX_RUN:
            start -= 1
        end = i + 1
        while end < len(tokens) and tokens[end].kind in _ARITH and end - i < MAX_RUN:
            end += 1
        left = _balanced_left(tokens[start:i])
        right = _balanced_right(tokens[i + 1:end])
        if not left or not right:
            continue
        before_index = i - len(left) - 1
        before = tokens[before_index] if before_index >= 0 else None
        after_index = i + 1 + len(right)
        after = tokens[after_index] if after_index < len(tokens) else None
        if not _left_boundary_ok(before, left[0]) or not _right_boundary_ok(after):
            continue
        if not _is_literal(right) or _is_range(left, before):
            continue
        lhs, rhs = _evaluate(left), _evaluate(right)
        if lhs is None or rhs is None or lhs[1] == 0:
            continue
        step = _step("equality", text[left[0].start:right[-1].end], left[0].start,
                     text[left[0].start:left[-1].end], text[right[0].start:right[-1].end])
        step["value"], step["claimed"] = canonical(lhs[0]), canonical(rhs[0])
        step["checks"]["expression"] = matches(lhs[0], rhs[0], _literal(right))
        steps.append(_finish(step))
    return steps


def check_solution(solution: str, style: str = "math") -> dict:
    """Extract and check every arithmetic step of a solution (see the module docstring for the rules).

    Returns a JSON-ready dict:

    * ``steps``: in order of appearance, each ``{"kind": "annotation"|"equality", "text", "position",
      "lhs", "rhs", "value"`` (exact value of the left side), ``"claimed"`` (value of the written result),
      ``"carry"`` (number written after an annotation), ``"checks"`` (``{"expression": bool, "carry":
      bool}``, the ones that could be made), ``"checkable"``, ``"correct"`` (None when not checkable)``}``;
      values are exact, spelled ``24`` or ``-7/3``;
    * ``checkable``: how many steps could be checked; ``wrong``: how many of those are wrong;
    * ``wrong_steps``: those steps;
    * ``results``: the claimed results of the steps, in order (the *reasoning signature*);
    * ``flawed``: True when any checkable step is wrong;
    * ``truncated``: True when only the first :data:`MAX_CHARS` characters were read.
    """
    if not isinstance(solution, str):
        raise TypeError(f"solution must be a string, not {type(solution).__name__}")
    text = _preprocess(solution[:MAX_CHARS], style)
    tokens = _tokenize(text)
    steps = [_annotation_step(t, text) for t in tokens if t.kind == "ann"]
    steps += _equality_steps(tokens, text)
    steps.sort(key=lambda s: s["position"])
    wrong = [s for s in steps if s["correct"] is False]
    return {"steps": steps, "checkable": sum(s["checkable"] for s in steps), "wrong": len(wrong),
            "wrong_steps": wrong, "results": [s["claimed"] for s in steps if s["claimed"] is not None],
            "flawed": bool(wrong), "truncated": len(solution) > MAX_CHARS}

