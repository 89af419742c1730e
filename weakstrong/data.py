"""Data sets in one schema, and JSON Lines I/O.

Every problem record is ``{"id", "question", "solution", "answer", "level", "subject"}``.  Loaders accept
the GSM8K layout (``question``, ``answer`` ending ``#### N``), the Hugging Face MATH layout (``problem``,
``solution``, ``level`` as "Level 3", ``type``) and the MATH500 layout (``problem``, ``solution``,
``answer``, ``subject``, ``level``, ``unique_id``), from the Hugging Face hub or local JSON Lines files.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Iterable
from pathlib import Path

SPLITS = ("train", "validation", "test")


def read_jsonl(path: str | Path) -> list[dict]:
    return [record for _, record in _numbered_records(path)]


def _numbered_records(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, record) of every non-blank line; errors name the file and the line."""
    records = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    records.append((number, json.loads(line)))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}, line {number}: not valid JSON ({error.msg})") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}, {_bad_utf8_where(path)}: not UTF-8 ({error.reason}); JSON Lines files must be "
                         f"UTF-8 encoded") from error
    return records


def _bad_utf8_where(path: str | Path) -> str:
    """'line N, byte M' of the first byte sequence in ``path`` that is not UTF-8."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                return f"line {number}, byte {error.start + 1}"
    return "end of file"


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    """Write atomically (temp file, then rename), so a killed job never leaves a finished-looking file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    count = 0
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        tmp.replace(path)
    except BaseException:  # a full disk, a bad record, an interrupt: no half-written temp file is left
        tmp.unlink(missing_ok=True)
        raise
    return count


def write_json(path: str | Path, data) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def gsm8k_final_answer(solution: str) -> str:
    match = re.search(r"####\s*(.+?)\s*$", solution.strip())
    answer = match.group(1).replace(",", "").strip() if match else ""
    if not answer:
        if match or solution.strip().endswith("####"):
            raise ValueError("GSM8K solution's '####' line has no answer after it")
        raise ValueError("GSM8K solution has no '#### N' line")
    return answer


def _level(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    match = re.search(r"\d+", str(value))
    return int(match.group()) if match else None


def normalize(raw: dict, style: str, fallback_id: str) -> dict:
    """One raw record (any supported layout) in the study's schema.  A record without a question or an
    answer (missing, null or blank) is refused: it could only ever be graded wrong."""
    if not isinstance(raw, dict):
        raise ValueError(f"record {fallback_id}: expected a JSON object, got {type(raw).__name__}")
    for key in ("question", "problem", "solution"):
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            raise ValueError(f"record {fallback_id}: {key!r} is empty or not a string ({raw[key]!r})")
    if "question" in raw and "answer" in raw and "problem" not in raw:
        if raw["answer"] is None or isinstance(raw["answer"], bool) or not str(raw["answer"]).strip():
            raise ValueError(f"record {fallback_id}: no answer ('answer' is {raw['answer']!r})")
        text = str(raw["answer"])
        solution = text if "####" in text else raw.get("solution", text)
        try:
            answer = gsm8k_final_answer(solution) if "####" in solution else text
        except ValueError as error:
            raise ValueError(f"record {fallback_id}: {error}") from error
        return {"id": str(raw.get("id", fallback_id)), "question": raw["question"], "solution": solution,
                "answer": answer, "level": _level(raw.get("level")), "subject": raw.get("subject")}
    if "problem" in raw and "solution" in raw:
        answer = raw.get("answer")
        if answer is None or not str(answer).strip():
            from weakstrong.grading import extract_answer
            answer = extract_answer(raw["solution"], "math")
            if answer is None:
                raise ValueError(f"record {fallback_id}: MATH solution has no \\boxed answer")
        return {"id": str(raw.get("unique_id", raw.get("id", fallback_id))), "question": raw["problem"],
                "solution": raw["solution"], "answer": str(answer), "level": _level(raw.get("level")),
                "subject": raw.get("subject", raw.get("type"))}
    if "question" in raw and "problem" not in raw:
        raise ValueError(f"record {fallback_id}: no answer (a GSM8K record needs 'question' and 'answer'; "
                         f"keys: {sorted(raw)})")
    if "problem" in raw:
        raise ValueError(f"record {fallback_id}: no solution (a MATH record needs 'problem' and 'solution'; "
                         f"keys: {sorted(raw)})")
    raise ValueError(f"record {fallback_id}: unknown layout with keys {sorted(raw)}; expected GSM8K "
                     f"(question, answer) or MATH (problem, solution[, answer])")


def load_source(source: dict, split: str) -> list[dict]:
    """Raw records of ``split`` ('train' or 'test') from a source spec ({'hf': ...} or {'jsonl': ...}).

    A JSON Lines file is checked whole before any record is used: it must exist, be UTF-8, hold at least one
    record, every record must have a question and an answer, and no id may appear twice; each error names
    the file and the line(s)."""
    if "jsonl" in source:
        if split not in source["jsonl"]:
            raise ValueError(f"jsonl source has no {split!r} file (keys: {sorted(source['jsonl'])})")
        path = source["jsonl"][split]
        if not Path(path).is_file():
            raise FileNotFoundError(f"dataset file {path} (source.jsonl.{split}) "
                                    + ("is a directory, not a file" if Path(path).is_dir() else "does not exist"))
        rows = _numbered_records(path)
        if not rows:
            raise ValueError(f"dataset file {path} (source.jsonl.{split}) is empty: no records")
        first_line: dict[str, int] = {}
        for line, raw in rows:
            try:  # normalize reads the layout from the keys; the style does not matter here
                record = normalize(raw, "", f"at line {line}")
            except ValueError as error:
                raise ValueError(f"{path}: {error}") from error
            if "id" in raw or "unique_id" in raw:  # rows without an id get distinct ones by position
                if record["id"] in first_line:
                    raise ValueError(f"{path}: id {record['id']!r} appears twice, on lines "
                                     f"{first_line[record['id']]} and {line}")
                first_line[record["id"]] = line
        return [raw for _, raw in rows]
    if "hf" in source:
        import datasets

        spec = source["hf"]
        name = spec.get(f"{split}_split")
        if name is None:
            raise ValueError(f"hf source {spec['path']} has no {split}_split")
        rows = []
        for subset in spec.get("configs", [None]):
            rows.extend(datasets.load_dataset(spec["path"], subset, split=name))
        return [dict(r) for r in rows]
    raise ValueError(f"unsupported source {sorted(source)} for {split}")


def describe_source(source: dict, split: str) -> str:
    """Where a split comes from, for splits.json."""
    if "jsonl" in source:
        return source["jsonl"][split]
    if "hf" in source:
        spec = source["hf"]
        configs = f" ({len(spec['configs'])} configs: {', '.join(spec['configs'])})" if spec.get("configs") else ""
        return f"hf:{spec['path']} split {spec[f'{split}_split']}{configs}"
    return f"toy {split}"


def _question_key(question: str) -> str:
    return " ".join(question.split())


def _load(source: dict, split: str, style: str, prefix: str) -> list[dict]:
    return [normalize(r, style, f"{prefix}-{i}") for i, r in enumerate(load_source(source, split))]


def _draw(pool: list[dict], size: int, seed: int, what: str, where: str) -> tuple[list[dict], list[dict]]:
    """``size`` problems drawn from ``pool`` by seed (in pool order), and the rest of the pool."""
    if size > len(pool):
        raise ValueError(f"{what}: {size} problems asked for, but {where} has only {len(pool)}")
    chosen = set(random.Random(seed).sample(range(len(pool)), size))
    return ([p for i, p in enumerate(pool) if i in chosen], [p for i, p in enumerate(pool) if i not in chosen])


def _without(problems: list[dict], removed: list[dict]) -> list[dict]:
    keys = {_question_key(p["question"]) for p in removed}
    return [p for p in problems if _question_key(p["question"]) not in keys]


def prepare_splits(dataset: dict, name: str, seed: int) -> tuple[dict[str, list[dict]], dict]:
    """Train / validation / test problems and the few-shot exemplars of a dataset config entry, and a report
    of every split's size and source (results/data/<dataset>/splits.json).

    The exemplars are taken out of the pool they come from, so they are never sampled, trained on or
    evaluated.  Validation ``from: train`` is held out of train; ``from: test`` comes from the source's test
    split outside the test set (MATH: test minus MATH500), or, when the test set is that split, out of it.
    """
    style, source = dataset["style"], dataset["source"]
    few_shot = dataset.get("few_shot", 0)
    exemplar_spec = dataset.get("exemplars", {"from": "train"})
    notes = []
    if "toy" in source:
        from weakstrong.toy import make_splits

        toy = make_splits(style, source["toy"], seed)
        pools = {"train": toy["train"], "test": toy["test"]}
        validation, origin = toy["validation"], {split: f"toy {split} (seed {seed})" for split in SPLITS}
        spare_test: list[dict] = []
    else:
        train = _load(source, "train", style, f"{name}-train")
        test_source = dataset.get("test_source", source)
        test = _load(test_source, "test", style, f"{name}-test" if test_source is source else f"{name}-testset")
        origin = {"train": describe_source(source, "train"), "test": describe_source(test_source, "test")}
        validation_spec = dataset["validation"]
        pools = {"train": train, "test": test}
        spare_test = []
        if validation_spec["from"] == "test" and test_source is not source:
            # The source's own test split, less the test set (MATH: the 4,500 test problems outside MATH500).
            spare_test = _without(_load(source, "test", style, f"{name}-test"), test)
            validation, spare_test = _draw(spare_test, validation_spec["size"], seed, f"datasets.{name}.validation",
                                           f"{describe_source(source, 'test')} outside the test set")
            origin["validation"] = f"{describe_source(source, 'test')}, not in the test set, drawn by seed {seed}"
        else:
            where = validation_spec["from"]
            validation, pools[where] = _draw(pools[where], validation_spec["size"], seed,
                                             f"datasets.{name}.validation", origin[where])
            origin["validation"] = f"{origin[where]}, drawn by seed {seed}"
            notes.append(f"validation is held out of the {where} split, which is smaller by "
                         f"{validation_spec['size']}")
    if "jsonl" in exemplar_spec:
        exemplars = [normalize(r, style, f"{name}-exemplar-{i}") for i, r in enumerate(read_jsonl(exemplar_spec["jsonl"]))]
        if len(exemplars) < few_shot:
            raise ValueError(f"datasets.{name}.exemplars: {exemplar_spec['jsonl']} has {len(exemplars)} "
                             f"problems, {few_shot} needed (few_shot)")
        exemplars = exemplars[:few_shot]
        origin["exemplars"] = exemplar_spec["jsonl"]
        for split in pools:
            pools[split] = _without(pools[split], exemplars)
        validation = _without(validation, exemplars)
    elif exemplar_spec["from"] == "test" and spare_test:
        exemplars, _ = _draw(spare_test, few_shot, seed + 1, f"datasets.{name}.exemplars", "the spare test problems")
        origin["exemplars"] = f"{describe_source(source, 'test')}, not in the test or validation set, seed {seed + 1}"
    else:
        where = exemplar_spec["from"]
        exemplars, pools[where] = _draw(pools[where], few_shot, seed + 1, f"datasets.{name}.exemplars", origin[where])
        origin["exemplars"] = f"{origin[where]}, drawn by seed {seed + 1}"
        if few_shot:
            notes.append(f"the {few_shot} exemplars are taken out of the {where} split")
    splits = {"train": pools["train"], "validation": validation, "test": pools["test"], "exemplars": exemplars}
    _check_disjoint(splits, name)
    report = {"dataset": name, "style": style, "seed": seed,
              "splits": {split: {"problems": len(problems), "source": origin[split]}
                         for split, problems in splits.items()},
              "exemplar_ids": [e["id"] for e in exemplars], "notes": notes}
    return splits, report


def _check_disjoint(splits: dict[str, list[dict]], name: str) -> None:
    """No id twice, and no question in two splits (a validation or exemplar problem that is also trained on
    or tested would bias selection or the test)."""
    seen_ids, seen_questions = {}, {}
    for split, problems in splits.items():
        for problem in problems:
            if problem["id"] in seen_ids:
                raise ValueError(f"dataset {name}: problem id {problem['id']!r} appears in {seen_ids[problem['id']]} "
                                 f"and {split}")
            seen_ids[problem["id"]] = split
            key = _question_key(problem["question"])
            if seen_questions.get(key, split) != split:
                raise ValueError(f"dataset {name}: problem {problem['id']!r} of {split} has the same question as "
                                 f"one in {seen_questions[key]}")
            seen_questions.setdefault(key, split)
