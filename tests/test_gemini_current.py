"""configs/gemini-current.yaml, the paper's price-matched Gemini experiment on the pair the API serves today,
given after config.yaml: merged as Snakemake merges --configfile files it validates, swaps the `gemini` pair and
the judge and nothing else, and its samples ratio follows from its prices as the workflow rounds it (and as
its header says)."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from snakemake.utils import update_config

from conftest import REPO, snakemake
from weakstrong import study
from weakstrong.config import ConfigError, check_references, validate
from weakstrong.study_config import Study

PAPER = REPO / "config.yaml"
OVERLAY = REPO / "configs" / "gemini-current.yaml"


@pytest.fixture(scope="module")
def overlay() -> dict:
    return yaml.safe_load(OVERLAY.read_text())


@pytest.fixture(scope="module")
def merged(raw_paper, overlay) -> dict:
    """config.yaml with the overlay over it, as `--configfile config.yaml configs/gemini-current.yaml`."""
    config = copy.deepcopy(raw_paper)
    update_config(config, copy.deepcopy(overlay))
    return validate(config, source=f"{PAPER.name} + {OVERLAY.name}")


def test_the_overlay_validates_over_config_yaml(merged):
    assert check_references(merged) == []


def test_the_overlay_alone_is_not_a_config(overlay):
    with pytest.raises(ConfigError, match="required property"):
        validate(copy.deepcopy(overlay))


def test_only_the_gemini_pair_and_the_judge_are_swapped(raw_paper, overlay, merged):
    pair, paper_pair = merged["generator_pairs"]["gemini"], raw_paper["generator_pairs"]["gemini"]
    weak, strong = pair["weak"], pair["strong"]
    assert {weak, strong} == set(overlay["models"]) and not {weak, strong} & set(raw_paper["models"])
    assert merged["judge"]["model"] == strong  # the paper judges with its SE model, Pro
    assert study.model_backend(Study.from_config(merged), merged["judge"]["model"], "vllm") == "openai_api"
    assert {k: v for k, v in pair.items() if k not in ("weak", "strong")} == \
        {k: v for k, v in paper_pair.items() if k not in ("weak", "strong")}  # match, budgets, datasets, students
    assert merged["generator_pairs"]["gemma2"] == raw_paper["generator_pairs"]["gemma2"]
    assert merged["paths"] == {**raw_paper["paths"], "tables": raw_paper["paths"]["results"]}
    # the paper's names stay in config.yaml
    assert (paper_pair["weak"], paper_pair["strong"], raw_paper["judge"]["model"]) == \
        ("gemini-1.5-flash", "gemini-1.5-pro", "gemini-1.5-pro")
    for name in (weak, strong):
        model = merged["models"][name]
        assert model["backend"] == "openai_api" and model["chat"] is True and model["source"] == name
        assert model["price_per_million_tokens"] > model["input_price_per_million_tokens"] > 0


def test_the_samples_ratio_follows_from_the_prices(merged):
    pair = merged["generator_pairs"]["gemini"]
    assert pair["match"] == "price"
    price_wc = merged["models"][pair["weak"]]["price_per_million_tokens"]
    price_se = merged["models"][pair["strong"]]["price_per_million_tokens"]
    assert price_se > price_wc  # the SE model is the dearer one
    assert study.cost_ratio(Study.from_config(merged), "gemini") == pytest.approx(price_se / price_wc)
    assert study.samples_ratio(Study.from_config(merged), "gemini") == max(1, round(price_se / price_wc))
    for budget in pair["budgets"]:
        se = merged["budgets"][budget]
        assert study.samples_per_question(Study.from_config(merged), "gemini", budget, "wc") == \
            study.samples_ratio(Study.from_config(merged), "gemini") * study.samples_per_question(Study.from_config(merged), "gemini", budget, "se") \
            == study.samples_ratio(Study.from_config(merged), "gemini") * se
    # the cheaper-WC ablation stays below the matched ratio
    assert merged["ablations"]["cheaper_wc"]["wc_per_se"] < study.samples_ratio(Study.from_config(merged), "gemini")


def test_the_header_states_the_prices_ratio_and_their_date(merged):
    """The comment's arithmetic is the config's: output prices, their quotient and the rounded ratio."""
    text = OVERLAY.read_text()
    pair = merged["generator_pairs"]["gemini"]
    match = re.search(r"round\(([\d.]+) / ([\d.]+)\) = round\(([\d.]+)\) = (\d+) WC samples per SE sample", text)
    assert match, "the header gives the samples ratio"
    se, wc, quotient, ratio = float(match[1]), float(match[2]), float(match[3]), int(match[4])
    assert se == merged["models"][pair["strong"]]["price_per_million_tokens"]
    assert wc == merged["models"][pair["weak"]]["price_per_million_tokens"]
    assert quotient == pytest.approx(se / wc) and ratio == study.samples_ratio(Study.from_config(merged), "gemini")
    assert "https://ai.google.dev/gemini-api/docs/pricing" in text
    assert re.search(r"read 2026-\d\d-\d\d", text)  # the date of the prices
    assert "snakemake --configfile config.yaml configs/gemini-current.yaml" in text


def test_dry_run_plans_the_current_pair(tmp_path):
    proc = snakemake("-n", "--directory", str(tmp_path), "--configfile", str(PAPER), str(OVERLAY))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "results/rep-1/samples/math/gemini-3.8-flash/shard-0.jsonl" in proc.stdout
    assert "results/rep-1/samples/math/gemini-3.1-pro-preview/shard-0.jsonl" in proc.stdout
    assert "results/rep-1/judge/math/gemini/low/wc.json" in proc.stdout
    assert "gemini-1.5" not in proc.stdout
