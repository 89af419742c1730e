"""Transfer datasets: problems the students are evaluated on but that are never sampled or trained on, each a
variant of a test problem of the dataset the students were trained on (``transfer_of``). The paper's Figure 6
evaluates its MATH-trained students on Functional MATH (Srivastava et al., 2024, "Functional Benchmarks for
Robust Evaluation of Reasoning Performance, and the Reasoning Gap"): MATH test problems rewritten as programs
and instantiated anew each month, the same reasoning on other numbers.

Sources (``datasets.<name>.source``), every row naming the problem it varies (``variant_of``):

* ``fneval``: a snapshot of the public release, github.com/ConsequentAI/fneval: ``<snapshot>.tar.gz`` (Oct-2023,
  Nov-2023, Dec-2023) holds ``<snapshot>/test/<subject>/<n>.json``, one file per functionalized MATH test
  problem, with ``problem``, ``solution`` (``\\boxed{answer}`` only), ``level`` ("Level N"), ``type`` (the
  subject) and ``is_static``. The path under the snapshot, ``test/<subject>/<n>.json``, is the MATH problem's
  own file and MATH500's ``unique_id``: the row varies that problem. Read from a local tarball or its extracted
  directory (``path``), or downloaded (``url``), checked against ``sha256`` where given;
* ``jsonl``: ``{test: file}``, rows in a layout :func:`weakstrong.data.normalize` reads, each with
  ``variant_of``, the id of the problem it varies;
* ``toy_variant``: the toy world's own: each test problem of the toy dataset with new numbers
  (:func:`weakstrong.toy.math_variants`).

A row whose problem is not in the ``transfer_of`` dataset's test set (MATH500 for MATH) is left out and
reported, never dropped silently: ``splits.json`` lists it with its reason (the problem is in that dataset's
train or validation split, a few-shot exemplar, or not in its test set; the
other splits are recognised where their ids are the problems' own, as MATH500's are), the job's log says how many
(:func:`left_out_warning`), and the transfer table's caption says so. A row that names no problem is an error.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path

from weakstrong.data import _question_key, describe_source, load_source, normalize

#: The field of a row that names the problem it varies.
VARIANT_OF = "variant_of"
#: A Functional MATH file under a snapshot: test/<subject>/<n>.json, as MATH's own test files are named.
FNEVAL_FILE = re.compile(r"^test/[a-z_]+/\d+\.json$")
#: The base dataset's splits a left-out row's problem may be in, and what the reason says.
BASE_SPLITS = {"train": "in {base}'s train split", "validation": "in {base}'s validation split",
               "exemplars": "a few-shot exemplar of {base}"}


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _snapshot_files(path: Path, snapshot: str) -> dict[str, bytes]:
    """``test/<subject>/<n>.json`` -> its bytes, from a snapshot's tarball or from the directory it extracts to
    (the snapshot directory itself or the one holding it)."""
    prefix = f"{snapshot}/"
    files: dict[str, bytes] = {}
    if path.is_dir():
        root = path / snapshot if (path / snapshot).is_dir() else path
        for file in sorted(root.glob("test/*/*.json")):
            files[file.relative_to(root).as_posix()] = file.read_bytes()
        seen = sorted(p.name for p in path.iterdir() if p.is_dir())
    else:
        with tarfile.open(path, "r:*") as archive:
            members = [m for m in archive.getmembers() if m.isfile()]
            for member in members:
                name = member.name.removeprefix("./")
                if name.startswith(prefix) and FNEVAL_FILE.match(name[len(prefix):]):
                    files[name[len(prefix):]] = archive.extractfile(member).read()
            seen = sorted({m.name.removeprefix("./").split("/")[0] for m in members})
    if not files:
        raise ValueError(f"{path}: no {snapshot}/test/<subject>/<n>.json files, so not snapshot {snapshot} of the "
                         f"Functional MATH release (github.com/ConsequentAI/fneval); found: {', '.join(seen) or 'nothing'}")
    return files


def download(url: str, directory: str | Path) -> Path:
    """``url`` saved under ``directory`` (the job's temporary directory): the release is not kept."""
    target = Path(directory) / Path(url.split("?")[0]).name
    with urllib.request.urlopen(url, timeout=300) as response, open(target, "wb") as out:  # noqa: S310 (https URL from the config)
        while block := response.read(1 << 20):
            out.write(block)
    return target


def fneval_rows(spec: dict) -> tuple[list[dict], dict]:
    """The rows of a Functional MATH snapshot (``spec``: ``snapshot`` and ``path`` or ``url``, ``sha256``
    optional), ordered by the MATH problem they vary, and the source's provenance."""
    snapshot = spec["snapshot"]
    with tempfile.TemporaryDirectory() as scratch:
        path = download(spec["url"], scratch) if "url" in spec else Path(spec["path"])
        if not path.exists():
            raise FileNotFoundError(f"Functional MATH snapshot {path} (source.fneval.path) does not exist")
        digest = None if path.is_dir() else sha256_of(path)
        if spec.get("sha256") and digest != spec["sha256"]:
            raise ValueError(f"{spec.get('url', path)}: sha256 {digest or '(a directory)'} is not the configured "
                             f"{spec['sha256']} (source.fneval.sha256): another file than the release's {snapshot}")
        files = _snapshot_files(path, snapshot)
    rows = []
    for name, data in sorted(files.items()):
        try:
            raw = json.loads(data)
        except json.JSONDecodeError as error:
            raise ValueError(f"{snapshot}/{name}: not valid JSON ({error.msg})") from error
        if not isinstance(raw, dict):
            raise ValueError(f"{snapshot}/{name}: expected a JSON object")
        rows.append({**raw, "id": f"{snapshot}/{name}", VARIANT_OF: name})
    provenance = {"kind": "fneval", "snapshot": snapshot, "from": spec.get("url", str(spec.get("path"))),
                  "sha256": digest, "rows": len(rows),
                  "static_rows": sum(bool(r.get("is_static")) for r in rows)}
    return rows, provenance


def jsonl_rows(spec: dict) -> tuple[list[dict], dict]:
    """The rows of a local JSON Lines file (``{"jsonl": {"test": file}}``), checked as other data files are
    (:func:`weakstrong.data.load_source`), each naming the problem it varies."""
    rows = load_source(spec, "test")
    return rows, {"kind": "jsonl", "from": describe_source(spec, "test"), "rows": len(rows)}


def toy_rows(spec: dict, base_test: list[dict], seed: int, avoid: set[str]) -> tuple[list[dict], dict]:
    """The toy dataset's test problems with new numbers (``spec``: ``{"snapshot": n}``), none of ``avoid``."""
    from weakstrong.toy import math_variants

    snapshot = spec["snapshot"]
    rows = math_variants(base_test, seed, snapshot, avoid)
    return rows, {"kind": "toy_variant", "snapshot": snapshot, "from": f"toy test problems, new numbers (seed {seed}, "
                  f"snapshot {snapshot})", "rows": len(rows), "avoided_questions": len(avoid)}


def toy_pretraining_questions(datasets: dict, corpus: dict, data_seed: int, seeds: list[int]) -> set[str]:
    """The questions of the toy pre-training corpora of the replicates seeded ``seeds``
    (:func:`weakstrong.toy.pretraining_problems`): the test problems are never among them, so their variants
    must not be either."""
    from weakstrong.toy import pretraining_problems

    return {problem["question"] for seed in seeds
            for problems in pretraining_problems(datasets, corpus, data_seed, seed).values() for problem in problems}


def link(rows: list[dict], base: dict[str, list[dict]], base_name: str, style: str, name: str
         ) -> tuple[list[dict], list[dict]]:
    """The rows in the study's schema with ``variant_of``, split into those that vary a problem of the base
    dataset's test set (kept, in order) and those left out, each ``{"id", "variant_of", "reason"}``. A kept
    row whose question is that of a problem trained on, validated on or shown as an exemplar is left out too.
    A row that names no problem is an error."""
    where = {problem["id"]: split for split in ("test", *BASE_SPLITS) for problem in base.get(split, [])}
    seen_questions = {_question_key(p["question"]): split for split in BASE_SPLITS for p in base.get(split, [])}
    kept, left_out = [], []
    for index, raw in enumerate(rows):
        varies = raw.get(VARIANT_OF)
        if not isinstance(varies, str) or not varies.strip():
            raise ValueError(f"dataset {name}: row {index + 1} ({raw.get('id', 'no id')}) names no problem it varies "
                             f"('{VARIANT_OF}' is {varies!r}); every row of a transfer dataset must")
        record = {**normalize(raw, style, f"{name}-{index}"), VARIANT_OF: varies}
        split = where.get(varies)
        reason = None
        if split != "test":
            reason = (BASE_SPLITS[split] if split else "not in {base}'s test set").format(base=base_name)
        elif _question_key(record["question"]) in seen_questions:
            reason = f"same question as a problem of {base_name}'s {seen_questions[_question_key(record['question'])]}"
        if reason is None:
            kept.append(record)
        else:
            left_out.append({"id": record["id"], VARIANT_OF: varies, "reason": reason})
    duplicates = [id_ for id_, n in Counter(r["id"] for r in kept).items() if n > 1]
    if duplicates:
        raise ValueError(f"dataset {name}: id {duplicates[0]!r} appears more than once")
    return kept, left_out


def left_out_warning(name: str, report: dict) -> str | None:
    """The warning line for the log when rows were left out; None when every row was kept."""
    left = report["left_out"]
    if not left["rows"]:
        return None
    reasons = "; ".join(f"{count:,} {reason}" for reason, count in left["by_reason"].items())
    return (f"WARNING: {left['rows']:,} of {report['source']['rows']:,} rows of {name} vary problems outside "
            f"{report['transfer_of']}'s test set and are left out ({reasons}); splits.json lists them")


def prepare_transfer(dataset: dict, name: str, base: dict[str, list[dict]], seed: int,
                     avoid: set[str] | None = None) -> tuple[list[dict], dict]:
    """The test problems of a transfer dataset entry, each with ``variant_of``, and its report (splits.json):
    the source's provenance, the problems kept, and every row left out with its reason.

    ``base`` holds the ``transfer_of`` dataset's prepared splits (train, validation, test, exemplars); ``avoid``
    adds questions a toy variant must not take (the toy pre-training corpora's)."""
    source, base_name = dataset["source"], dataset["transfer_of"]
    if "fneval" in source:
        rows, provenance = fneval_rows(source["fneval"])
    elif "jsonl" in source:
        rows, provenance = jsonl_rows(source)
    elif "toy_variant" in source:
        trained = {p["question"] for split in BASE_SPLITS for p in base.get(split, [])}
        rows, provenance = toy_rows(source["toy_variant"], base["test"], seed, trained | set(avoid or ()))
    else:
        raise ValueError(f"dataset {name}: a transfer dataset's source is fneval, jsonl or toy_variant, not "
                         f"{sorted(source)}")
    kept, left_out = link(rows, base, base_name, dataset["style"], name)
    if not kept:
        raise ValueError(f"dataset {name}: none of its {len(rows)} rows varies a problem of {base_name}'s test set "
                         f"(the first: {left_out[0][VARIANT_OF]!r}, {left_out[0]['reason']})" if left_out else
                         f"dataset {name}: the source has no rows")
    varied = len({p[VARIANT_OF] for p in kept})
    report = {"dataset": name, "style": dataset["style"], "transfer_of": base_name, "seed": seed,
              "source": provenance,
              "splits": {"test": {"problems": len(kept), "source": provenance["from"]}},
              "varies": {"problems": varied, "of": len(base["test"])},
              "left_out": {"rows": len(left_out), "by_reason": dict(Counter(r["reason"] for r in left_out)),
                           "ids": left_out},
              "notes": [f"{len(kept)} variants of {varied} of the {len(base['test'])} test problems of {base_name}"]}
    return kept, report
