"""Layer 3: answer extraction.  The final answer of a completion: the final box (or Minerva line) of a
``math`` completion, the "#### N" / "The answer is N" / last number of a ``gsm8k`` one."""

from __future__ import annotations

import re

from weakstrong.grading.exact import _number
from weakstrong.grading.text import MAX_ANSWER_CHARS, _brace_pairs, _clean, _key, _strip_delims
from weakstrong.styles import check_style

_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])(\s*)")
_BOX_JOIN_RE = re.compile(r"^(?:\s|[,;$]|\\[,;:!]|\\quad|\\text\{\s*(?:and|or)\s*\}|\band\b|\bor\b)*$")
_OR_RE = re.compile(r"\bor\b")


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


# Which box is the answer.  The final answer is the *last box that stands alone*; a box that is an operand
# inside an equation is skipped wherever it is, before or after the answer:
#   * a box followed, inside its formula, by an arithmetic operator is an operand:
#     "$\boxed{2x} + 1 = 7$" (+, -, /, \cdot, \times, \div; "*" is left out: "**" closes Markdown bold);
#   * a box followed by a relation (=, <, >, \le, \ge, \ne, \approx, \equiv, ...) is an operand when it holds
#     an unknown (a letter outside LaTeX command names) and no relation comes before it: "so $\boxed{x} = 3$".
#     A box that holds only numbers and constants stays an answer when an equation restates it
#     ("$\boxed{\frac12} = 0.5$"), and so does the result of a chain ("$36 - 10 = \boxed{26} = x$").
# "Inside its formula": only spaces, tabs and an alignment "&" may stand between the box and the sign; a
# "$", a line break or a word ends the formula.  End-of-sequence tokens ("<|eot_id|>", "</s>") are no "<".
# A text whose every box is an operand has no final answer (None), as a text with no box.
_REL = (r"(?:=|<(?![|/A-Za-z])|>|[≤≥≠≈]|\\(?:le|ge|leq|geq|ne|neq|lt|gt|leqslant|geqslant|approx|simeq|equiv)"
        r"(?![A-Za-z]))")
_OPERATOR_AFTER_RE = re.compile(r"[ \t]*&?[ \t]*(?:(?P<op>[-+/]|\\(?:cdot|times|div)(?![A-Za-z]))|(?P<rel>" + _REL + "))")
_REL_BEFORE_RE = re.compile(_REL + r"[ \t]*&?[ \t]*$")
_COMMAND_RE = re.compile(r"\\[A-Za-z]+")


def _is_operand(text: str, box: tuple[int, int, str | None]) -> bool:
    """Is this box an operand inside an equation rather than an answer?  (Rule above.)"""
    start, end, content = box
    if content is None:  # cut off inside the box: the text ends there
        return False
    m = _OPERATOR_AFTER_RE.match(text, end)
    if m is None:
        return False
    if m.group("op"):
        return True
    unknown = re.search(r"[A-Za-z]", _COMMAND_RE.sub("", content))
    return bool(unknown) and not _REL_BEFORE_RE.search(text, max(0, start - 40), start)


def _final_boxes(text: str) -> tuple[list[str], list[str]] | None:
    """The contents of the final boxes written side by side, and the text between them; None when the
    text has no box that stands alone as an answer, or is cut off inside its last one."""
    boxes = [box for box in _boxes(text) if not _is_operand(text, box)]
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

    ``math``: the content of the last ``\\boxed{}``/``\\fbox{}`` that stands alone, not as an
    operand inside an equation (rule above ``_is_operand``; boxes written side by side at the
    end, separated only by commas/"and", form one list); no such box, an empty box or a box
    cut off before its closing brace gives None.
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
