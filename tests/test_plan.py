"""weakstrong.plan and `snakemake plan`: memory per finetuning GPU and GPU-hours, from the config alone."""

from __future__ import annotations

import copy
import math
import time

import pytest

from conftest import REPO, snakemake
from weakstrong import plan, study
from weakstrong.config import load

GIB = 1024 ** 3
TOY_PLAN = {"gpu_memory_gb": 80, "gpu_peak_tflops": 989, "training_mfu": 0.35, "sampling_mfu": 0.1,
            "mean_prompt_tokens": 30, "mean_completion_tokens": 60, "gpu_counts": [1, 2]}


@pytest.fixture(scope="module")
def paper():
    return load(REPO / "config.yaml")


@pytest.fixture(scope="module")
def toy():
    config = load(REPO / "configs" / "toy.yaml")
    assert "plan" not in config
    return {**config, "plan": TOY_PLAN}


@pytest.fixture(scope="module")
def paper_plan(paper):
    return plan.study_plan(paper, 8)


# --- memory ---------------------------------------------------------------------------------------

def test_architecture_from_config_toy_spec_or_none(paper, toy):
    assert plan.model_architecture(paper, "gemma2-27b") == {"layers": 46, "hidden_size": 4608, "vocab_size": 256000}
    assert plan.model_architecture(toy, "toy-se") == {"layers": 3, "hidden_size": 96, "vocab_size": 527}
    assert plan.model_architecture(paper, "gemini-1.5-pro") is None


def test_precision_auto_means_bf16_on_gpus():
    assert plan.gpu_precision("auto") == "bf16"
    assert plan.gpu_precision("fp32") == "fp32"
    with pytest.raises(ValueError, match="finetune.precision"):
        plan.gpu_precision("fp8")
    with pytest.raises(plan.PlanError):
        plan.finetune_memory(1e9, None, gpus=1, micro_batch_size=1, max_length=8, precision="auto",
                             gradient_checkpointing=True)


def test_memory_matches_a_hand_computation():
    P, L, h, V = 1e9, 10, 1000, 10_000
    arch = {"layers": L, "hidden_size": h, "vocab_size": V}
    tokens = 2 * 100
    m = plan.finetune_memory(P, arch, gpus=4, micro_batch_size=2, max_length=100, precision="bf16",
                             gradient_checkpointing=True)
    layer = (P - V * h) / L
    assert m["weights"] == pytest.approx((4 * P / 4 + 2 * layer * 2) / GIB)
    assert m["gradients"] == pytest.approx(4 * P / 4 / GIB)
    assert m["optimizer"] == pytest.approx(8 * P / 4 / GIB)
    assert m["activations"] == pytest.approx((L * tokens * h * 2 + 34 * tokens * h + tokens * V * 10) / GIB)
    assert m["overhead"] == 2
    assert m["total"] == pytest.approx(m["weights"] + m["gradients"] + m["optimizer"] + m["activations"] + 2)
    assert m["lower_bound"] is False

    # One GPU: 16 bytes a parameter, nothing gathered; fp32 without checkpointing stores every layer.
    m = plan.finetune_memory(P, arch, gpus=1, micro_batch_size=2, max_length=100, precision="fp32",
                             gradient_checkpointing=False)
    assert m["weights"] + m["gradients"] + m["optimizer"] == pytest.approx(16 * P / GIB)
    assert m["activations"] == pytest.approx((L * 34 * tokens * h * 2 + tokens * V * 8) / GIB)


def test_unknown_architecture_gives_a_lower_bound():
    m = plan.finetune_memory(2e9, None, gpus=2, micro_batch_size=4, max_length=512, precision="bf16",
                             gradient_checkpointing=True)
    assert m["activations"] is None and m["lower_bound"] is True
    assert m["total"] == pytest.approx(16 * 2e9 / 2 / GIB + 2)


def test_gemma2_27b_needs_more_than_one_80gb_gpu_but_fits_eight(paper):
    one = plan.job_memory(paper, "gemma2-27b", "low", 1)
    assert one["total"] > 80
    assert one["weights"] + one["gradients"] + one["optimizer"] == pytest.approx(16 * 27.2e9 / GIB)
    with pytest.raises(plan.PlanError):
        plan.check_fits(one, 80, student="gemma2-27b", gpus=1)
    eight = plan.job_memory(paper, "gemma2-27b", "low", 8)
    assert eight["gradients"] + eight["optimizer"] == pytest.approx(12 * 27.2e9 / 8 / GIB)
    assert eight["total"] < 80
    plan.check_fits(eight, 80, student="gemma2-27b", gpus=8)


def test_check_fits_error_names_the_keys_to_change(paper):
    memory = plan.job_memory(paper, "gemma2-9b", "low", 1)
    with pytest.raises(plan.PlanError) as error:
        plan.check_fits(memory, 40, student="gemma2-9b", gpus=1)
    message = str(error.value)
    for key in ("resources.finetune.gpu", "finetune.micro_batch_size", "finetune.students.gemma2-9b.micro_batch_size",
                "finetune.max_length", "finetune.gradient_checkpointing", "plan.gpu_memory_gb"):
        assert key in message, key
    assert f"{memory['total']:.1f} GiB" in message


def test_toy_config_fits_trivially(toy):
    result = plan.study_plan(toy, 0)
    assert result["memory"] and all(row["fits"] for row in result["memory"])
    assert all(row["memory"]["total"] < 3 for row in result["memory"])
    assert result["configured"] == {"gpus": 1, "students": 3, "fit": 3, "too_big": []}
    # Toy models train without gradient checkpointing (finetune_settings' default).
    assert not any(row["gradient_checkpointing"] for row in result["memory"])
    assert "0 (finetuning on CPU)" in plan.render_plan(result)


def test_memory_rows_cover_every_student_and_gpu_count(paper, paper_plan):
    rows = paper_plan["memory"]
    assert {(r["student"], r["gpus"]) for r in rows} == {(s, g) for s in ("gemma-7b", "gemma2-9b", "gemma2-27b")
                                                         for g in (1, 8, 16)}
    assert {r["gpus"] for r in rows if r["configured"]} == {8}
    by = {(r["student"], r["gpus"]): r for r in rows}
    assert by["gemma2-27b", 1]["fits"] is False and by["gemma2-27b", 8]["fits"] is True
    assert by["gemma-7b", 1]["micro_batch_size"] == 1 and by["gemma-7b", 1]["accumulation"] == 8
    assert by["gemma2-9b", 8]["accumulation"] == 1
    # 16 GPUs split the batch of 32 into micro batches of 2 (below the bound of 4); Gemma-7B's batch of 8
    # cannot be split over 16 GPUs: reported, not raised.
    assert by["gemma2-9b", 16]["micro_batch_size"] == 2 and by["gemma2-9b", 16]["accumulation"] == 1
    assert by["gemma-7b", 16]["accumulation"] is None
    assert "batch 8 cannot be split over 16 GPUs" in plan.render_plan(paper_plan)
    # A configured GPU count outside plan.gpu_counts is tabulated too.
    assert {r["gpus"] for r in plan.study_plan(paper, 4)["memory"] if r["configured"]} == {4}


def test_a_student_that_does_not_fit_is_named(paper):
    config = copy.deepcopy(paper)
    config["plan"] = {**config["plan"], "gpu_memory_gb": 40}
    result = plan.study_plan(config, 8)
    assert result["configured"]["too_big"] == ["gemma2-27b"]
    text = plan.render_plan(result)
    assert "**not gemma2-27b**" in text and "does not fit" in text


# --- GPU-hours ------------------------------------------------------------------------------------

def test_sampling_costs_gpu_hours_or_usd(paper, paper_plan):
    rows = {(r["dataset"], r["generator"]): r for r in paper_plan["sampling"]}
    assert set(rows) == set(study.generators(paper))
    for name in ("gemini-1.5-flash", "gemini-1.5-pro"):
        row = rows["math", name]
        assert row["gpu_hours"] == 0 and row["usd"] > 0 and row["backend"] == "openai_api"
    # Price-matched: Flash draws 35 samples a question for each of Pro's one, at 1/35 the price.
    assert rows["math", "gemini-1.5-flash"]["usd"] == pytest.approx(rows["math", "gemini-1.5-pro"]["usd"])
    assert rows["math", "gemini-1.5-pro"]["usd"] == pytest.approx(7500 * 1 * 300 * 10.5 / 1e6)
    row = rows["math", "gemma2-27b"]
    assert row["usd"] == 0
    # All 7,500 train problems (validation and exemplars come from MATH test), 10 samples, 300 tokens, 2P FLOPs,
    # 10% of 989 TFLOP/s.
    assert row["gpu_hours"] == pytest.approx(7500 * 10 * 300 * 2 * 27.2e9 / (989e12 * 0.10) / 3600)


def test_finetuning_hours_match_a_hand_computation(paper_plan):
    row = next(r for r in paper_plan["finetuning"]
               if (r["dataset"], r["pair"], r["budget"], r["student"]) == ("math", "gemma2", "high", "gemma2-27b"))
    assert row["runs"] == 9 and row["steps"] == 6000 and row["batch_size"] == 32  # wc, se, gold x 3 lrs
    flops = 9 * 6000 * 32 * (120 + 300) * 6 * 27.2e9 * 4 / 3
    assert row["finetuning"] == pytest.approx(flops / (989e12 * 0.35) / 3600)
    assert row["validation"] == pytest.approx(9 * 10 * 500 * 300 * 2 * 27.2e9 / (989e12 * 0.10) / 3600)
    assert row["evaluation"] == pytest.approx(3 * 500 * 17 * 300 * 2 * 27.2e9 / (989e12 * 0.10) / 3600)
    gemma7 = next(r for r in paper_plan["finetuning"]
                  if (r["dataset"], r["budget"], r["student"]) == ("math", "high", "gemma-7b"))
    assert gemma7["steps"] == 24000 and gemma7["batch_size"] == 8


def test_totals_add_up(paper_plan):
    totals = paper_plan["totals"]
    assert all(totals[stage]["gpu_hours"] > 0 for stage in plan.STAGES)
    assert totals["total"]["gpu_hours"] == pytest.approx(sum(totals[s]["gpu_hours"] for s in plan.STAGES))
    assert totals["finetuning"]["gpu_hours"] == pytest.approx(sum(r["finetuning"] for r in paper_plan["finetuning"]))
    assert totals["total"]["usd"] > 0 and math.isfinite(totals["total"]["gpu_hours"])
    # 5 experiments x 3 students, each 2 sources x 3 learning rates, and gold x 3 learning rates once per
    # (dataset, budget, student): 4 x 3 of them (the Gemini pair's math/low cells share Gemma2's).
    assert len(paper_plan["finetuning"]) == 15 and sum(r["runs"] for r in paper_plan["finetuning"]) == 90 + 36


def test_render_has_assumptions_and_tables(paper_plan):
    text = plan.render_plan(paper_plan)
    for heading in ("## Assumptions", "## Finetuning memory per GPU", "## GPU-hours", "### Sampling",
                    "### Finetuning, checkpoint validation and test evaluation (126 finetuning runs)"):
        assert heading in text, heading
    headers = [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines()
               if line.startswith("| ") and "---" not in line]
    assert ["student", "GPUs", "micro batch", "accumulation", "weights", "gradients", "optimizer", "activations",
            "total", "fits 80 GB"] in headers
    assert ["stage", "GPU-hours", "API USD"] in headers
    assert any("runs (sources x lrs)" in row and "GPU-hours" in row for row in headers)
    assert "**total**" in text
    assert "plan.gpu_memory_gb" in text and "989 TFLOP/s" in text and "35%" in text
    assert "|---" in text          # GitHub tables
    assert "lower bound" not in text   # every student has an architecture
    assert "8 (configured)" in text
    assert "GPU-hours" in plan.summary(paper_plan) and "3 of 3 students fit" in plan.summary(paper_plan)


def test_missing_plan_section_or_dataset_size_names_the_key(paper):
    config = {key: value for key, value in paper.items() if key != "plan"}
    with pytest.raises(plan.PlanError, match="config has no 'plan' section"):
        plan.study_plan(config, 8)
    config = copy.deepcopy(paper)
    del config["plan"]["dataset_sizes"]["gsm8k"]
    with pytest.raises(plan.PlanError, match=r"plan\.dataset_sizes\.gsm8k"):
        plan.study_plan(config, 8)


def test_write_plan(paper, tmp_path):
    path = tmp_path / "sub" / "plan.md"
    result = plan.write_plan(paper, 8, path)
    assert path.read_text() == plan.render_plan(result)


# --- the workflow ---------------------------------------------------------------------------------

def test_snakemake_plan_writes_plan_md(tmp_path):
    start = time.monotonic()
    proc = snakemake("plan", "--cores", "1", "--directory", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
                     timeout=60)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert time.monotonic() - start < 60
    text = (tmp_path / "results" / "plan.md").read_text()
    assert text.startswith("# Plan") and "gemma2-27b" in text
    assert "students fit" in (tmp_path / "logs" / "write_plan.log").read_text()
    # Only the plan ran: no data, no models.
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["plan.md"]
