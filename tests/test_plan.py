"""weakstrong.plan and `snakemake plan`: memory per finetuning GPU and GPU-hours, from the config alone."""

from __future__ import annotations

import copy
import dataclasses
import math
import time

import pytest

from conftest import REPO, snakemake
from weakstrong import plan, study
from weakstrong.config import load
from weakstrong.study_config import Plan, SourceScope

from helpers.studies import edit

GIB = 1024 ** 3
TOY_PLAN = {"gpu_memory_gb": 80, "gpu_peak_tflops": 989, "training_mfu": 0.35, "sampling_mfu": 0.1,
            "mean_prompt_tokens": 30, "mean_completion_tokens": 60, "gpu_counts": [1, 2]}


@pytest.fixture(scope="module")
def paper_micro_4(paper):
    """config.yaml with Gemma2-27B at the shared micro batch of 4, where the planner's margins are thin."""
    return edit(paper, "finetune/students", {name: own for name, own in paper.finetune.students.items()
                                             if name != "gemma2-27b"})


@pytest.fixture(scope="module")
def toy():
    config = load(REPO / "configs" / "toy.yaml")
    assert config.plan is None
    return dataclasses.replace(config, plan=Plan(**TOY_PLAN))


@pytest.fixture(scope="module")
def paper_plan(paper):
    return plan.study_plan(paper, 8)


def test_config_runs_gemma2_27b_at_a_micro_batch_with_room(paper_plan):
    rows = {row["student"]: row for row in paper_plan["configured"]["rows"]}
    assert not any(row["tight"] for row in rows.values()) and not paper_plan["configured"]["too_big"]
    assert "gemma2-27b: 69.3 GiB per GPU (micro batch 2, 2 accumulation steps" in plan.render_plan(paper_plan)


# --- memory ---------------------------------------------------------------------------------------

def test_architecture_from_config_toy_spec_or_none(paper, toy):
    # num_hidden_layers, hidden_size, vocab_size, num_attention_heads of the models' config.json; Gemma 2
    # soft-caps attention and final logits (attn_logit_softcapping, final_logit_softcapping), Gemma does not.
    assert plan.model_architecture(paper, "gemma2-27b") == {"layers": 46, "hidden_size": 4608, "vocab_size": 256000,
                                                            "heads": 32, "soft_capping": True}
    assert plan.model_architecture(paper, "gemma2-9b") == {"layers": 42, "hidden_size": 3584, "vocab_size": 256000,
                                                           "heads": 16, "soft_capping": True}
    assert plan.model_architecture(paper, "gemma-7b") == {"layers": 28, "hidden_size": 3072, "vocab_size": 256000,
                                                          "heads": 16}
    assert plan.model_architecture(toy, "toy-se") == {"layers": 3, "hidden_size": 96, "vocab_size": 527, "heads": 3}
    assert plan.model_architecture(paper, "gemini-1.5-pro") is None


def test_soft_capping_needs_heads_in_the_config(raw_paper):
    from weakstrong.config import ConfigError, validate

    config = copy.deepcopy(raw_paper)
    del config["models"]["gemma2-27b"]["architecture"]["heads"]
    with pytest.raises(ConfigError, match=r"models\.gemma2-27b\.architecture.*'heads' is a required property"):
        validate(config)
    config["models"]["gemma2-27b"]["architecture"]["soft_capping"] = False
    validate(config)   # SDPA: no scores, no heads needed
    with pytest.raises(plan.PlanError, match=r"models\.<model>\.architecture\.heads"):
        plan.finetune_memory(1e9, {"layers": 2, "hidden_size": 8, "vocab_size": 16, "soft_capping": True}, gpus=1,
                             micro_batch_size=1, max_length=8, precision="bf16", gradient_checkpointing=True)


def test_precision_auto_means_bf16_on_gpus():
    assert plan.gpu_precision("auto") == "bf16"
    assert plan.gpu_precision("fp32") == "fp32"
    with pytest.raises(ValueError, match="finetune.precision"):
        plan.gpu_precision("fp8")
    with pytest.raises(plan.PlanError):
        plan.finetune_memory(1e9, None, gpus=1, micro_batch_size=1, max_length=8, precision="auto",
                             gradient_checkpointing=True)


# A made-up model: P = 10^9 parameters, L = 10 layers, h = 1000, V = 10,000 (a tied embedding of 10^7), 4 heads;
# micro batch B = 2 of S = 100 tokens (T = 200).
P, L, H, V, HEADS = 10 ** 9, 10, 1000, 10_000, 4
SMALL = {"layers": L, "hidden_size": H, "vocab_size": V, "heads": HEADS}


def test_memory_matches_a_hand_computation():
    """bf16, 4 GPUs, gradient checkpointing, SDPA (no soft-capping), every figure in bytes by hand."""
    m = plan.finetune_memory(P, SMALL, gpus=4, micro_batch_size=2, max_length=100, precision="bf16",
                             gradient_checkpointing=True)
    # A layer has (10^9 - 10^7) / 10 = 9.9 x 10^7 parameters. Sharded fp32 weights 4P/4 = 10^9 bytes, plus,
    # gathered in bf16, the root unit's embedding (10^7 x 2) and two layers (2 x 9.9 x 10^7 x 2).
    assert m["weights"] * GIB == pytest.approx(1_000_000_000 + 20_000_000 + 396_000_000)
    # Sharded fp32 gradients 10^9, plus the unsharded bf16 gradients of the embedding and of one layer.
    assert m["gradients"] * GIB == pytest.approx(1_000_000_000 + 20_000_000 + 198_000_000)
    assert m["optimizer"] * GIB == pytest.approx(2_000_000_000)                       # 8P / 4
    # Every layer's input, 10 x 200 x 1000 x 2 = 4 x 10^6, and one recomputed layer, 34 x 200 x 1000.
    assert m["activations"] * GIB == pytest.approx(4_000_000 + 6_800_000)
    # The loss: 200 x 10,000 logits at 12 bytes (fp32 log-probabilities, their gradient, the logits' gradient).
    assert m["logits"] * GIB == pytest.approx(24_000_000)
    assert m["attention"] == 0                                                    # SDPA stores no scores
    assert m["overhead"] == 2
    assert m["total"] == pytest.approx(sum(m[part] for part in plan.MEMORY_PARTS))
    assert m["total"] * GIB == pytest.approx(1_416_000_000 + 1_218_000_000 + 2_000_000_000 + 10_800_000
                                             + 24_000_000 + 2 * GIB)
    assert m["lower_bound"] is False


def test_soft_capping_adds_eager_attention_scores_and_the_tanh_of_the_logits():
    arch = {**SMALL, "soft_capping": True}
    m = plan.finetune_memory(P, arch, gpus=4, micro_batch_size=2, max_length=100, precision="bf16",
                             gradient_checkpointing=True)
    # 2 x 4 x 100 x 100 = 80,000 scores a layer; with checkpointing one layer's: 8 bytes kept (tanh output 2,
    # fp32 softmax 4, bf16 probabilities 2) and 10 for its backward (2 + 4 + 4): 80,000 x 18.
    assert m["attention"] * GIB == pytest.approx(1_440_000)
    # The final logits' tanh output, 2 bytes more a logit: 200 x 10,000 x 14.
    assert m["logits"] * GIB == pytest.approx(28_000_000)
    sdpa = plan.finetune_memory(P, SMALL, gpus=4, micro_batch_size=2, max_length=100, precision="bf16",
                                gradient_checkpointing=True)
    assert m["total"] - sdpa["total"] == pytest.approx((1_440_000 + 4_000_000) / GIB)
    for part in ("weights", "gradients", "optimizer", "activations"):
        assert m[part] == sdpa[part]

    # fp32 on one GPU without checkpointing: 16 bytes a parameter and nothing gathered; every layer's
    # activations (10 x 34 x 200 x 1000 x 2) and scores (10 x 80,000 x 8) are kept, and the layer being
    # back-propagated needs 80,000 x 8 more; logits 200 x 10,000 x (12 + 4).
    m = plan.finetune_memory(P, arch, gpus=1, micro_batch_size=2, max_length=100, precision="fp32",
                             gradient_checkpointing=False)
    assert (m["weights"] + m["gradients"] + m["optimizer"]) * GIB == pytest.approx(16 * P)
    assert m["activations"] * GIB == pytest.approx(136_000_000)
    assert m["attention"] * GIB == pytest.approx(6_400_000 + 640_000)
    assert m["logits"] * GIB == pytest.approx(32_000_000)


def test_architecture_without_heads_or_soft_capping_still_works():
    """What a finetune job's fit check (launch.check_fit) may carry: the three original keys."""
    m = plan.finetune_memory(P, {"layers": L, "hidden_size": H, "vocab_size": V}, gpus=4, micro_batch_size=2,
                             max_length=100, precision="bf16", gradient_checkpointing=True)
    assert m["attention"] == 0 and m["total"] == pytest.approx(
        plan.finetune_memory(P, SMALL, gpus=4, micro_batch_size=2, max_length=100, precision="bf16",
                             gradient_checkpointing=True)["total"])


def test_unknown_architecture_gives_a_lower_bound():
    m = plan.finetune_memory(2e9, None, gpus=2, micro_batch_size=4, max_length=512, precision="bf16",
                             gradient_checkpointing=True)
    assert m["activations"] is None and m["logits"] is None and m["attention"] is None and m["lower_bound"] is True
    assert m["total"] == pytest.approx(16 * 2e9 / 2 / GIB + 2)


def test_gemma2_27b_needs_more_than_one_80gb_gpu_but_fits_eight(paper_micro_4):
    one = plan.job_memory(paper_micro_4, "gemma2-27b", "low", 1)
    assert one["total"] > 80
    assert one["weights"] + one["gradients"] + one["optimizer"] == pytest.approx(16 * 27.2e9 / GIB)
    with pytest.raises(plan.PlanError):
        plan.check_fits(one, 80, student="gemma2-27b", gpus=1)
    eight = plan.job_memory(paper_micro_4, "gemma2-27b", "low", 8)
    # Sharded gradients and Adam moments, plus the unsharded bf16 gradients of the embedding and of one layer.
    embedding, layer = 256000 * 4608, (27.2e9 - 256000 * 4608) / 46
    assert eight["gradients"] + eight["optimizer"] == pytest.approx((12 * 27.2e9 / 8 + 2 * (embedding + layer)) / GIB)
    assert eight["weights"] == pytest.approx((4 * 27.2e9 / 8 + 2 * (embedding + 2 * layer)) / GIB)
    # Micro batch 4 of 1024 tokens: fp32 loss tensors and the soft-capped logits (14 bytes a logit), and one
    # layer's eager attention scores, 4 x 32 heads x 1024^2, 18 bytes each.
    assert eight["logits"] == pytest.approx(4 * 1024 * 256000 * 14 / GIB)
    assert eight["attention"] == pytest.approx(4 * 32 * 1024 ** 2 * 18 / GIB)
    assert 75 < eight["total"] < 80
    plan.check_fits(eight, 80, student="gemma2-27b", gpus=8)
    with pytest.raises(plan.PlanError, match="logits 13.7, attention 2.2"):
        plan.check_fits(eight, 75, student="gemma2-27b", gpus=8)


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
    assert {key: value for key, value in result["configured"].items() if key != "rows"} == \
        {"gpus": 1, "students": 3, "fit": 3, "too_big": []}
    assert [row["student"] for row in result["configured"]["rows"]] == ["toy-student", "toy-wc", "toy-se"]
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


def test_each_student_is_said_to_fit_at_the_configured_gpus(paper_micro_4):
    paper_plan = plan.study_plan(paper_micro_4, 8)
    text = plan.render_plan(paper_plan)
    assert "At the configured 8 GPUs per finetuning job and finetune.max_length 1024, all 3 students fit:" in text
    lines = {line.split(":")[0][2:]: line for line in text.splitlines() if line.startswith("- gemma")}
    assert set(lines) == {"gemma-7b", "gemma2-9b", "gemma2-27b"}
    assert "(micro batch 1, 1 accumulation step, gradient checkpointing on): fits," in lines["gemma-7b"]
    assert "(micro batch 4, 1 accumulation step, gradient checkpointing on): fits," in lines["gemma2-9b"]
    # Gemma2-27B fits with under 5% to spare; the plan says what gives it room.
    rows = {row["student"]: row for row in paper_plan["configured"]["rows"]}
    assert rows["gemma2-27b"]["tight"] and not rows["gemma2-9b"]["tight"] and not rows["gemma-7b"]["tight"]
    assert "fits, but only" in lines["gemma2-27b"]
    assert ("micro batch 2, 2 accumulation steps, gradient checkpointing on "
            "(finetune.students.gemma2-27b.micro_batch_size: 2)") in lines["gemma2-27b"]
    assert "gemma2-27b with under 5% to spare" in plan.summary(paper_plan)


def test_fit_options_name_the_smaller_micro_batch_or_checkpointing_that_fits(paper_micro_4):
    big = plan.job_memory(paper_micro_4, "gemma2-27b", "low", 8)
    [option] = plan.fit_options(paper_micro_4, "gemma2-27b", "low", 8, 75)
    assert (option["micro_batch_size"], option["accumulation"], option["gradient_checkpointing"]) == (2, 2, True)
    assert option["memory"] == plan.job_memory(paper_micro_4, "gemma2-27b", "low", 8, micro_batch_size=2)
    assert option["memory"]["total"] <= 75 < big["total"]
    # Micro batch 2 halves the tokens of a forward pass: logits and scores halve.
    assert option["memory"]["logits"] == pytest.approx(big["logits"] / 2)
    assert option["memory"]["attention"] == pytest.approx(big["attention"] / 2)
    assert plan.fit_options(paper_micro_4, "gemma2-27b", "low", 8, 40) == []

    # Without gradient checkpointing Gemma2-27B keeps 46 layers of activations and eager scores: no micro
    # batch fits, and checkpointing at the configured micro batch does.
    config = edit(paper_micro_4, "finetune/gradient_checkpointing", False)
    assert plan.job_memory(config, "gemma2-27b", "low", 8)["total"] > 80
    [option] = plan.fit_options(config, "gemma2-27b", "low", 8, 80)
    assert (option["micro_batch_size"], option["gradient_checkpointing"]) == (4, True)
    text = plan.render_plan(plan.study_plan(config, 8))
    assert "**not gemma2-27b**" in text
    assert "It fits with micro batch 4, 1 accumulation step, gradient checkpointing on " \
           "(finetune.gradient_checkpointing: true)" in text


def test_a_student_that_does_not_fit_is_named(paper_micro_4):
    config = edit(paper_micro_4, "plan/gpu_memory_gb", 75)
    result = plan.study_plan(config, 8)
    assert result["configured"]["too_big"] == ["gemma2-27b"]
    text = plan.render_plan(result)
    assert "**not gemma2-27b**" in text and "does not fit" in text
    assert "**does not fit** 75 GB. It fits with micro batch 2, 2 accumulation steps" in text
    assert "(not gemma2-27b)" in plan.summary(result)
    config = edit(config, "plan/gpu_memory_gb", 40)
    text = plan.render_plan(plan.study_plan(config, 8))
    assert "**not gemma2-9b, gemma2-27b**" in text
    assert "finetune.students.gemma2-9b.micro_batch_size: 2" in text
    assert "No smaller micro batch fits, with gradient checkpointing or without" in text


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
    # wc, se, gold, wc.unfiltered, se.unfiltered, wc.judged, se.judged and mix x 3 lrs
    assert row["runs"] == 24 and row["steps"] == 6000 and row["batch_size"] == 32
    flops = 24 * 6000 * 32 * (120 + 300) * 6 * 27.2e9 * 4 / 3
    assert row["finetuning"] == pytest.approx(flops / (989e12 * 0.35) / 3600)
    assert row["validation"] == pytest.approx(24 * 10 * 500 * 300 * 2 * 27.2e9 / (989e12 * 0.10) / 3600)
    assert row["evaluation"] == pytest.approx(8 * 500 * 17 * 300 * 2 * 27.2e9 / (989e12 * 0.10) / 3600)
    gemma7 = next(r for r in paper_plan["finetuning"]
                  if (r["dataset"], r["budget"], r["student"]) == ("math", "high", "gemma-7b"))
    assert gemma7["steps"] == 24000 and gemma7["batch_size"] == 8


def test_totals_add_up(paper_plan):
    totals = paper_plan["totals"]
    assert all(totals[stage]["gpu_hours"] > 0 for stage in plan.STAGES)
    assert totals["total"]["gpu_hours"] == pytest.approx(sum(totals[s]["gpu_hours"] for s in plan.STAGES))
    assert totals["finetuning"]["gpu_hours"] == pytest.approx(sum(r["finetuning"] for r in paper_plan["finetuning"]))
    assert totals["total"]["usd"] > 0 and math.isfinite(totals["total"]["gpu_hours"])
    # 5 experiments x 3 students, each 7 sources (wc, se and the five beyond) x 3 learning rates, and gold x 3
    # learning rates once per (dataset, budget, student): 4 x 3 of them (the Gemini pair's math/low cells share
    # Gemma2's).
    assert len(paper_plan["finetuning"]) == 15 and sum(r["runs"] for r in paper_plan["finetuning"]) == 315 + 36


def test_sources_beyond_the_main_studys_run_where_their_scope_lets_them(paper):
    scoped = dataclasses.replace(paper, source_scope=SourceScope(students=["gemma-7b"], datasets=["math"],
                                                                 budgets=["low"]))
    rows = {(r["dataset"], r["pair"], r["budget"], r["student"]): r for r in plan.study_plan(scoped, 8)["finetuning"]}
    # in scope: wc, se, gold and the five beyond (gold counted with the first pair that has it)
    assert rows["math", "gemma2", "low", "gemma-7b"]["runs"] == 8 * 3
    assert rows["math", "gemini", "low", "gemma-7b"]["runs"] == 7 * 3
    assert rows["math", "gemma2", "high", "gemma-7b"]["runs"] == rows["gsm8k", "gemma2", "low", "gemma-7b"]["runs"] == 9
    assert rows["math", "gemma2", "low", "gemma2-9b"]["runs"] == 9


def test_render_has_assumptions_and_tables(paper_plan):
    text = plan.render_plan(paper_plan)
    for heading in ("## Assumptions", "## Finetuning memory per GPU", "## GPU-hours", "### Sampling",
                    "### Finetuning, checkpoint validation and test evaluation (351 finetuning runs)"):
        assert heading in text, heading
    headers = [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines()
               if line.startswith("| ") and "---" not in line]
    assert ["student", "GPUs", "micro batch", "accumulation", "weights", "gradients", "optimizer", "activations",
            "logits", "attention scores", "total", "fits 80 GB"] in headers
    assert ["stage", "GPU-hours", "API USD"] in headers
    assert any("runs (sources x lrs)" in row and "GPU-hours" in row for row in headers)
    assert "**total**" in text
    assert "plan.gpu_memory_gb" in text and "989 TFLOP/s" in text and "35%" in text
    assert "|---" in text          # GitHub tables
    assert "lower bound" not in text   # every student has an architecture
    assert "8 (configured)" in text
    assert "GPU-hours" in plan.summary(paper_plan) and "3 of 3 students fit" in plan.summary(paper_plan)


def test_missing_plan_section_or_dataset_size_names_the_key(paper):
    with pytest.raises(plan.PlanError, match="config has no 'plan' section"):
        plan.study_plan(dataclasses.replace(paper, plan=None), 8)
    config = edit(paper, "plan/dataset_sizes", {name: sizes for name, sizes in paper.plan.dataset_sizes.items()
                                                if name != "gsm8k"})
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
