"""Layer 2: exact numbers.  An answer key read as an exact ``Fraction`` (integer, decimal, fraction, mixed
number, scientific notation, integer power), and the rules that compare two of them (a rounded decimal
against a non-terminating value)."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

#: Largest decimal exponent / digit count the exact fast path accepts.
_MAX_EXP = 1000
_MAX_DIGITS = 1000
#: A decimal prediction compared with a non-terminating exact gold needs this many significant digits.
MIN_SIG_DIGITS = 6


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
