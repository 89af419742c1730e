"""The paper's ``hf:`` sources, loaded offline from local copies of the hub repositories in their own layouts.

``config.yaml`` reads MATH train from ``EleutherAI/hendrycks_math``, its test set from ``HuggingFaceH4/MATH-500``
and GSM8K from ``openai/gsm8k``.  The hub is out of reach here, so the module builds once, from the real files in
../shared/data, a local directory laid out as that repository is on the hub, and points the paper's own source
spec (same ``configs``, same split names) at it; ``weakstrong.data.load_source`` then goes through
``datasets.load_dataset`` exactly as it would on the hub, with the network blocked.

Layouts (as on the hub; the YAML ``configs:`` block of the dataset card maps config and split to files):

- ``openai/gsm8k``: ``README.md`` with configs ``main`` and ``socratic``, each ``{train: <config>/train-*,
  test: <config>/test-*}``; files ``main/train-00000-of-00001.parquet``, ``main/test-00000-of-00001.parquet``
  and the same under ``socratic/``.
- ``HuggingFaceH4/MATH-500``: ``test.jsonl`` at the root and a ``README.md`` without a ``configs:`` block, so
  ``datasets`` infers the single ``default`` config and its ``test`` split from the file name.
- ``EleutherAI/hendrycks_math`` (Parquet since Aug 2024, loading script deleted): one config per subject
  (``algebra`` ... ``precalculus``), each ``{train: <subject>/train-*, test: <subject>/test-*}``; files
  ``<subject>/train-00000-of-00001.parquet`` and ``<subject>/test-00000-of-00001.parquet`` with columns
  ``problem, level ("Level N"), type, solution``.

The MATH train split is not in ../shared, so the hendrycks_math copy holds the MATH500 rows regrouped by
subject as its train split; its test split and the ``socratic`` GSM8K config hold marked stand-ins, so that a
loader reading the wrong split or config is caught.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from weakstrong.data import load_source, normalize, read_jsonl
from weakstrong.grading import grade

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WEAKSTRONG_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not found at {DATA} (set WEAKSTRONG_SHARED_DATA)")

GSM8K, MATH500, HENDRYCKS = "openai/gsm8k", "HuggingFaceH4/MATH-500", "EleutherAI/hendrycks_math"
MATH_SUBJECTS = {"algebra": "Algebra", "counting_and_probability": "Counting & Probability", "geometry": "Geometry",
                 "intermediate_algebra": "Intermediate Algebra", "number_theory": "Number Theory",
                 "prealgebra": "Prealgebra", "precalculus": "Precalculus"}
TEST_MARK = "[hendrycks_math test stand-in] "
SOCRATIC_MARK = "[socratic stand-in] "


# ----------------------------------------------------------------------------------------- hub copies

def _write_parquet(path: Path, rows: list[dict], columns: list[str]) -> dict:
    """One shard as the hub's Parquet converter names it; its split entry for the card's ``dataset_info``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return {"name": path.name.split("-")[0], "num_bytes": table.nbytes, "num_examples": len(rows)}


def _write_card(repo: Path, metadata: dict, title: str) -> None:
    (repo / "README.md").write_text(f"---\n{yaml.safe_dump(metadata, sort_keys=False)}---\n\n# {title}\n")


def _parquet_repo(repo: Path, configs: dict[str, dict[str, list[dict]]], columns: list[str], card: dict) -> None:
    """``<config>/<split>-00000-of-00001.parquet`` per config and split, with the card's ``configs:`` block."""
    infos, blocks = [], []
    for config, splits in configs.items():
        entries = [_write_parquet(repo / config / f"{split}-00000-of-00001.parquet", rows, columns)
                   for split, rows in splits.items()]
        infos.append({"config_name": config, "features": [{"name": c, "dtype": "string"} for c in columns],
                      "splits": entries})
        blocks.append({"config_name": config,
                       "data_files": [{"split": split, "path": f"{config}/{split}-*"} for split in splits]})
    _write_card(repo, {**card, "dataset_info": infos, "configs": blocks}, repo.name)


def build_gsm8k(repo: Path, train: list[dict], test: list[dict]) -> None:
    socratic = {split: [{**r, "answer": SOCRATIC_MARK + r["answer"]} for r in rows]
                for split, rows in (("train", train), ("test", test))}
    _parquet_repo(repo, {"main": {"train": train, "test": test}, "socratic": socratic}, ["question", "answer"],
                  {"language": ["en"], "license": ["mit"], "pretty_name": "Grade School Math 8K"})


def build_math500(repo: Path, source: Path) -> None:
    repo.mkdir(parents=True)
    shutil.copyfile(source, repo / "test.jsonl")
    _write_card(repo, {"task_categories": ["text-generation"], "language": ["en"], "pretty_name": "MATH-500"},
                "Dataset Card for MATH-500")


def hendrycks_rows(math500: list[dict]) -> dict[str, list[dict]]:
    """MATH500 regrouped by subject into the per-subject configs, in the hendrycks_math columns."""
    by_config = {config: [] for config in MATH_SUBJECTS}
    config_of = {subject: config for config, subject in MATH_SUBJECTS.items()}
    for r in math500:
        by_config[config_of[r["subject"]]].append({"problem": r["problem"], "level": f"Level {r['level']}",
                                                   "type": r["subject"], "solution": r["solution"]})
    return by_config


def build_hendrycks(repo: Path, math500: list[dict]) -> None:
    configs = {config: {"train": rows, "test": [{**r, "problem": TEST_MARK + r["problem"]} for r in rows[:3]]}
               for config, rows in hendrycks_rows(math500).items()}
    _parquet_repo(repo, configs, ["problem", "level", "type", "solution"], {"license": "mit"})


@pytest.fixture(scope="module")
def files() -> dict[str, list[dict]]:
    return {name: read_jsonl(DATA / name) for name in ("gsm8k/train.jsonl", "gsm8k/test.jsonl", "math500/test.jsonl")}


@pytest.fixture(scope="module")
def hub(tmp_path_factory, files) -> dict[str, Path]:
    """Hub id -> a local directory in that repository's layout."""
    pytest.importorskip("pyarrow")
    root = tmp_path_factory.mktemp("hub")
    repos = {hub_id: root / hub_id for hub_id in (GSM8K, MATH500, HENDRYCKS)}
    build_gsm8k(repos[GSM8K], files["gsm8k/train.jsonl"], files["gsm8k/test.jsonl"])
    build_math500(repos[MATH500], DATA / "math500/test.jsonl")
    build_hendrycks(repos[HENDRYCKS], files["math500/test.jsonl"])
    return repos


# ----------------------------------------------------------------------------------------- offline, own cache

@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network, and a cache under tmp; the HF home directory."""
    hf_home = tmp_path / "hf-home"
    for name, value in {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(hf_home),
                        "HF_DATASETS_CACHE": str(hf_home / "datasets"), "HF_HUB_CACHE": str(hf_home / "hub"),
                        "HF_MODULES_CACHE": str(hf_home / "modules")}.items():
        monkeypatch.setenv(name, value)
    datasets = pytest.importorskip("datasets")
    import huggingface_hub.constants

    # datasets and huggingface_hub read these at import, which may already have happened in this process.
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", hf_home / "datasets")
    monkeypatch.setattr(datasets.config, "HF_MODULES_CACHE", hf_home / "modules")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    # Any attempt to connect is refused and recorded, so that one the library swallows still fails the test.
    attempts = []

    def refuse(sock, address, *args, **kwargs):
        if sock.family == getattr(socket, "AF_UNIX", None):
            return real_connect(sock, address, *args, **kwargs)
        attempts.append(address)
        raise ConnectionRefusedError(f"network access attempted in an offline test: {address!r}")

    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield hf_home
    assert not attempts, f"the loader tried to reach the network: {attempts}"


# ----------------------------------------------------------------------------------------- the paper's sources

def paper_dataset(name: str, hub: dict[str, Path]) -> dict:
    """config.yaml's ``datasets.<name>`` entry, every ``hf.path`` pointed at its local copy, nothing else changed."""
    entry = copy.deepcopy(yaml.safe_load((REPO / "config.yaml").read_text())["datasets"][name])
    for key in ("source", "test_source"):
        if key in entry:
            spec = entry[key]["hf"]
            assert spec["path"] in hub, f"config.yaml datasets.{name}.{key} reads {spec['path']}, not a copied repo"
            spec["path"] = str(hub[spec["path"]])
    return entry


def final_answer(gsm8k_answer: str) -> str:
    return gsm8k_answer.rsplit("####", 1)[1].strip().replace(",", "")


def test_gsm8k_main_config_loads_both_splits(hub, files, offline):
    source = paper_dataset("gsm8k", hub)["source"]
    assert source["hf"]["configs"] == ["main"] and (source["hf"]["train_split"], source["hf"]["test_split"]) == (
        "train", "test")
    for split, expected_count in (("train", 7473), ("test", 1319)):
        raw = load_source(source, split)
        expected = files[f"gsm8k/{split}.jsonl"]
        assert len(raw) == len(expected) == expected_count
        problems = [normalize(r, "gsm8k", f"gsm8k-{split}-{i}") for i, r in enumerate(raw)]
        # Row for row, in file order: nothing from the socratic config, nothing from the other split.
        assert [p["question"] for p in problems] == [r["question"] for r in expected]
        assert [p["solution"] for p in problems] == [r["answer"] for r in expected]
        assert [p["answer"] for p in problems] == [final_answer(r["answer"]) for r in expected]
        assert [p["id"] for p in problems] == [f"gsm8k-{split}-{i}" for i in range(expected_count)]
    assert any((offline / "datasets").iterdir()), "datasets did not cache under the tmp HF_HOME"


def test_gsm8k_socratic_config_is_a_separate_config(hub):
    """The stand-in socratic config loads on its own, so the main-config checks above would see it mixed in."""
    source = paper_dataset("gsm8k", hub)["source"]
    raw = load_source({"hf": {**source["hf"], "configs": ["socratic"]}}, "test")
    assert len(raw) == 1319 and all(r["answer"].startswith(SOCRATIC_MARK) for r in raw)


def test_hub_ids_are_not_fetched(hub):
    """Offline, the paper's hub id itself (no local copy) fails at once, without a connection attempt."""
    with pytest.raises((ConnectionError, FileNotFoundError)):  # datasets 5: "Couldn't reach ... (OfflineModeIsEnabled)"
        load_source({"hf": {"path": GSM8K, "configs": ["main"], "train_split": "train"}}, "train")


def test_math500_root_jsonl_loads_as_the_test_split(hub, files):
    test_source = paper_dataset("math", hub)["test_source"]
    assert "configs" not in test_source["hf"] and test_source["hf"]["test_split"] == "test"
    raw = load_source(test_source, "test")
    expected = files["math500/test.jsonl"]
    assert len(raw) == len(expected) == 500
    problems = [normalize(r, "math", f"math-test-{i}") for i, r in enumerate(raw)]
    assert [p["id"] for p in problems] == [r["unique_id"] for r in expected]
    assert len({p["id"] for p in problems}) == 500
    assert [(p["question"], p["solution"], p["answer"], p["level"], p["subject"]) for p in problems] == [
        (r["problem"], r["solution"], r["answer"], r["level"], r["subject"]) for r in expected]


def _boxed_forms(answer: str) -> list[str]:
    return [part.strip() for part in answer.split(",")]


def test_hendrycks_subject_configs_load_every_row(hub, files):
    source = paper_dataset("math", hub)["source"]
    assert source["hf"]["configs"] == list(MATH_SUBJECTS) and source["hf"]["train_split"] == "train"
    raw = load_source(source, "train")
    # The configs are concatenated in the paper config's order, each subject's rows in file order.
    expected = [r for subject in MATH_SUBJECTS.values() for r in files["math500/test.jsonl"] if r["subject"] == subject]
    assert len(raw) == len(expected) == 500
    assert set(raw[0]) == {"problem", "level", "type", "solution"}
    problems = [normalize(r, "math", f"math-train-{i}") for i, r in enumerate(raw)]
    assert [p["id"] for p in problems] == [f"math-train-{i}" for i in range(500)]
    assert [(p["question"], p["solution"], p["level"], p["subject"]) for p in problems] == [
        (r["problem"], r["solution"], r["level"], r["subject"]) for r in expected]
    assert not any(p["question"].startswith(TEST_MARK) for p in problems)
    # Without an answer column, the answer is the solution's \boxed{...}: MATH500's answer, or, for the one
    # solution that boxes two forms ("15\frac{39}{40}, or \frac{639}{40}"), a list holding it.
    for p, r in zip(problems, expected):
        assert p["answer"] == r["answer"] or r["answer"] in _boxed_forms(p["answer"]), (p["answer"], r["answer"])
        assert grade(p["solution"], r["answer"], "math")
    assert sum(p["answer"] != r["answer"] for p, r in zip(problems, expected)) <= 1


def test_hendrycks_test_split_is_its_own(hub):
    source = paper_dataset("math", hub)["source"]
    source["hf"].setdefault("test_split", "test")  # the paper takes its test set from MATH-500 instead
    raw = load_source(source, "test")
    assert len(raw) == 3 * len(MATH_SUBJECTS) and all(r["problem"].startswith(TEST_MARK) for r in raw)
    assert all(re.fullmatch(r"Level [1-5]", r["level"]) for r in raw)


def test_cards_carry_the_hub_configs_blocks(hub):
    """The copies use the hub's card format: a ``configs:`` block with per-split globs, no loading script."""
    card = yaml.safe_load((hub[GSM8K] / "README.md").read_text().split("---")[1])
    assert card["configs"][0] == {"config_name": "main", "data_files": [
        {"split": "train", "path": "main/train-*"}, {"split": "test", "path": "main/test-*"}]}
    assert sorted(p.relative_to(hub[GSM8K]).as_posix() for p in hub[GSM8K].rglob("*.parquet")) == [
        f"{c}/{s}-00000-of-00001.parquet" for c in ("main", "socratic") for s in ("test", "train")]
    assert sorted(p.name for p in hub[MATH500].iterdir()) == ["README.md", "test.jsonl"]
    assert sorted(p.relative_to(hub[HENDRYCKS]).as_posix() for p in hub[HENDRYCKS].rglob("*.parquet")) == [
        f"{c}/{s}-00000-of-00001.parquet" for c in sorted(MATH_SUBJECTS) for s in ("test", "train")]
    assert not list(hub[HENDRYCKS].glob("*.py")) and not list(hub[GSM8K].glob("*.py"))


def test_paper_gsm8k_splits_through_the_hub_layout(hub):
    """config.yaml's GSM8K entry, end to end through datasets.load_dataset: as the paper says, all 1,319 test
    problems, and 500 validation problems and the 8 exemplars held out of train."""
    from weakstrong.data import prepare_splits

    splits, report = prepare_splits(paper_dataset("gsm8k", hub), "gsm8k", seed=1234)
    assert {k: len(v) for k, v in splits.items()} == {"train": 6965, "validation": 500, "test": 1319, "exemplars": 8}
    assert report["splits"]["train"]["source"].startswith(f"hf:{hub[GSM8K]} split train")
    assert not any(p["question"].startswith("[socratic") for p in splits["train"])
