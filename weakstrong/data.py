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
from pathlib import Path
from typing import Iterable

SPLITS = ("train", "validation", "test")


def read_jsonl(path: str | Path) -> list[dict]:
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}, line {number}: not valid JSON ({error.msg})") from error
    return records


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    """Write atomically (temp file, then rename), so a killed job never leaves a finished-looking file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    count = 0
    with open(tmp, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count


def write_json(path: str | Path, data) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def gsm8k_final_answer(solution: str) -> str:
    match = re.search(r"####\s*(.+?)\s*$", solution.strip())
    if not match:
        raise ValueError("GSM8K solution has no '#### N' line")
    return match.group(1).replace(",", "").strip()


def _level(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    match = re.search(r"\d+", str(value))
    return int(match.group()) if match else None


def normalize(raw: dict, style: str, fallback_id: str) -> dict:
    """One raw record (any supported layout) in the study's schema."""
    if "question" in raw and "answer" in raw and "problem" not in raw:
        solution = raw["answer"] if "####" in raw["answer"] else raw.get("solution", raw["answer"])
        answer = gsm8k_final_answer(solution) if "####" in solution else str(raw["answer"])
        return {"id": str(raw.get("id", fallback_id)), "question": raw["question"], "solution": solution,
                "answer": answer, "level": _level(raw.get("level")), "subject": raw.get("subject")}
    if "problem" in raw and "solution" in raw:
        answer = raw.get("answer")
        if answer is None:
            from weakstrong.grading import extract_answer
            answer = extract_answer(raw["solution"], "math")
            if answer is None:
                raise ValueError(f"record {fallback_id}: MATH solution has no \\boxed answer")
        return {"id": str(raw.get("unique_id", raw.get("id", fallback_id))), "question": raw["problem"],
                "solution": raw["solution"], "answer": str(answer), "level": _level(raw.get("level")),
                "subject": raw.get("subject", raw.get("type"))}
    raise ValueError(f"record {fallback_id}: unknown layout with keys {sorted(raw)}; expected GSM8K "
                     f"(question, answer) or MATH (problem, solution[, answer])")


def load_source(source: dict, split: str) -> list[dict]:
    """Raw records of ``split`` ('train' or 'test') from a source spec ({'hf': ...} or {'jsonl': ...})."""
    if "jsonl" in source:
        if split not in source["jsonl"]:
            raise ValueError(f"jsonl source has no {split!r} file (keys: {sorted(source['jsonl'])})")
        return read_jsonl(source["jsonl"][split])
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


def prepare_splits(dataset: dict, name: str, seed: int) -> dict[str, list[dict]]:
    """Train / validation / test problems of a dataset config entry."""
    style, source = dataset["style"], dataset["source"]
    if "toy" in source:
        from weakstrong.toy import make_splits
        return make_splits(style, source["toy"], seed)
    train = [normalize(r, style, f"{name}-train-{i}") for i, r in enumerate(load_source(source, "train"))]
    test_source = dataset.get("test_source", source)
    test = [normalize(r, style, f"{name}-test-{i}") for i, r in enumerate(load_source(test_source, "test"))]
    held_out = set(random.Random(seed).sample(range(len(train)), dataset["validation_size"]))
    return {"train": [p for i, p in enumerate(train) if i not in held_out],
            "validation": [p for i, p in enumerate(train) if i in held_out], "test": test}
