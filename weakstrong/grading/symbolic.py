"""Layer 6: sympy.  Runs only inside a worker process, under a deadline (``pool``): two answer trees that the
exact rules could not decide, converted with Math-Verify's ``latex2sympy2_extended`` and compared."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from functools import lru_cache

from weakstrong.grading.exact import MIN_SIG_DIGITS, _Num, _numbers_equal

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
