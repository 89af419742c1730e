r"""Layer 5: quick rejection in floating point with error bounds, in the calling process.

An expression of numbers, + - * /, powers, \frac, \sqrt, \pi, i, factorials, binomials, a few functions
and single-letter variables is evaluated in complex floating point, each value with a bound on its
rounding error (variables at a fixed point).  Two values further apart than their error bounds (plus
a decimal's last place) cannot be equal, so the pair is graded False without sympy.  Nothing is ever
graded True this way, and anything the grammar does not read unambiguously the way sympy reads it
("x^23", "a/bc", "\sin 2x", "e", subscripts) is left to sympy.
"""

from __future__ import annotations

import math
import re
import zlib
from functools import lru_cache

from weakstrong.grading.exact import _Num

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
