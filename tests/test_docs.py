"""The documentation: README.md and docs/*.md link only to files and headings that exist, the configuration
reference is the schema's, and the rule graph picture is the workflow's.

(The rules table, docs/rules.md, is checked in tests/test_envs.py, which loads the rules anyway.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO, SNAKEMAKE
from weakstrong import schema_docs

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RULE_GRAPH = REPO / "docs" / "rulegraph-toy.svg"
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose(markdown: str) -> str:
    """``markdown`` without fenced code blocks, HTML comments and inline code spans."""
    text = FENCE.sub("", markdown)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    return re.sub(r"(`+).+?\1", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (but - and _), spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for match in re.finditer(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", FENCE.sub("", markdown), re.MULTILINE):
        base = slug(match.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path, root: Path = REPO) -> list[str]:
    """Each relative link of ``page`` whose file, or whose heading in a Markdown file, does not exist."""
    problems = []
    for target in LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):         # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        where = f"{page.relative_to(root)}: ({target})"
        if not file.exists():
            problems.append(f"{where}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
            problems.append(f"{where}: no heading with that anchor")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page):
    problems = broken_links(page)
    assert not problems, "\n".join(problems)


def placeholders(markdown: str) -> list[str]:
    """Lines of a page's prose that are a bare placeholder left for text to come (TIMING, TODO, TBD, ...)."""
    return [line for line in prose(markdown).splitlines()
            if re.fullmatch(r"\s*(TODO|TBD|FIXME|XXX|[A-Z]{4,}(_[A-Z]+)*)\s*:?\s*", line)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_placeholder_is_left_in_the_docs(page):
    assert not placeholders(page.read_text(encoding="utf-8")), page


def test_placeholder_finder():
    assert placeholders("## Timing\n\nTIMING\n\nText with TODO inside.\nTBD\n") == ["TIMING", "TBD"]
    assert placeholders("```\nTIMING\n```\nNOTE: text\n") == []


def test_every_docs_page_is_linked_from_the_readme():
    readme = prose((REPO / "README.md").read_text(encoding="utf-8"))
    linked = {(REPO / target.partition("#")[0]).resolve() for target in LINK.findall(readme)}
    assert not [page.name for page in PAGES[1:] if page.resolve() not in linked]


def test_link_checker_finds_what_is_broken(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading, (with) punctuation\n\n## Twice\n## Twice\n")
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent("""\
        # Page
        [ok](other.md) [ok](other.md#a-code-heading-with-punctuation) [ok](#page) [ok](other.md#twice-1)
        ![img](missing.png) [bad](other.md#nowhere) [web](https://example.org/x.md) `[code](none.md)`
        ```
        [fenced](none.md)
        ```
        <!-- [commented](none.md) -->
        """))
    assert broken_links(page, tmp_path) == ["page.md: (missing.png): no such file",
                                            "page.md: (other.md#nowhere): no heading with that anchor"]


# --- the configuration reference -------------------------------------------------------------------------------

def test_configuration_reference_is_current():
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    reference = schema_docs.reference_markdown(schema_docs.load_schema())
    assert schema_docs.with_reference(page, reference) == page, \
        "docs/configuration.md is out of date with schemas/config.schema.yaml: run `make config-docs`"


def test_configuration_reference_covers_every_key_of_the_schema():
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key in ("numerics.cpu_capability", "datasets.<name>.exemplars.jsonl", "finetune.students.<name>.lrs",
                "ablations.cheaper_wc.wc_per_se", "resources.default.gpu", "resources.<name>.runtime"):
        assert f"`{key}`" in page, key


def undescribed(node: dict, path: str) -> list[str]:
    """The keys under ``node`` without a ``description:`` of their own: each of its ``properties`` and a map's
    values (``additionalProperties``, as ``<name>``), looking through ``items`` and the alternatives of
    ``oneOf``, ``anyOf`` and ``allOf`` (``|i``)."""
    missing = []
    for name, prop in node.get("properties", {}).items():
        missing += [] if prop.get("description", "").strip() else [f"{path}.{name}"]
        missing += undescribed(prop, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        value = node["additionalProperties"]
        missing += [] if value.get("description", "").strip() else [f"{path}.<name>"]
        missing += undescribed(value, f"{path}.<name>")
    if isinstance(node.get("items"), dict):
        missing += undescribed(node["items"], f"{path}[]")
    for keyword in ("oneOf", "anyOf", "allOf"):
        for i, alternative in enumerate(node.get(keyword, ())):
            missing += undescribed(alternative, f"{path}|{i}")
    return missing


def undescribed_in_schema(schema: dict) -> list[str]:
    """The definitions, and the keys under them and under the top level, that lack a description."""
    missing = []
    for name, definition in schema.get("$defs", {}).items():
        missing += [] if definition.get("description", "").strip() else [f"$defs.{name}"]
        missing += undescribed(definition, f"$defs.{name}")
    return missing + undescribed(schema, "")


def test_every_key_and_definition_of_the_schema_has_a_description():
    missing = undescribed_in_schema(schema_docs.load_schema())
    assert not missing, (f"{len(missing)} keys of schemas/config.schema.yaml have no description (then run "
                         f"`make config-docs`):\n  " + "\n  ".join(missing))


def test_description_check_finds_what_lacks_one():
    schema = {"$defs": {"count": {"type": "integer"}, "named": {"type": "string", "description": "a name"}},
              "properties": {
                  "a": {"type": "object", "description": "section a",
                        "properties": {"k": {"$ref": "#/$defs/count"}, "d": {"type": "string", "description": " "}}},
                  "m": {"type": "object", "description": "a map",
                        "additionalProperties": {"type": "array", "items": {"type": "object", "properties": {
                            "x": {"type": "number"}}}}},
                  "e": {"description": "forms", "oneOf": [{"properties": {"from": {"enum": ["p"]}}},
                                                          {"properties": {"file": {"description": "a file"}}}]},
                  "r": {"description": "described", "type": "integer"}}}
    assert undescribed_in_schema(schema) == ["$defs.count", ".a.k", ".a.d", ".m.<name>", ".m.<name>[].x", ".e|0.from"]


def test_reference_resolves_refs_maps_and_forms():
    schema = {
        "required": ["a"],
        "$defs": {"count": {"type": "integer", "minimum": 1, "description": "how many"},
                  "res": {"type": "object", "properties": {"n": {"$ref": "#/$defs/count"}}}},
        "properties": {
            "a": {"type": "object", "required": ["k"], "description": "section a",
                  "properties": {"k": {"$ref": "#/$defs/count"},
                                 "mode": {"enum": ["x", "y"], "default": "x", "description": "a | b"}}},
            "m": {"type": "object", "additionalProperties": {
                "type": "object", "oneOf": [{"required": ["s"]}, {"required": ["t"]}],
                "properties": {"s": {"type": "string"}, "t": {"type": "array", "items": {"type": "number"},
                                                              "minItems": 1}}}},
            "e": {"oneOf": [{"type": "object", "required": ["from"], "properties": {"from": {"enum": ["p"]}}},
                            {"type": "object", "required": ["file"], "properties": {"file": {"type": "string"}}}]},
            "r": {"type": "object", "properties": {"default": {"$ref": "#/$defs/res",
                                                               "properties": {"n": {"default": 2}}}},
                  "additionalProperties": {"$ref": "#/$defs/res"}},
        },
    }
    text = schema_docs.reference_markdown(schema)
    assert "### `a`\n\nmapping; required.\n\nsection a" in text
    assert "| `a.k` | integer ≥ 1 | *required* | how many |" in text
    assert "| `a.mode` | one of `x`, `y` | `x` | a \\| b |" in text
    assert "mapping of `<name>` to mapping with exactly one of `s`, `t`; optional." in text
    assert "| `m.<name>.t` | non-empty list of number |  |  |" in text
    assert "mapping with `from` or `file`; optional." in text
    assert "| `e.from` | one of `p` | *required in this form* |  |" in text
    assert "| `r.default.n` | integer ≥ 1 | `2` | how many |" in text
    assert "| `r.<name>.n` | integer ≥ 1 |  | how many |" in text
    page = f"intro\n{schema_docs.BEGIN}\nold\n{schema_docs.END}\nrest\n"
    assert schema_docs.with_reference(page, "new") == f"intro\n{schema_docs.BEGIN}\n\nnew\n\n{schema_docs.END}\nrest\n"
    with pytest.raises(ValueError, match="needs one"):
        schema_docs.with_reference("no markers", "new")


# --- the rule graph picture --------------------------------------------------------------------------------------

def graph_of_dot(dot: str) -> tuple[set[str], set[tuple[str, str]]]:
    labels = dict(re.findall(r"^\s*(\d+)\[label = \"([^\"]+)\"", dot, re.MULTILINE))
    edges = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot, re.MULTILINE)}
    return set(labels.values()), edges


def graph_of_svg(svg: str) -> tuple[set[str], set[tuple[str, str]]]:
    ns = {"svg": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg)
    labels, edges = {}, set()
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        title = group.find("svg:title", ns)
        if group.get("class") == "node":
            labels[title.text] = group.find("svg:text", ns).text
        elif group.get("class") == "edge":
            edges.add(tuple(title.text.split("->")))
    return set(labels.values()), {(labels[a], labels[b]) for a, b in edges}


def test_rule_graph_picture_is_the_toy_workflows(tmp_path):
    proc = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--configfile", str(REPO / "configs/toy.yaml"),
                           "--rulegraph", "--directory", str(tmp_path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rules, edges = graph_of_dot(proc.stdout)
    pictured_rules, pictured_edges = graph_of_svg(RULE_GRAPH.read_text(encoding="utf-8"))
    if shutil.which("pdflatex") is None:      # the PDF is in the DAG only where pdflatex is installed
        pictured_rules.discard("make_paper")
        pictured_edges = {edge for edge in pictured_edges if "make_paper" not in edge}
    assert "judge_solutions" not in rules     # the toy world runs no judge
    assert (pictured_rules, pictured_edges) == (rules, edges), (
        f"docs/rulegraph-toy.svg is not the toy workflow's rule graph (missing {sorted(rules - pictured_rules)}, "
        f"extra {sorted(pictured_rules - rules)}, edges missing {sorted(edges - pictured_edges)}, extra "
        f"{sorted(pictured_edges - edges)}): run `snakemake --configfile configs/toy.yaml --rulegraph | dot -Tsvg "
        f"> docs/rulegraph-toy.svg` (Graphviz) where pdflatex is installed")
