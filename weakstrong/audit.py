"""A human audit of kept solutions: a rating form to export, ratings to import, and their summary.

1. :func:`export_audit_form` draws ``n`` of the solutions selected for the LLM judge and writes a
   self-contained HTML form (no external assets; open it in any browser, offline), a CSV template and a
   key.  Items are shown in a random order under opaque ids (``A001``...).  Neither the form (page or
   embedded data) nor the template says which generator wrote an item, or anything that would tell (a WC
   sample index can exceed SE's k): that is in the key alone, which raters never get.  The form keeps its
   state in the browser's local storage and its button downloads the ratings as a CSV with the template's
   columns.
2. :func:`import_ratings` reads that CSV (or the template filled in by hand) and reports every bad row by
   file and line.
3. :func:`audit_summary` gives the human false-positive rate and, given the judge's verdicts on the same
   solutions, how well the judge agrees with the humans (percent agreement and Cohen's kappa);
   :func:`summarize_pair_audit` first joins the ratings with the key.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import random
from pathlib import Path

from weakstrong.metrics import proportion

#: The columns raters fill in (the template and the form's download).
COLUMNS = ("item_id", "rating", "notes")
#: The key: which solution each item is.  Kept from raters so that they stay blind to the source.
KEY_COLUMNS = ("item_id", "source", "problem_id", "sample_index")
RATINGS = ("correct", "flawed")
#: Bad rows listed in one error message at most.
MAX_REPORTED = 20


def source_of(record: dict) -> str:
    """Which data a solution comes from: its ``source`` field (e.g. ``se``/``wc``), else its generator."""
    return str(record.get("source") or record.get("generator") or "")


def _key(source: str, problem_id, sample_index) -> tuple[str, str, int]:
    return (str(source), str(problem_id), int(sample_index))


# --- export -------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1d1f; background: #fafafa; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin: 0 0 .6rem; }
.card { background: #fff; border: 1px solid #d0d0d5; border-radius: 8px; padding: 1rem 1.2rem; margin: 1rem 0; }
.card.rated { border-left: 6px solid #2e7d32; }
.label { font-weight: 600; margin: .8rem 0 .2rem; }
pre { white-space: pre-wrap; word-wrap: break-word; background: #f3f3f6; padding: .6rem; border-radius: 6px;
      font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9rem; margin: 0; }
.rating label { margin-right: 1.5rem; }
textarea { width: 100%; min-height: 3rem; font: inherit; }
#bar { position: sticky; bottom: 0; background: #fff; border-top: 1px solid #d0d0d5; padding: .7rem 0; }
button { font-size: 1rem; padding: .4rem 1rem; }
"""

_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("audit-data").textContent);
  var storeKey = "weakstrong-audit-" + data.form_id;
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { saved = {}; }
  function field(id, name) { return document.querySelector('[name="' + name + '-' + id + '"]' +
                                                          (name === "rating" ? ":checked" : "")); }
  function rating(id) { var el = field(id, "rating"); return el ? el.value : ""; }
  function notes(id) { return document.querySelector('[name="notes-' + id + '"]').value; }
  function refresh() {
    var done = 0;
    data.items.forEach(function (item) {
      var r = rating(item.item_id);
      if (r) { done += 1; }
      document.getElementById("card-" + item.item_id).classList.toggle("rated", !!r);
      saved[item.item_id] = {rating: r, notes: notes(item.item_id)};
    });
    document.getElementById("progress").textContent = done + " of " + data.items.length + " rated";
    try { localStorage.setItem(storeKey, JSON.stringify(saved)); } catch (e) { /* private mode */ }
  }
  data.items.forEach(function (item) {
    var s = saved[item.item_id];
    if (s) {
      if (s.rating) {
        var radio = document.querySelector('[name="rating-' + item.item_id + '"][value="' + s.rating + '"]');
        if (radio) { radio.checked = true; }
      }
      document.querySelector('[name="notes-' + item.item_id + '"]').value = s.notes || "";
    }
  });
  document.getElementById("form").addEventListener("input", refresh);
  document.getElementById("form").addEventListener("change", refresh);
  function cell(value) { return '"' + String(value).replace(/"/g, '""') + '"'; }
  document.getElementById("download").addEventListener("click", function () {
    refresh();
    var lines = [data.columns.join(",")];
    data.items.forEach(function (item) {
      lines.push([item.item_id, rating(item.item_id), notes(item.item_id)].map(cell).join(","));
    });
    var blob = new Blob([lines.join("\\r\\n") + "\\r\\n"], {type: "text/csv;charset=utf-8"});
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = data.download_name;
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
  });
  refresh();
})();
"""


def _card(item: dict, problem: dict, record: dict) -> str:
    item_id = html.escape(item["item_id"])
    text = lambda value: html.escape(str(value or "").strip())  # noqa: E731
    return f"""
<div class="card" id="card-{item_id}">
  <h2>{item_id}</h2>
  <div class="label">Question</div>
  <pre>{text(problem.get("question"))}</pre>
  <div class="label">Reference answer</div>
  <pre>{text(problem.get("answer"))}</pre>
  <details><summary>Reference solution</summary><pre>{text(problem.get("solution"))}</pre></details>
  <div class="label">Solution to check (its final answer matches the reference)</div>
  <pre>{text(record.get("completion"))}</pre>
  <div class="label">Is the reasoning correct?</div>
  <div class="rating">
    <label><input type="radio" name="rating-{item_id}" value="correct"> correct</label>
    <label><input type="radio" name="rating-{item_id}" value="flawed"> flawed</label>
  </div>
  <div class="label">Notes</div>
  <textarea name="notes-{item_id}" placeholder="Which step is wrong, or anything unclear"></textarea>
</div>"""


def export_audit_form(selected_records: list[dict], problems: list[dict], html_path: str | Path,
                      csv_path: str | Path, key_path: str | Path, n: int = 50, seed: int = 0,
                      title: str = "Audit of kept solutions") -> list[dict]:
    """Write the HTML rating form (headed ``title``), the CSV template and the key for ``n`` solutions drawn from
    ``selected_records``.

    The draw is uniform and deterministic (seeded by ``seed``, independent of the records' order); all
    records when there are fewer than ``n``.  Returns the items ``{"item_id", "source", "problem_id",
    "sample_index"}`` in the order they are shown.  The CSV template has the columns :data:`COLUMNS` with
    ``rating`` (``correct`` or ``flawed``) and ``notes`` left empty; the key (``key_path``) has
    :data:`KEY_COLUMNS`.
    """
    if not selected_records:
        raise ValueError("selected_records is empty: nothing to audit")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    by_id = {p["id"]: p for p in problems}
    ordered = sorted(selected_records, key=lambda r: _key(source_of(r), r["problem_id"], r["sample_index"]))
    keys = [_key(source_of(r), r["problem_id"], r["sample_index"]) for r in ordered]
    if len(set(keys)) != len(keys):
        raise ValueError("selected_records holds the same (source, problem_id, sample_index) twice")
    drawn = random.Random(f"audit/{seed}").sample(ordered, min(n, len(ordered)))
    items, cards = [], []
    for number, record in enumerate(drawn, 1):
        problem = by_id.get(record["problem_id"])
        if problem is None:
            raise ValueError(f"selected record refers to unknown problem {record['problem_id']!r}")
        item = {"item_id": f"A{number:03d}", "source": source_of(record), "problem_id": str(record["problem_id"]),
                "sample_index": int(record["sample_index"])}
        items.append(item)
        cards.append(_card(item, problem, record))
    form_id = f"{seed}-" + "-".join(f"{i['source']}:{i['problem_id']}:{i['sample_index']}" for i in items)
    data = {"columns": list(COLUMNS), "items": [{"item_id": item["item_id"]} for item in items],
            "form_id": hashlib.sha256(form_id.encode("utf-8")).hexdigest()[:16],
            "download_name": Path(csv_path).stem + "_ratings.csv"}
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} ({len(items)} items)</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>Each solution below reached the reference answer. Rate its <b>reasoning</b>: <i>flawed</i> if any step is
mathematically wrong, the answer is reached by guessing or by errors that cancel out, or a step the answer
depends on is missing; <i>correct</i> otherwise (a different route, brevity or harmless slips of wording are
fine). Your ratings are kept in this browser as you go; when done, press <b>Download ratings (CSV)</b> and
send the file.</p>
<form id="form" onsubmit="return false">
{"".join(cards)}
</form>
<div id="bar"><button type="button" id="download">Download ratings (CSV)</button> <span id="progress"></span></div>
<script type="application/json" id="audit-data">{payload}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
    _write_form(page, items, html_path, csv_path, key_path)
    return items


def _write_form(page: str, items: list[dict], html_path: str | Path, csv_path: str | Path,
                key_path: str | Path) -> None:
    _write_csv(csv_path, COLUMNS, [[item["item_id"], "", ""] for item in items])
    _write_csv(key_path, KEY_COLUMNS, [[item[column] for column in KEY_COLUMNS] for item in items])
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(page, encoding="utf-8")


def _write_csv(path: str | Path, columns: tuple[str, ...], rows: list[list]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)


# --- import ---------------------------------------------------------------------------------------------

def import_ratings(csv_path: str | Path, *, allow_unrated: bool = False) -> list[dict]:
    """Ratings from a CSV with the template's columns (``item_id`` and ``rating`` are required; other
    columns are ignored).

    Ratings are ``correct`` or ``flawed`` (any case, surrounding spaces ignored); blank rows are skipped.
    Every bad row — a missing ``item_id``, an unknown or (unless ``allow_unrated``) empty rating, an
    ``item_id`` seen before — is reported in one ValueError naming the file and the line the row starts
    on.  Returns ``{"item_id", "rating", "notes", "line"}`` per rated row, in file order.
    """
    csv_path = Path(csv_path)
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{csv_path}: empty file, expected a header row {','.join(COLUMNS)}")
        header = [h.strip().lower() for h in header]
        missing = [c for c in ("item_id", "rating") if c not in header]
        if missing:
            raise ValueError(f"{csv_path}, line 1: missing column(s) {', '.join(missing)}; "
                             f"expected {','.join(COLUMNS)}")
        ratings, errors, seen = [], [], {}
        line = reader.line_num
        for row in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
            item_id, rating = values.get("item_id", ""), values.get("rating", "").lower()
            where = f"{csv_path}, line {start}"
            if not item_id:
                errors.append(f"{where}: missing item_id")
                continue
            if item_id in seen:
                errors.append(f"{where}: item {item_id!r} appears again (first on line {seen[item_id]})")
                continue
            seen[item_id] = start
            if not rating and allow_unrated:
                continue
            if rating not in RATINGS:
                errors.append(f"{where}: item {item_id!r} has " + (f"unknown rating {values['rating']!r}"
                              if rating else "no rating") + f" (expected {' or '.join(RATINGS)})")
                continue
            ratings.append({"item_id": item_id, "rating": rating, "notes": values.get("notes", ""),
                            "line": start})
    if errors:
        more = f"\n... and {len(errors) - MAX_REPORTED} more" if len(errors) > MAX_REPORTED else ""
        raise ValueError(f"{len(errors)} bad row(s) in {csv_path}:\n" + "\n".join(errors[:MAX_REPORTED]) + more)
    return ratings


# --- summary ------------------------------------------------------------------------------------------

def cohens_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels; None when chance agreement is 1 (both always say the same
    single label), where kappa is undefined."""
    if not pairs:
        raise ValueError("no pairs to compare")
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    labels = {label for pair in pairs for label in pair}
    expected = sum((sum(a == label for a, _ in pairs) / n) * (sum(b == label for _, b in pairs) / n)
                   for label in labels)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def audit_summary(ratings: list[dict], judge_records: list[dict] | None = None) -> dict:
    """The human false-positive rate and, with the judge's verdicts, the judge's agreement with humans.

    ``ratings`` come from :func:`import_ratings` joined with the form's key (``source``, ``problem_id``,
    ``sample_index``; see :func:`summarize_pair_audit`); ``judge_records`` carry ``problem_id``, ``sample_index``,
    ``source`` or ``generator`` (as the audited records did) and ``verdict`` (``correct``, ``flawed`` or
    None).  Returns ``{"n", "n_correct", "n_flawed", "rate", "ci95"}`` (rate of ``flawed`` among rated
    items, 95% Wilson interval) and, with judge records, ``"agreement": {"n_matched"`` (rated items the
    judge saw), ``"n_unmatched", "n_judge_unparsable", "n_compared"`` (both have a verdict),
    ``"percent_agreement"`` (0-100), ``"cohens_kappa"`` (None when undefined), ``"confusion"`` (counts by
    human then judge label), ``"human_rate", "judge_rate"`` (flawed shares on the compared items)``}``.
    """
    if not ratings:
        raise ValueError("ratings is empty: nothing to summarise")
    flawed = sum(r["rating"] == "flawed" for r in ratings)
    share = proportion(flawed, len(ratings))
    result = {"n": len(ratings), "n_correct": len(ratings) - flawed, "n_flawed": flawed, "rate": share["rate"],
              "ci95": share["ci95"]}
    if judge_records is None:
        return result
    verdicts: dict[tuple, str | None] = {}
    for position, record in enumerate(judge_records):
        key = _key(source_of(record), record["problem_id"], record["sample_index"])
        if key in verdicts:
            raise ValueError(f"judge_records[{position}] judges {key} a second time")
        verdicts[key] = record.get("verdict")
    pairs, matched, unparsable = [], 0, 0
    for rating in ratings:
        if rating.get("sample_index") is None:
            continue
        key = _key(rating.get("source", ""), rating["problem_id"], rating["sample_index"])
        if key not in verdicts:
            continue
        matched += 1
        if verdicts[key] is None:
            unparsable += 1
        else:
            pairs.append((rating["rating"], verdicts[key]))
    agreement = {"n_matched": matched, "n_unmatched": len(ratings) - matched, "n_judge_unparsable": unparsable,
                 "n_compared": len(pairs), "percent_agreement": None, "cohens_kappa": None,
                 "confusion": {f"human_{h}_judge_{j}": sum(p == (h, j) for p in pairs)
                               for h in RATINGS for j in RATINGS},
                 "human_rate": None, "judge_rate": None}
    if pairs:
        agreement.update(percent_agreement=100 * sum(h == j for h, j in pairs) / len(pairs),
                         cohens_kappa=cohens_kappa(pairs),
                         human_rate=sum(h == "flawed" for h, _ in pairs) / len(pairs),
                         judge_rate=sum(j == "flawed" for _, j in pairs) / len(pairs))
    result["agreement"] = agreement
    return result


# --- one generator pair at one budget ---------------------------------------------------------------------

_EMPTY_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} (0 items)</title></head>
<body>
<h1>{title}</h1>
<p>Nothing to audit: {reason}.</p>
</body>
</html>
"""


def write_empty_form(html_path: str | Path, csv_path: str | Path, key_path: str | Path, reason: str,
                     title: str = "Audit of kept solutions") -> None:
    """A form with nothing to rate, saying why (``reason``); the CSV template and key hold their headers only."""
    page = _EMPTY_PAGE.format(title=html.escape(title), reason=html.escape(reason))
    _write_form(page, [], html_path, csv_path, key_path)


def export_pair_form(graded_by_source: dict[str, list[dict]], problems: list[dict], html_path: str | Path,
                     csv_path: str | Path, key_path: str | Path, *, per_source: int = 50, judge_n: int = 500,
                     seed: int = 0, per_question: dict[str, int] | None = None) -> list[dict]:
    """The audit form of one generator pair at one budget: ``per_source`` solutions of each source, drawn
    from the ones the LLM judge sees at that budget (:func:`weakstrong.judge.select_for_judging` with
    ``judge_n``, ``seed`` and the source's ``per_question``, as the judge rule calls it), so every audited
    item has a judge verdict to compare with.

    ``graded_by_source`` maps a source label (``se``, ``wc``) to that generator's graded records;
    ``per_question`` maps it to the samples per problem of the budget's data (None: all samples).  Items
    keep their generator as source (:func:`source_of`), like the judge's records.  The sources are mixed in
    one random order (:func:`export_audit_form`).  When no source kept a solution, the form says so and the
    CSV template and key hold only their headers.  Returns the items in the order shown.
    """
    from weakstrong.judge import select_for_judging

    if per_source < 1:
        raise ValueError(f"per_source must be at least 1, got {per_source}")
    pool = []
    for source in sorted(graded_by_source):
        selected = select_for_judging(graded_by_source[source], problems, judge_n, seed,
                                      per_question=(per_question or {}).get(source))
        pool += random.Random(f"audit/{seed}/{source}").sample(selected, min(per_source, len(selected)))
    if pool:
        return export_audit_form(pool, problems, html_path, csv_path, key_path, n=len(pool), seed=seed)
    write_empty_form(html_path, csv_path, key_path,
                     "the generators kept no solution (no sample reached the reference answer)")
    return []


def summarize_pair_audit(ratings_path: str | Path, key_path: str | Path,
                         judge_records: list[dict] | None = None) -> dict:
    """:func:`audit_summary` of a filled ratings CSV, each item looked up in the form's key.

    A rated item that is not in the key (a CSV from another form) is an error.  Adds ``"items"`` (in
    the form), ``"unrated"`` (form items without a rating) and ``"by_source"`` (the summary per source).
    """
    with open(key_path, encoding="utf-8-sig", newline="") as handle:
        items = {row["item_id"]: row for row in csv.DictReader(handle)}
    ratings = import_ratings(ratings_path, allow_unrated=True)
    foreign = [r for r in ratings if r["item_id"] not in items]
    if foreign:
        raise ValueError(f"{ratings_path}: {len(foreign)} rated item(s) are not in the form's key {key_path}, "
                         f"e.g. {foreign[0]['item_id']!r} (line {foreign[0]['line']})")
    for rating in ratings:
        item = items[rating["item_id"]]
        rating.update(source=item["source"], problem_id=item["problem_id"], sample_index=int(item["sample_index"]))
    if not ratings:
        raise ValueError(f"{ratings_path}: no item is rated")
    result = audit_summary(ratings, judge_records)
    result.update(items=len(items), unrated=len(items) - len(ratings))
    sources = sorted({r["source"] for r in ratings})
    result["by_source"] = {source: audit_summary([r for r in ratings if r["source"] == source], judge_records)
                           for source in sources}
    return result
