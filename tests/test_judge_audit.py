"""weakstrong.judge and weakstrong.audit: LLM-judge selection, prompts, verdicts; the human audit round trip."""

from __future__ import annotations

import csv
import html
import json
import re

import pytest

from weakstrong import audit, judge
from weakstrong.metrics import wilson_interval

# --- verdicts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, verdict", [
    ("Step 1 is right.\nVERDICT: CORRECT", "correct"),
    ("The second step is wrong.\nVERDICT: FLAWED.", "flawed"),
    ("**VERDICT:** FLAWED", "flawed"),
    ("Final verdict: correct", "correct"),
    ("  - verdict : flawed !", "flawed"),
    ("VERDICT: CORRECT\nOn second thought...\nVERDICT: FLAWED", "flawed"),   # the last line counts
    ("VERDICT: FLAWED\nVERDICT: correct", "correct"),
])
def test_parse_verdict_valid(text, verdict):
    assert judge.parse_verdict(text) == verdict


@pytest.mark.parametrize("text", [
    None, "", "I think it is fine.",
    'I must end with exactly "VERDICT: CORRECT" or exactly "VERDICT: FLAWED".',   # echoed instruction
    "VERDICT: CORRECT or FLAWED",
    "VERDICT: INCORRECT",
    "The verdict: correct is what I would say",
    "verdicts: correct",
])
def test_parse_verdict_unparsable(text):
    assert judge.parse_verdict(text) is None


# --- allocation and selection ------------------------------------------------------------------------------

@pytest.mark.parametrize("sizes, n, expected", [
    ({"1": 10, "2": 30, "3": 60}, 10, {"1": 1, "2": 3, "3": 6}),         # exact proportions
    ({"1": 10, "2": 30, "3": 60}, 5, {"1": 1, "2": 1, "3": 3}),          # 0.5, 1.5, 3: tie goes to level 1
    ({"1": 3, "2": 1}, 3, {"1": 2, "2": 1}),                             # 2.25, 0.75: largest remainder
    ({"a": 1, "b": 1, "c": 1}, 2, {"a": 1, "b": 1, "c": 0}),
    ({"none": 5, "2": 5, "10": 5}, 4, {"none": 1, "2": 2, "10": 1}),     # numeric levels first
    ({"1": 3, "2": 1}, 0, {"1": 0, "2": 0}),
    ({"1": 3, "2": 1}, 4, {"1": 3, "2": 1}),
    ({"1": 3, "2": 1}, 99, {"1": 3, "2": 1}),                            # never more than a stratum holds
])
def test_allocate(sizes, n, expected):
    result = judge.allocate(sizes, n)
    assert result == expected
    assert sum(result.values()) == min(n, sum(sizes.values()))


PROBLEMS = [{"id": f"p{i}", "level": 1 + i % 3, "question": f"Q{i}", "solution": f"S{i}", "answer": str(i)}
            for i in range(12)] + [{"id": "free", "level": None, "question": "Qf", "solution": "Sf", "answer": "0"}]


def _records():
    """Per problem 4 samples of generator g; samples 0 and 2 are correct (2 kept per problem)."""
    records = []
    for problem in PROBLEMS:
        for index in range(4):
            records.append({"problem_id": problem["id"], "sample_index": index, "generator": "g",
                            "correct": index in (0, 2), "completion": f"sol {problem['id']}/{index}"})
    return records


def test_select_for_judging_stratified():
    records = _records()
    # kept: 2 per problem; levels 1,2,3 have 4 problems each -> 8 kept each; "none" has 2 kept
    selected = judge.select_for_judging(records, PROBLEMS, n=13, seed=0)
    # allocation of 13 over {1: 8, 2: 8, 3: 8, none: 2} (total 26): exactly half of each
    assert [s["stratum"] for s in selected] == ["1"] * 4 + ["2"] * 4 + ["3"] * 4 + ["none"]
    assert all(s["correct"] for s in selected)
    levels = {p["id"]: p["level"] for p in PROBLEMS}
    assert all(s["level"] == levels[s["problem_id"]] for s in selected)
    # within a stratum, ordered by (problem_id, sample_index)
    for stratum in ("1", "2", "3"):
        keys = [(s["problem_id"], s["sample_index"]) for s in selected if s["stratum"] == stratum]
        assert keys == sorted(keys)
    # copies: the input records are unchanged
    assert "stratum" not in records[0]


def test_select_for_judging_reproducible_and_order_independent():
    records = _records()
    a = judge.select_for_judging(records, PROBLEMS, n=7, seed=3)
    assert a == judge.select_for_judging(list(reversed(records)), PROBLEMS, n=7, seed=3)
    assert a == judge.select_for_judging(records, list(reversed(PROBLEMS)), n=7, seed=3)
    others = [judge.select_for_judging(records, PROBLEMS, n=7, seed=s) for s in range(4, 10)]
    assert any(o != a for o in others)


def test_kept_solutions_of_a_budget():
    records = _records()  # samples 0..3 per problem, 0 and 2 correct
    assert {r["sample_index"] for r in judge.kept_solutions(records, 1)} == {0}
    assert len(judge.kept_solutions(records, 1)) == len(PROBLEMS)
    assert len(judge.kept_solutions(records, 2)) == len(PROBLEMS)   # sample 1 is wrong
    assert {r["sample_index"] for r in judge.kept_solutions(records, 3)} == {0, 2}
    assert judge.kept_solutions(records, 3) == judge.kept_solutions(records) == judge.kept_solutions(records, 99)
    assert all(r["correct"] for r in judge.kept_solutions(records))
    with pytest.raises(ValueError, match="per_question must be at least 1"):
        judge.kept_solutions(records, 0)


def test_select_for_judging_with_budget_and_small_pool():
    records = _records()
    # per_question=1: only sample 0 of each problem is eligible (sample 2 is beyond the budget): 13 kept
    selected = judge.select_for_judging(records, PROBLEMS, n=100, seed=0, per_question=1)
    assert len(selected) == 13 and {s["sample_index"] for s in selected} == {0}
    # fewer kept than n: all of them
    assert len(judge.select_for_judging(records, PROBLEMS, n=1000)) == 26
    assert judge.select_for_judging(records, PROBLEMS, n=0) == []


def test_select_for_judging_errors():
    with pytest.raises(ValueError, match="empty"):
        judge.select_for_judging([], PROBLEMS)
    with pytest.raises(ValueError, match="problems is empty"):
        judge.select_for_judging(_records(), [])
    with pytest.raises(ValueError, match="'ghost'"):
        judge.select_for_judging([{"problem_id": "ghost", "sample_index": 0, "correct": True}], PROBLEMS)
    with pytest.raises(ValueError, match="n must be"):
        judge.select_for_judging(_records(), PROBLEMS, n=-1)


# --- prompts --------------------------------------------------------------------------------------------------

def test_shipped_template_has_placeholders():
    text = judge.load_template()
    for name in judge.REQUIRED_PLACEHOLDERS:
        assert "{" + name + "}" in text
    assert "VERDICT: CORRECT" in text and "VERDICT: FLAWED" in text


def test_build_judge_prompts_with_shipped_template():
    template = judge.load_template()
    problems = [{"id": "a", "question": "  Compute $\\frac{1}{2} + {question}$.  ", "solution": "It is $\\boxed{1}$.",
                 "answer": "1"}]
    selected = [{"problem_id": "a", "sample_index": 0, "completion": "  $1/2 + 1/2 = 1$ {gold_solution}\n"}]
    [prompt] = judge.build_judge_prompts(selected, problems, template)
    # filled once, stripped, braces of the texts left alone
    assert "Compute $\\frac{1}{2} + {question}$." in prompt
    assert "It is $\\boxed{1}$." in prompt
    assert "$1/2 + 1/2 = 1$ {gold_solution}" in prompt
    assert prompt.count("Compute $") == 1
    assert prompt.count("It is $\\boxed{1}$.") == 1
    expected = (template.replace("{question}", problems[0]["question"].strip())
                .replace("{gold_solution}", problems[0]["solution"])
                .replace("{candidate_solution}", selected[0]["completion"].strip()))
    assert prompt == expected
    # the verdict the prompt asks for is parseable, the instruction line itself is not
    assert judge.parse_verdict(prompt) is None


def test_build_judge_prompts_optional_answer_and_errors():
    template = "Q={question}\nG={gold_solution}\nA={gold_answer}\nC={candidate_solution}"
    problems = [{"id": "a", "question": "q", "solution": "s", "answer": 42}]
    assert judge.build_judge_prompts([{"problem_id": "a", "completion": None}], problems, template) == \
        ["Q=q\nG=s\nA=42\nC="]
    with pytest.raises(ValueError, match=r"selected\[0\].*'zz'"):
        judge.build_judge_prompts([{"problem_id": "zz"}], problems, template)
    with pytest.raises(ValueError, match="candidate_solution"):
        judge.build_judge_prompts([], problems, "Q={question} G={gold_solution}")


def test_load_template_checks_placeholders(tmp_path):
    path = tmp_path / "judge.txt"
    path.write_text("{question} {candidate_solution}")
    with pytest.raises(ValueError, match=r"\{gold_solution\}") as info:
        judge.load_template(path)
    assert str(path) in str(info.value)


# --- summary ------------------------------------------------------------------------------------------------

def test_summarize_judgements_by_hand():
    records = [{"verdict": "flawed", "level": 1}, {"verdict": "correct", "level": 1},
               {"verdict": "correct", "level": 2}, {"verdict": None, "level": 2}, {"verdict": "flawed"}]
    summary = judge.summarize_judgements(records)
    assert {k: summary[k] for k in ("n", "n_rated", "n_correct", "n_flawed", "n_unparsable")} == \
        {"n": 5, "n_rated": 4, "n_correct": 2, "n_flawed": 2, "n_unparsable": 1}
    assert summary["rate"] == 0.5
    assert summary["ci95"] == pytest.approx(list(wilson_interval(2, 4)))
    assert list(summary["by_level"]) == ["1", "2"]
    assert summary["by_level"]["1"]["rate"] == 0.5 and summary["by_level"]["1"]["n"] == 2
    level2 = summary["by_level"]["2"]
    assert (level2["n"], level2["n_rated"], level2["n_unparsable"], level2["rate"]) == (2, 1, 1, 0.0)


def test_summarize_judgements_nothing_rated_and_errors():
    summary = judge.summarize_judgements([{"verdict": None}, {"verdict": None}])
    assert summary["n_unparsable"] == 2 and summary["rate"] is None and summary["ci95"] is None
    assert "by_level" not in summary
    with pytest.raises(ValueError, match="empty"):
        judge.summarize_judgements([])
    with pytest.raises(ValueError, match=r"records\[1\] has no 'verdict'"):
        judge.summarize_judgements([{"verdict": "flawed"}, {}])
    with pytest.raises(ValueError, match="'maybe'"):
        judge.summarize_judgements([{"verdict": "maybe"}])


def _fake_judge(prompts, params):
    """A judge that calls every solution of sample 0 flawed and the rest correct (the prompt names it)."""
    return [[{"text": "VERDICT: FLAWED" if "/0" in prompt else "VERDICT: CORRECT", "completion_tokens": 3,
              "prompt_tokens": 9, "finish_reason": "stop"}] for prompt in prompts]


def test_judge_solutions_judges_the_budget_only():
    template = "{question} {gold_solution} {candidate_solution}"
    records, summary = judge.judge_solutions(_fake_judge, _records(), PROBLEMS, template, n=100, seed=0,
                                             max_tokens=64, per_question=1)
    # the low budget's data: sample 0 only, all of it "flawed"
    assert {r["sample_index"] for r in records} == {0} and summary["kept"] == summary["n"] == len(PROBLEMS)
    assert summary["rate"] == 1.0
    records, summary = judge.judge_solutions(_fake_judge, _records(), PROBLEMS, template, n=100, seed=0,
                                             max_tokens=64, per_question=4)
    assert summary["kept"] == summary["n"] == 2 * len(PROBLEMS) and summary["rate"] == 0.5
    # a budget whose samples kept nothing: no records, rate None
    wrong_first = [{**r, "correct": r["sample_index"] == 2} for r in _records()]
    records, summary = judge.judge_solutions(_fake_judge, wrong_first, PROBLEMS, template, n=100, seed=0,
                                             max_tokens=64, per_question=2)
    assert records == [] and summary["kept"] == 0 and summary["rate"] is None


# --- audit: export -------------------------------------------------------------------------------------------

AUDIT_PROBLEMS = [{"id": f"p{i}", "question": f"How many <b>apples</b> & pears in box {i}?", "answer": str(i),
                   "solution": f"There are {i}."} for i in range(6)]


def _selected():
    out = []
    for i in range(6):
        for source in ("strongsrc", "weaksrc"):
            out.append({"problem_id": f"p{i}", "sample_index": 1, "source": source,
                        "completion": f"<script>alert({i})</script> answer {i} by {source[:1]}"})
    return out


def _visible(page: str) -> str:
    return re.sub(r"<script.*?</script>", "", page, flags=re.S)


def _read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _export(tmp_path, name="audit", records=None, **options):
    """export_audit_form into tmp_path/<name>.{html,csv} and <name>-key.csv."""
    return audit.export_audit_form(_selected() if records is None else records, AUDIT_PROBLEMS,
                                   tmp_path / f"{name}.html", tmp_path / f"{name}.csv",
                                   tmp_path / f"{name}-key.csv", **options)


def _rate(csv_path, labels) -> None:
    """Fill the rating column of a template in place."""
    rows = _read_csv(csv_path)
    for row, label in zip(rows[1:], labels):
        row[1] = label
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def test_export_audit_form_html_csv_and_key(tmp_path):
    html_path, csv_path, key_path = (tmp_path / "form" / name for name in ("audit.html", "audit.csv", "key.csv"))
    items = audit.export_audit_form(_selected(), AUDIT_PROBLEMS, html_path, csv_path, key_path, n=5, seed=1)
    assert [i["item_id"] for i in items] == ["A001", "A002", "A003", "A004", "A005"]
    assert len({(i["source"], i["problem_id"]) for i in items}) == 5
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # self-contained: no external scripts, styles, images or links
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    # texts are escaped: the completion's <script> is shown, not run
    visible = _visible(page)
    assert "&lt;script&gt;alert(" in visible and "<script>alert(" not in page
    assert html.escape("How many <b>apples</b> & pears") in visible
    # blind: neither the page nor its embedded data nor the template tells the generator or the sample index
    assert "strongsrc" not in page and "weaksrc" not in page
    assert "strongsrc" not in csv_path.read_text() and "weaksrc" not in csv_path.read_text()
    for item in items:
        assert f'name="rating-{item["item_id"]}"' in page
    # the embedded data is valid JSON with the items in shown order
    payload = re.search(r'<script type="application/json" id="audit-data">(.*?)</script>', page, re.S).group(1)
    data = json.loads(payload)
    assert data["items"] == [{"item_id": i["item_id"]} for i in items]
    assert data["columns"] == list(audit.COLUMNS) == ["item_id", "rating", "notes"]
    assert data["download_name"] == "audit_ratings.csv"
    # CSV template for raters, and the key that says which solution each item is
    assert _read_csv(csv_path) == [list(audit.COLUMNS)] + [[i["item_id"], "", ""] for i in items]
    assert _read_csv(key_path) == [list(audit.KEY_COLUMNS)] + [
        [i["item_id"], i["source"], i["problem_id"], str(i["sample_index"])] for i in items]


def test_export_is_deterministic_and_order_independent(tmp_path):
    a = _export(tmp_path, "a", n=4, seed=2)
    b = _export(tmp_path, "b", list(reversed(_selected())), n=4, seed=2)
    assert a == b
    assert (tmp_path / "a-key.csv").read_bytes() == (tmp_path / "b-key.csv").read_bytes()
    assert len(_export(tmp_path, "c", n=50)) == 12


def test_export_errors(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        _export(tmp_path, records=[])
    with pytest.raises(ValueError, match="twice"):
        _export(tmp_path, records=_selected()[:1] * 2)
    with pytest.raises(ValueError, match="'nowhere'"):
        _export(tmp_path, records=[{"problem_id": "nowhere", "sample_index": 0, "source": "s"}])


# --- audit: import -------------------------------------------------------------------------------------------

def test_import_ratings_round_trip(tmp_path):
    csv_path = tmp_path / "audit.csv"
    items = _export(tmp_path, n=4, seed=0)
    rows = _read_csv(csv_path)
    labels = ["correct", " FLAWED ", "Correct", "flawed"]
    for row, label in zip(rows[1:], labels):
        row[1] = label
    rows[2][2] = 'step 2: "3 * 4 = 13",\nwrong'   # quoted, multi-line note
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    ratings = audit.import_ratings(csv_path)
    assert [r["item_id"] for r in ratings] == [i["item_id"] for i in items]
    assert [r["rating"] for r in ratings] == ["correct", "flawed", "correct", "flawed"]
    assert ratings[1]["notes"] == 'step 2: "3 * 4 = 13",\nwrong'
    # lines where rows start: header 1, rows 2, 3 (two lines long), 5, 6
    assert [r["line"] for r in ratings] == [2, 3, 5, 6]


def test_import_ratings_unrated_and_blank_rows(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("\ufeffitem_id,rating\nA001,correct\n\n,\nA002,\n", encoding="utf-8")   # BOM, blank rows
    with pytest.raises(ValueError, match="line 5: item 'A002' has no rating"):
        audit.import_ratings(path)
    ratings = audit.import_ratings(path, allow_unrated=True)
    assert [(r["item_id"], r["rating"]) for r in ratings] == [("A001", "correct")]


def test_import_ratings_reports_every_bad_row_by_file_and_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("item_id,source,problem_id,sample_index,rating,notes\n"
                    "A001,wc,p1,0,correct,\n"       # line 2 fine
                    ",wc,p2,0,flawed,\n"            # line 3 missing item_id
                    "A003,wc,p3,0,maybe,\n"         # line 4 unknown rating
                    "A001,se,p1,0,flawed,\n"        # line 5 duplicate
                    "A005,se,p5,two,flawed,\n"      # line 6 fine: columns other than the template's are ignored
                    "A006,se,p6,1,,\n",             # line 7 no rating
                    encoding="utf-8")
    with pytest.raises(ValueError) as info:
        audit.import_ratings(path)
    message = str(info.value)
    assert message.startswith(f"4 bad row(s) in {path}")
    assert f"{path}, line 3: missing item_id" in message
    assert f"{path}, line 4: item 'A003' has unknown rating 'maybe'" in message
    assert f"{path}, line 5: item 'A001' appears again (first on line 2)" in message
    assert f"{path}, line 7: item 'A006' has no rating" in message
    assert "line 2:" not in message and "line 6:" not in message


def test_import_ratings_header_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty file") as info:
        audit.import_ratings(empty)
    assert str(empty) in str(info.value)
    no_rating = tmp_path / "cols.csv"
    no_rating.write_text("item_id,notes\nA001,x\n")
    with pytest.raises(ValueError, match=r"line 1: missing column\(s\) rating") as info:
        audit.import_ratings(no_rating)
    assert str(no_rating) in str(info.value)


def test_import_ratings_caps_reported_rows(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("item_id,rating\n" + "".join(f"A{i:03d},bad\n" for i in range(25)))
    with pytest.raises(ValueError) as info:
        audit.import_ratings(path)
    assert str(info.value).startswith("25 bad row(s)")
    assert "... and 5 more" in str(info.value)
    assert str(info.value).count(f"{path}, line") == audit.MAX_REPORTED


# --- audit: summary ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pairs, kappa", [
    # observed 3/4; chance (3/4 * 2/4) + (1/4 * 2/4) = 1/2  ->  (3/4 - 1/2) / (1/2) = 1/2
    ([("correct", "correct"), ("correct", "correct"), ("flawed", "flawed"), ("correct", "flawed")], 0.5),
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> po 0.7, pe 0.5*0.6 + 0.5*0.4 = 0.5 -> 0.4
    ([("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15, 0.4),
    ([("a", "a"), ("b", "b")], 1.0),
    ([("a", "b"), ("b", "a")], -1.0),
])
def test_cohens_kappa_by_hand(pairs, kappa):
    assert audit.cohens_kappa(pairs) == pytest.approx(kappa)


def test_cohens_kappa_undefined_and_empty():
    assert audit.cohens_kappa([("flawed", "flawed")] * 3) is None
    with pytest.raises(ValueError):
        audit.cohens_kappa([])


def _rating(item, source, pid, index, rating):
    return {"item_id": item, "source": source, "problem_id": pid, "sample_index": index, "rating": rating,
            "notes": "", "line": 0}


def test_audit_summary_by_hand():
    ratings = [_rating("A001", "wc", "p1", 0, "correct"), _rating("A002", "wc", "p2", 0, "flawed"),
               _rating("A003", "se", "p1", 0, "correct"), _rating("A004", "se", "p3", 1, "correct"),
               _rating("A005", "se", "p4", 0, "flawed"), _rating("A006", "wc", "p9", None, "correct")]
    summary = audit.audit_summary(ratings)
    assert summary["n"] == 6 and summary["n_flawed"] == 2 and summary["n_correct"] == 4
    assert summary["rate"] == pytest.approx(2 / 6)
    assert summary["ci95"] == pytest.approx(list(wilson_interval(2, 6)))
    assert "agreement" not in summary

    judged = [{"problem_id": "p1", "sample_index": 0, "generator": "wc", "verdict": "correct"},
              {"problem_id": "p2", "sample_index": 0, "source": "wc", "verdict": "flawed"},
              {"problem_id": "p1", "sample_index": 0, "source": "se", "verdict": "flawed"},
              {"problem_id": "p3", "sample_index": 1, "source": "se", "verdict": None},
              {"problem_id": "p7", "sample_index": 0, "source": "se", "verdict": "flawed"}]
    agreement = audit.audit_summary(ratings, judged)["agreement"]
    # matched: A001, A002, A003, A004 (A004 unparsable); A005 not judged; A006 has no sample_index
    assert agreement["n_matched"] == 4 and agreement["n_unmatched"] == 2
    assert agreement["n_judge_unparsable"] == 1 and agreement["n_compared"] == 3
    # compared (human, judge): (c, c), (f, f), (c, f) -> 2/3 agree
    assert agreement["percent_agreement"] == pytest.approx(200 / 3)
    assert agreement["confusion"] == {"human_correct_judge_correct": 1, "human_correct_judge_flawed": 1,
                                      "human_flawed_judge_correct": 0, "human_flawed_judge_flawed": 1}
    # kappa: po 2/3; human c 2/3 f 1/3; judge c 1/3 f 2/3 -> pe 2/9 + 2/9 = 4/9 -> (2/3 - 4/9)/(5/9) = 2/5
    assert agreement["cohens_kappa"] == pytest.approx(0.4)
    assert agreement["human_rate"] == pytest.approx(1 / 3) and agreement["judge_rate"] == pytest.approx(2 / 3)


def test_audit_summary_errors_and_nothing_compared():
    with pytest.raises(ValueError, match="empty"):
        audit.audit_summary([])
    ratings = [_rating("A001", "wc", "p1", 0, "correct")]
    twice = [{"problem_id": "p1", "sample_index": 0, "source": "wc", "verdict": "flawed"}] * 2
    with pytest.raises(ValueError, match=r"judge_records\[1\]"):
        audit.audit_summary(ratings, twice)
    agreement = audit.audit_summary(ratings, [])["agreement"]
    assert agreement["n_compared"] == 0 and agreement["percent_agreement"] is None
    assert agreement["cohens_kappa"] is None


def test_audit_round_trip_export_rate_summarize(tmp_path):
    """Raters fill the template blind; the summary learns each item's source from the key."""
    items = _export(tmp_path, n=6, seed=5)
    # the rater's verdicts, by item (here: every weak solution is flawed), the last item left unrated
    _rate(tmp_path / "audit.csv", ["flawed" if i["source"] == "weaksrc" else "correct" for i in items[:-1]])
    judged = [{**r, "verdict": "flawed" if r["source"] == "weaksrc" else "correct"} for r in _selected()]
    summary = audit.summarize_pair_audit(tmp_path / "audit.csv", tmp_path / "audit-key.csv", judged)
    weak = sum(i["source"] == "weaksrc" for i in items[:-1])
    assert summary["n"] == 5 and summary["n_flawed"] == weak
    assert summary["items"] == 6 and summary["unrated"] == 1
    assert summary["agreement"]["n_matched"] == 5
    assert summary["agreement"]["percent_agreement"] == 100.0
    assert summary["by_source"]["weaksrc"]["rate"] == 1.0 and summary["by_source"]["strongsrc"]["rate"] == 0.0


def test_summarize_pair_audit_rejects_items_of_another_form(tmp_path):
    _export(tmp_path, n=2, seed=0)
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("item_id,rating\nA001,correct\nA077,flawed\n")
    with pytest.raises(ValueError, match=r"1 rated item\(s\) are not in the form's key .*'A077' \(line 3\)"):
        audit.summarize_pair_audit(ratings, tmp_path / "audit-key.csv")
    ratings.write_text("item_id,rating\nA001,\n")
    with pytest.raises(ValueError, match="no item is rated"):
        audit.summarize_pair_audit(ratings, tmp_path / "audit-key.csv")


def test_export_pair_form_mixes_sources_from_the_judged_solutions(tmp_path):
    graded = {source: [{**r, "correct": True, "generator": f"gen-{source}"} for r in _selected()
                       if r["source"] == name]
              for source, name in (("se", "strongsrc"), ("wc", "weaksrc"))}
    for records in graded.values():
        for record in records:
            del record["source"]  # graded records name their generator, as in the workflow
    items = audit.export_pair_form(graded, AUDIT_PROBLEMS, tmp_path / "f.html", tmp_path / "t.csv",
                                   tmp_path / "k.csv", per_source=2, judge_n=4, seed=3)
    assert sorted(i["source"] for i in items) == ["gen-se", "gen-se", "gen-wc", "gen-wc"]
    assert "gen-" not in (tmp_path / "f.html").read_text() + (tmp_path / "t.csv").read_text()
    assert {row[1] for row in _read_csv(tmp_path / "k.csv")[1:]} == {"gen-se", "gen-wc"}
    # nothing kept: an explanatory page and header-only files, so the workflow's outputs still exist
    wrong = {source: [{**r, "correct": False} for r in records] for source, records in graded.items()}
    assert audit.export_pair_form(wrong, AUDIT_PROBLEMS, tmp_path / "e.html", tmp_path / "e.csv",
                                  tmp_path / "ek.csv") == []
    assert "Nothing to audit" in (tmp_path / "e.html").read_text()
    assert _read_csv(tmp_path / "e.csv") == [list(audit.COLUMNS)]
    assert _read_csv(tmp_path / "ek.csv") == [list(audit.KEY_COLUMNS)]


def test_export_pair_form_draws_from_the_budgets_judged_solutions(tmp_path):
    """At a budget, every audited item is one the judge sees at that budget (same selection)."""
    graded = {"se": [{**r, "generator": "gen-se"} for r in _records()],
              "wc": [{**r, "generator": "gen-wc"} for r in _records()]}
    per_question = {"se": 1, "wc": 3}
    items = audit.export_pair_form(graded, PROBLEMS, tmp_path / "f.html", tmp_path / "t.csv", tmp_path / "k.csv",
                                   per_source=5, judge_n=8, seed=2, per_question=per_question)
    judged = {(r["generator"], r["problem_id"], r["sample_index"])
              for source, records in graded.items()
              for r in judge.select_for_judging(records, PROBLEMS, 8, 2, per_question=per_question[source])}
    assert len(items) == 10
    assert {(i["source"], i["problem_id"], i["sample_index"]) for i in items} <= judged
    assert {i["sample_index"] for i in items if i["source"] == "gen-se"} == {0}  # SE's budget: sample 0 only
