"""Transfer datasets (the paper's Figure 6: Functional MATH): the release's layout read offline, a local JSON
Lines file, the report of rows that vary problems outside the test set, the toy world's functional variants, the
config's checks, the table and findings, and the workflow's dry runs with the toy-extras overlay.

The Functional MATH release is github.com/ConsequentAI/fneval (Srivastava et al., 2024): one tarball per monthly
snapshot, ``Oct-2023.tar.gz``, ``Nov-2023.tar.gz``, ``Dec-2023.tar.gz``, each extracting to
``<snapshot>/test/<subject>/<n>.json`` (1,745 files in Dec-2023), a JSON object with ``problem``, ``level``
("Level 4"), ``type`` ("Algebra"), ``solution`` (``\\boxed{answer}`` only) and ``is_static`` (false). The path
under the snapshot is the varied MATH problem's own file name, MATH500's ``unique_id``. The tests build such a
tarball from ../shared/data's MATH500 rows (with new text, as a snapshot has), with rows of problems outside
MATH500 and a decoy snapshot beside it, and read it with the network refused.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import re
import socket
import tarfile
from pathlib import Path

import pytest

from conftest import REPO, snakemake
from weakstrong import targets, toy
from weakstrong.arithmetic import check_solution, evaluate
from weakstrong.config import ConfigError, validate
from weakstrong.data import normalize, read_jsonl
from weakstrong.findings import findings_markdown, transfer_findings
from weakstrong.grading import grade
from weakstrong.layout import Layout
from weakstrong.tables import transfer_rows, transfer_table
from weakstrong.targets import transfer_cells, transfer_evaluation_files, transfer_figures, transfer_table_files
from weakstrong.transfer import (VARIANT_OF, left_out_warning, prepare_transfer, toy_pretraining_questions)

DATA = Path(os.environ.get("WEAKSTRONG_SHARED_DATA") or REPO.parent / "shared" / "data")
needs_math500 = pytest.mark.skipif(not (DATA / "math500" / "test.jsonl").is_file(),
                                   reason=f"shared data not found at {DATA} (set WEAKSTRONG_SHARED_DATA)")
SNAPSHOT = "Dec-2023"
#: Rows of the built snapshot that vary MATH test problems outside MATH500 (as 1,564 of the real 1,745 do).
OUTSIDE = ("test/algebra/99001.json", "test/geometry/99002.json", "test/number_theory/99003.json")


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to connect is refused and recorded."""
    attempts = []
    real_connect = socket.socket.connect

    def refuse(sock, address, *args, **kwargs):
        if sock.family == getattr(socket, "AF_UNIX", None):
            return real_connect(sock, address, *args, **kwargs)
        attempts.append(address)
        raise ConnectionRefusedError(f"network access attempted in an offline test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield
    assert not attempts, f"the loader tried to reach the network: {attempts}"


# --- the release's layout, built from MATH500 ------------------------------------------------------------------

def functional_text(problem: str) -> str:
    """A stand-in for a snapshot's new numbers: the text changed, so that a loader reading MATH instead is caught."""
    return "[Dec-2023] " + problem


def snapshot_files(math500: list[dict], snapshot: str = SNAPSHOT) -> dict[str, dict]:
    """``<snapshot>/test/<subject>/<n>.json`` -> its object, as the release writes them: the first 12 MATH500
    problems, and three of problems outside MATH500."""
    files = {}
    for row in math500[:12]:
        files[f"{snapshot}/{row['unique_id']}"] = {
            "problem": functional_text(row["problem"]), "level": f"Level {row['level']}", "type": row["subject"],
            "solution": f"\\boxed{{{row['answer']}}}", "is_static": False}
    for name in OUTSIDE:
        files[f"{snapshot}/{name}"] = {"problem": f"What is $2+{len(name)}$?", "level": "Level 1",
                                       "type": "Algebra", "solution": f"\\boxed{{{2 + len(name)}}}", "is_static": False}
    return files


def write_tarball(path: Path, files: dict[str, dict]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, record in files.items():
            data = json.dumps(record, indent=4).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def math500() -> list[dict]:
    if not (DATA / "math500" / "test.jsonl").is_file():
        pytest.skip(f"shared data not found at {DATA}")
    return read_jsonl(DATA / "math500" / "test.jsonl")


@pytest.fixture(scope="module")
def base(math500) -> dict[str, list[dict]]:
    """The MATH dataset as prepare_dataset writes it for config.yaml: MATH500 the test set (its ids its
    unique_id); a validation problem that one snapshot row varies."""
    test = [normalize(row, "math", f"math-testset-{i}") for i, row in enumerate(math500)]
    validation = [{**test[0], "id": "test/geometry/99002.json"}]  # stands in for a problem outside MATH500
    return {"train": [], "validation": validation, "test": test[1:], "exemplars": []}


@pytest.fixture(scope="module")
def release(tmp_path_factory, math500) -> Path:
    """The snapshot's tarball, with a decoy snapshot (other text) in the same archive."""
    root = tmp_path_factory.mktemp("fneval")
    decoy = {name: {**record, "problem": "[decoy] " + record["problem"]}
             for name, record in snapshot_files(math500, "Nov-2023").items()}
    return write_tarball(root / f"{SNAPSHOT}.tar.gz", {**snapshot_files(math500), **decoy})


def functional_entry(**source) -> dict:
    return {"style": "math", "transfer_of": "math", "source": {"fneval": {"snapshot": SNAPSHOT, **source}}}


@needs_math500
def test_release_tarball_reads_the_snapshot_and_links_each_row_to_math500(release, base, math500, offline):
    digest = hashlib.sha256(release.read_bytes()).hexdigest()
    problems, report = prepare_transfer(functional_entry(path=str(release), sha256=digest), "functional_math",
                                        base, seed=1)
    by_id = {row["unique_id"]: row for row in math500}
    # MATH500's first problem is the validation stand-in's twin but is not in the test set here; 11 rows kept
    kept = [row["unique_id"] for row in math500[1:12]]
    assert [p[VARIANT_OF] for p in problems] == sorted(kept)
    for problem in problems:
        original = by_id[problem[VARIANT_OF]]
        assert problem["id"] == f"{SNAPSHOT}/{problem[VARIANT_OF]}"
        assert problem["question"] == functional_text(original["problem"])  # the snapshot's, not the decoy's
        assert problem["answer"] == original["answer"] and problem["level"] == original["level"]
        assert problem["subject"] == original["subject"]
    assert report["source"] == {"kind": "fneval", "snapshot": SNAPSHOT, "from": str(release), "sha256": digest,
                                "rows": 15, "static_rows": 0}
    assert report["splits"]["test"]["problems"] == 11 and report["varies"] == {"problems": 11, "of": 499}


@needs_math500
def test_rows_outside_the_test_set_are_listed_with_why_and_warned_of(release, base, math500, offline):
    _, report = prepare_transfer(functional_entry(path=str(release)), "functional_math", base, seed=1)
    left = {row["id"]: row for row in report["left_out"]["ids"]}
    assert report["left_out"]["rows"] == len(left) == 4
    assert left[f"{SNAPSHOT}/test/geometry/99002.json"]["reason"] == "in math's validation split"
    for name in ("test/algebra/99001.json", "test/number_theory/99003.json", math500[0]["unique_id"]):
        assert left[f"{SNAPSHOT}/{name}"] == {"id": f"{SNAPSHOT}/{name}", VARIANT_OF: name,
                                              "reason": "not in math's test set"}
    assert report["left_out"]["by_reason"] == {"not in math's test set": 3, "in math's validation split": 1}
    assert left_out_warning("functional_math", report) == (
        "WARNING: 4 of 15 rows of functional_math vary problems outside math's test set and are left out (3 not in "
        "math's test set; 1 in math's validation split); splits.json lists them")


@needs_math500
def test_extracted_snapshot_and_download_read_the_same(release, base, tmp_path, offline):
    with tarfile.open(release) as archive:
        archive.extractall(tmp_path, filter="data")
    from_tarball = prepare_transfer(functional_entry(path=str(release)), "functional_math", base, seed=1)
    for source in ({"path": str(tmp_path)}, {"path": str(tmp_path / SNAPSHOT)}, {"url": release.as_uri()}):
        problems, report = prepare_transfer(functional_entry(**source), "functional_math", base, seed=1)
        assert problems == from_tarball[0]
        assert report["left_out"] == from_tarball[1]["left_out"]


@needs_math500
def test_wrong_digest_or_snapshot_is_refused(release, base, offline):
    with pytest.raises(ValueError, match="sha256 .* is not the configured"):
        prepare_transfer(functional_entry(path=str(release), sha256="0" * 64), "functional_math", base, seed=1)
    entry = functional_entry(path=str(release))
    entry["source"]["fneval"]["snapshot"] = "Oct-2023"
    with pytest.raises(ValueError, match=r"no Oct-2023/test/<subject>/<n>.json files.* found: Dec-2023, Nov-2023"):
        prepare_transfer(entry, "functional_math", base, seed=1)


def test_no_row_in_the_test_set_is_an_error(tmp_path):
    path = tmp_path / "fm.jsonl"
    path.write_text(json.dumps({"problem": "p", "solution": "\\boxed{1}", VARIANT_OF: "elsewhere"}) + "\n")
    base = {"test": [{"id": "t1", "question": "q", "solution": "s", "answer": "1"}]}
    with pytest.raises(ValueError, match="none of its 1 rows varies a problem of math's test set"):
        prepare_transfer({"style": "math", "transfer_of": "math", "source": {"jsonl": {"test": str(path)}}},
                         "functional_math", base, seed=1)


# --- a local JSON Lines file ---------------------------------------------------------------------------------

BASE = {"train": [{"id": "tr-1", "question": "Compute $1 + 1$.", "solution": "", "answer": "2"}],
        "validation": [{"id": "va-1", "question": "Compute $2 + 2$.", "solution": "", "answer": "4"}],
        "test": [{"id": f"te-{i}", "question": f"Compute ${i} + 3$.", "solution": "", "answer": str(i + 3)}
                 for i in range(1, 4)],
        "exemplars": [{"id": "ex-1", "question": "Compute $3 + 3$.", "solution": "", "answer": "6"}]}


def jsonl_entry(path: Path) -> dict:
    return {"style": "math", "transfer_of": "math", "source": {"jsonl": {"test": str(path)}}}


def test_local_jsonl_keeps_rows_of_the_test_set_and_reports_the_others(tmp_path):
    rows = [{"id": "f-1", "problem": "Compute $5 + 3$.", "solution": "$5 + 3 = 8$. \\boxed{8}", VARIANT_OF: "te-1"},
            {"id": "f-2", "problem": "Compute $7 + 3$.", "solution": "\\boxed{10}", "answer": "10", VARIANT_OF: "te-2"},
            {"id": "f-3", "problem": "Compute $9 + 9$.", "solution": "\\boxed{18}", VARIANT_OF: "va-1"},
            {"id": "f-4", "problem": "Compute $8 + 8$.", "solution": "\\boxed{16}", VARIANT_OF: "ex-1"},
            {"id": "f-5", "problem": "Compute $6 + 6$.", "solution": "\\boxed{12}", VARIANT_OF: "tr-1"},
            {"id": "f-6", "problem": "Compute $1 + 1$.", "solution": "\\boxed{2}", VARIANT_OF: "te-3"},
            {"id": "f-7", "problem": "Compute $4 + 4$.", "solution": "\\boxed{8}", VARIANT_OF: "MATH/unknown"}]
    path = tmp_path / "functional.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    problems, report = prepare_transfer(jsonl_entry(path), "fm", BASE, seed=1)
    assert [(p["id"], p["answer"], p[VARIANT_OF]) for p in problems] == [("f-1", "8", "te-1"), ("f-2", "10", "te-2")]
    assert report["source"] == {"kind": "jsonl", "from": str(path), "rows": 7}
    assert {row["id"]: row["reason"] for row in report["left_out"]["ids"]} == {
        "f-3": "in math's validation split", "f-4": "a few-shot exemplar of math", "f-5": "in math's train split",
        # a row of a test problem whose question is one trained on is contamination, not transfer
        "f-6": "same question as a problem of math's train", "f-7": "not in math's test set"}
    assert report["varies"] == {"problems": 2, "of": 3}
    assert left_out_warning("fm", report).startswith("WARNING: 5 of 7 rows of fm vary problems outside")


def test_a_row_that_names_no_problem_is_an_error(tmp_path):
    path = tmp_path / "functional.jsonl"
    path.write_text(json.dumps({"id": "f-1", "problem": "Compute $5 + 3$.", "solution": "\\boxed{8}"}) + "\n")
    with pytest.raises(ValueError, match=r"row 1 \(f-1\) names no problem it varies \('variant_of' is None\)"):
        prepare_transfer(jsonl_entry(path), "fm", BASE, seed=1)


def test_a_complete_source_warns_of_nothing(tmp_path):
    path = tmp_path / "functional.jsonl"
    path.write_text(json.dumps({"problem": "Compute $5 + 3$.", "solution": "\\boxed{8}", VARIANT_OF: "te-1"}) + "\n")
    problems, report = prepare_transfer(jsonl_entry(path), "fm", BASE, seed=1)
    assert problems[0]["id"] == "fm-0" and report["left_out"]["rows"] == 0
    assert left_out_warning("fm", report) is None


# --- the toy world's functional variants ---------------------------------------------------------------------

TOY_SIZES = {"train": 80, "validation": 30, "test": 150}


def template(question: str) -> str:
    return re.sub(r"-?\d+", "N", question)


def test_toy_generator_is_unchanged():
    # The variants share the generator's code; the toy problems must stay those the demo's results were made on.
    assert toy.math_problem(1, "test", 0)["question"] == "Compute $8 + 7$."
    assert toy.math_problem(1, "test", 1)["question"] == "Compute $((4 \\div 2) \\times 8) - 7$."
    assert toy.math_problem(1, "test", 2)["answer"] == "\\frac{13}{6}"


def test_variant_is_the_same_problem_with_new_numbers_and_its_answer_recomputed():
    splits = toy.make_splits("math", TOY_SIZES, 3)
    variants = toy.math_variants(splits["test"], 3)
    assert len(variants) == len(splits["test"])
    for original, variant in zip(splits["test"], variants):
        assert variant[VARIANT_OF] == original["id"] and variant["id"] == f"{original['id']}@1"
        # the same operations in the same order: the same level, the same expression with other numbers
        assert toy.math_operations(variant) == toy.math_operations(original)
        assert variant["level"] == original["level"] and variant["subject"] == original["subject"]
        assert template(variant["question"].replace("\\frac", "")) == template(original["question"].replace("\\frac", ""))
        assert variant["question"] != original["question"]
        # the answer is the expression's value, and the worked solution's steps are right
        expression = re.fullmatch(r"Compute \$(.+)\$\.", variant["question"]).group(1)
        assert evaluate(expression) == evaluate(variant["answer"])
        assert grade(variant["solution"], variant["answer"], "math")
        check = check_solution(variant["solution"], "math")
        assert check["checkable"] == variant["level"] and check["wrong"] == 0
    assert len({v["question"] for v in variants}) == len(variants)  # each question once


def test_variants_are_deterministic_and_a_new_snapshot_draws_new_numbers():
    test = toy.make_splits("math", {"test": 40}, 5)["test"]
    assert toy.math_variants(test, 5) == toy.math_variants(test, 5)
    other = toy.math_variants(test, 5, snapshot=2)
    assert sum(a["question"] != b["question"] for a, b in zip(toy.math_variants(test, 5), other)) > 30
    assert toy.math_variants(test[:10], 5) == toy.math_variants(test, 5)[:10]


def test_variants_avoid_the_questions_trained_on_and_the_pretraining_corpora():
    datasets = {"math": {"style": "math", "source": {"toy": TOY_SIZES}}}
    corpus = {"problems_per_style": 1500, "per_document": 3, "vocab_size": 500}
    splits = toy.make_splits("math", TOY_SIZES, 3)
    pretraining = toy_pretraining_questions(datasets, corpus, 3, [3, 1003])
    assert pretraining == {p["question"] for seed in (3, 1003)
                           for p in toy.pretraining_problems(datasets, corpus, 3, seed)["math"]}
    unavoided = toy.math_variants(splits["test"], 3)
    assert any(v["question"] in pretraining for v in unavoided)  # without avoiding them, some would be seen
    base = {**splits, "exemplars": []}
    entry = {"style": "math", "transfer_of": "math", "source": {"toy_variant": {"snapshot": 1}}}
    problems, report = prepare_transfer(entry, "functional_math", base, 3, pretraining)
    trained = {p["question"] for split in ("train", "validation") for p in splits[split]}
    assert not {p["question"] for p in problems} & (trained | pretraining)
    assert [p[VARIANT_OF] for p in problems] == [p["id"] for p in splits["test"]]
    assert report["left_out"]["rows"] == 0 and report["source"]["kind"] == "toy_variant"


def test_a_toy_problem_whose_numbers_cannot_change_is_an_error():
    problem = toy.math_problem(1, "test", 0)  # Compute $8 + 7$: one addition
    every_sum = {toy.math_text(toy.Fraction(a), [("+", toy.Fraction(b))])["question"]
                 for a in range(1, 10) for b in range(1, 10)}
    with pytest.raises(ValueError, match="no variant with new numbers"):
        toy.math_variant({**problem, "id": "p"}, 1, avoid=every_sum, attempts=50)


# --- the config --------------------------------------------------------------------------------------------

def with_functional(config: dict, **entry) -> dict:
    config = copy.deepcopy(config)
    config["datasets"]["functional_math"] = {"style": "math", "transfer_of": "math",
                                             "source": {"toy_variant": {}}, **entry}
    return config


def test_transfer_dataset_takes_its_defaults(raw_toy):
    config = validate(with_functional(raw_toy))
    entry = config["datasets"]["functional_math"]
    assert entry["maj_k"] == config["evaluation"]["maj_k"] == []
    assert entry["source"]["toy_variant"] == {"snapshot": 1, "pretraining_replicates": 1}
    assert "few_shot" not in entry


@pytest.mark.parametrize("change, message", [
    (lambda c: c["datasets"]["functional_math"].__setitem__("few_shot", 2),
     "'datasets.functional_math.few_shot': a transfer dataset is evaluated only"),
    (lambda c: c["generator_pairs"]["toy"]["datasets"].append("functional_math"),
     "'datasets.functional_math': a transfer dataset is evaluated only; no generator pair may sample it"),
    (lambda c: c["datasets"]["functional_math"].__setitem__("transfer_of", "gsm8k"),
     "'datasets.functional_math.style': 'math', but 'gsm8k' is 'gsm8k'"),
    (lambda c: c["datasets"]["functional_math"].__setitem__("transfer_of", "nope"),
     "'datasets.functional_math.transfer_of': 'nope' is not a dataset the students are trained on"),
    (lambda c: c.__setitem__("replicates", 4) or c["datasets"]["functional_math"]["source"]["toy_variant"].__setitem__(
        "pretraining_replicates", 2), "'datasets.functional_math.source.toy_variant.pretraining_replicates': below"),
    (lambda c: c["datasets"]["functional_math"].__setitem__("source", {"toy": {"train": 1, "validation": 1, "test": 1}}),
     "'datasets.functional_math.source': a transfer dataset's source is fneval, jsonl or toy_variant"),
    (lambda c: c["datasets"]["math"].__setitem__("maj_k", [4]),
     "'datasets.math.maj_k': only a transfer dataset takes its own maj_k"),
    (lambda c: c["datasets"]["gsm8k"]["source"].__setitem__("fneval", {"snapshot": "Dec-2023", "path": "x"}),
     "'datasets.gsm8k.source"),
    (lambda c: c["datasets"]["functional_math"]["source"].__setitem__("toy_variant", None) or
     c["datasets"]["functional_math"].__setitem__("source", {"fneval": {"snapshot": "December", "path": "x"}}),
     "'datasets.functional_math.source.fneval.snapshot'"),
])
def test_transfer_dataset_mistakes_name_the_key(raw_toy, change, message):
    config = with_functional(raw_toy)
    change(config)
    with pytest.raises(ConfigError) as info:
        validate(config)
    assert message in str(info.value), str(info.value)


def test_a_trained_dataset_still_needs_few_shot(raw_toy):
    config = with_functional(raw_toy)
    del config["datasets"]["math"]["few_shot"]
    with pytest.raises(ConfigError, match="'datasets.math': 'few_shot' is a required property"):
        validate(config)


def test_transfer_targets_of_the_paper_config():
    from weakstrong.config import load

    config = load(REPO / "config.yaml")
    layout = Layout.from_config(config)
    cells = transfer_cells(config, layout, "functional_math")
    # Gemma2 at the low and high budget and Gemini at the low, 3 students x WC, SE and gold data
    assert len(cells) == 3 * 3 * 3
    gold = [c for c in cells if c["source"] == "gold"]
    assert {c["paths"]["1"] for c in gold} == {f"results/rep-1/transfer/functional_math/gold/{b}/{s}/gold.json"
                                              for b in ("low", "high") for s in ("gemma-7b", "gemma2-9b", "gemma2-27b")}
    cell = next(c for c in cells if (c["pair"], c["budget"], c["student"], c["source"]) == (
        "gemma2", "high", "gemma2-9b", "wc"))
    assert cell["static"] == {"1": "results/rep-1/evaluation/math/gemma2/high/gemma2-9b/wc.json"}
    assert cell["setting"] == "self-improvement" and cell["match"] == "compute"
    assert len(transfer_evaluation_files(config, layout)) == 24  # gold runs once for both pairs
    spec = targets.transfer_data_spec(config, "functional_math")
    assert "maj_k" not in spec and spec["transfer_of"] == "math"  # maj@k changes rerun no preparation
    gemini = transfer_cells(config, layout, "functional_math", "gemini")
    assert gemini == [c for c in cells if c["pair"] == "gemini"] and len(gemini) == 3 * 3
    assert targets.transfer_base_splits(config, layout, "functional_math") == {
        split: f"results/data/math/{split}.jsonl" for split in ("train", "validation", "test", "exemplars")}
    wildcards = {"dataset": "functional_math", "pair": "gemma2", "budget": "high", "student": "gemma2-9b",
                 "source": "wc", "replicate": "1"}
    assert targets.transfer_selection(config, layout, wildcards) == layout.output(
        "selection", wildcards, dataset="math")
    assert transfer_table_files(config, layout) == ["results/transfer/functional_math.tex",
                                                    "results/transfer/functional_math.md"]
    assert [f["path"] for f in transfer_figures(config, layout)] == [
        "results/figures/functional_math/gemma2/transfer.pdf", "results/figures/functional_math/gemini/transfer.pdf"]


# --- the table and the findings ----------------------------------------------------------------------------

def evaluation(outcomes: dict[str, list[int]], step: int = 10) -> dict:
    ids = [f"f{i}" for i in range(len(outcomes["pass@1"]))]
    return {"pass@1": sum(outcomes["pass@1"]) / len(ids), "per_problem": {"problem_id": ids, **outcomes},
            "selection": {"step": step}}


def test_transfer_rows_pair_wc_and_se_per_metric_and_carry_the_static_outcomes():
    wc = {"pass@1": [1, 1, 1, 0, 1, 0, 1, 1], "maj@4": [1, 1, 1, 1, 1, 0, 1, 1]}
    se = {"pass@1": [0, 1, 0, 0, 1, 0, 0, 1], "maj@4": [1, 1, 0, 0, 1, 0, 1, 1]}
    static = {"pass@1": [1, 1, 1, 1, 0, 0, 0, 0]}  # of the test problems t0..t7, no maj@4
    cells = [{"dataset": "fm", "transfer_of": "math", "pair": "p", "match": "compute", "budget": "low",
              "student": "s", "source": source, "setting": "knowledge distillation", "paths": {"1": f"{source}.json"},
              "static": {"1": f"static-{source}.json"}} for source in ("se", "wc")]
    evaluations = {"wc.json": evaluation(wc), "se.json": evaluation(se)}
    statics = {f"static-{source}.json": {"per_problem": {"problem_id": [f"t{i}" for i in range(8)], **static}}
               for source in ("se", "wc")}
    variant_of = {f"f{i}": f"t{7 - i}" for i in range(8)}  # the transfer problems vary the test ones in reverse
    rows = transfer_rows(cells, evaluations, ["pass@1", "maj@4"], statics, variant_of)
    assert [r["metric"] for r in rows] == ["pass@1", "maj@4"]
    first = rows[0]
    assert first["wc"]["mean"] == 6 / 8 and first["se"]["mean"] == 3 / 8
    assert first["difference"]["mean"] == pytest.approx(3 / 8) and first["gain"] == pytest.approx(1.0)
    # the paired t interval over problems: differences 1,0,1,0,0,0,1,0
    assert first["difference"]["ci95"] == pytest.approx([3 / 8 - 2.3646 * (0.5175491695 / 8 ** 0.5),
                                                         3 / 8 + 2.3646 * (0.5175491695 / 8 ** 0.5)], abs=1e-6)
    assert first["static"]["wc"]["mean"] == 0.5 and rows[1]["static"] == {"se": None, "wc": None}
    json.dumps(rows)  # the findings read them back from JSON
    report = {"dataset": "fm", "transfer_of": "math", "source": {"kind": "fneval", "snapshot": "Dec-2023", "rows": 20},
              "splits": {"test": {"problems": 8}}, "varies": {"problems": 8, "of": 500},
              "left_out": {"rows": 12, "by_reason": {}, "ids": []}}
    latex, markdown = transfer_table(rows, report)
    assert "8 problems, variants of 8 of its 500; snapshot Dec-2023" in markdown
    assert "12 of the source's 20 rows vary problems outside math's test set and are left out" in markdown
    assert "| maj@4 " in markdown and "Static WC" in markdown and "\\label{tab:transfer-fm}" in latex
    assert "+37.5 [" in markdown


def test_transfer_findings_per_setting_beside_the_papers():
    def row(student, setting, metric, wc_mean, verdict):
        difference = {"mean": wc_mean - 0.3, "ci95": [0.01, 0.2] if verdict == "WC better" else [-0.1, 0.1],
                      "verdict": verdict, "n": 2}
        return {"dataset": "functional_math", "pair": "toy", "match": "compute", "budget": "low", "student": student,
                "metric": metric, "settings": {"wc": setting, "se": "knowledge distillation"},
                "se": {"mean": 0.3, "ci95": None}, "wc": {"mean": wc_mean, "ci95": None}, "difference": difference}
    rows = [row("toy-student", "knowledge distillation", "pass@1", 0.4, "WC better"),
            row("toy-student", "knowledge distillation", "maj@1", 0.4, "WC better"),
            row("toy-student", "knowledge distillation", "maj@4", 0.45, "WC better"),
            row("toy-wc", "self-improvement", "maj@1", 0.3, "no difference at 95%"),
            row("toy-wc", "self-improvement", "maj@4", 0.35, "WC better")]
    findings = transfer_findings(rows)
    assert [f["status"] for f in findings] == ["holds", "unresolved", "unresolved"]
    assert [len(f["cells"]) for f in findings] == [2, 2, 0]  # maj@k only, where there is maj@k
    assert "Gemma-7B: WC ahead by 5.8% to 6.5%" in findings[0]["paper"]
    assert findings[2]["reason"] == "no compute-matched pair has a weak-to-strong student"
    text = findings_markdown(findings, "Findings")
    assert "## Transfer to datasets the students never trained on (Figure 6: Functional MATH)" in text
    header = next(line for line in text.splitlines() if line.startswith("| Dataset"))
    assert [cell.strip() for cell in header.strip("|").split("|")][5] == "Metric"
    assert "## Data quality" not in text  # a section without findings is left out
    assert transfer_findings([]) == []


# --- the workflow ------------------------------------------------------------------------------------------

def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)
            if m.group(1) != "total"}


def test_toy_extras_overlay_dry_run(tmp_path):
    proc = snakemake("-n", "-p", "--directory", str(tmp_path), "--configfile", str(REPO / "configs" / "toy.yaml"),
                     str(REPO / "configs" / "toy-extras.yaml"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    counts = job_counts(proc.stdout)
    # the demo's 3 MATH-style students x WC and SE data at the low budget, one replicate
    assert counts["evaluate_transfer"] == 6 and counts["prepare_transfer_dataset"] == 1
    assert counts["make_transfer_table"] == counts["plot_transfer"] == 1
    for target in ("results/toy/rep-1/transfer/functional_math/toy/low/toy-se/wc.json",
                   "results/toy/data/functional_math/test.jsonl", "results/toy-extras/transfer/functional_math.md",
                   "results/toy-extras/figures/functional_math/toy/transfer.pdf", "results/toy-extras/findings.md"):
        assert target in proc.stdout, target
    # the demo's own tables are not written again
    assert "results/toy/table1.md" not in proc.stdout


def test_paper_dry_run_names_the_functional_math_targets(tmp_path):
    proc = snakemake("-n", "transfer", "--quiet", "rules", "--directory", str(tmp_path), "--configfile",
                     str(REPO / "config.yaml"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    counts = job_counts(proc.stdout)
    assert counts["evaluate_transfer"] == 24 and counts["prepare_transfer_dataset"] == 1
    assert counts["make_transfer_table"] == 1 and counts["plot_transfer"] == 2
