# Stage 4: the quality of each budget's data, SE at k against WC at ratio*k: coverage, diversity and
# false-positive rate.


rule measure_data:
    input:
        unpack(get_measure_data_input),
    output:
        f"{RESULTS}/metrics/{{dataset}}/{{pair}}/{{budget}}.json",
    params:
        get_measure_data_params,
    log:
        f"{LOGS}/measure_data/{{dataset}}/{{pair}}/{{budget}}.log",
    threads: 1
    resources:
        **resources_of("measure_data"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/measure_data.py"


# The LLM judge (optional: the config's `judge` section), per budget and source: greedy verdicts on a
# level-stratified sample of that budget's kept solutions (the first samples_per_question samples of each
# problem, as the SFT data and measure_data take them), so Table 2's false-positive rate describes the data
# each student trains on. Unparsable replies are counted apart from the flawed rate.


rule judge_solutions:
    input:
        unpack(get_judge_solutions_input),
    output:
        records=f"{RESULTS}/judge/{{dataset}}/{{pair}}/{{budget}}/{{source}}.jsonl",
        summary=f"{RESULTS}/judge/{{dataset}}/{{pair}}/{{budget}}/{{source}}.json",
    params:
        get_judge_solutions_params,
    log:
        f"{LOGS}/judge_solutions/{{dataset}}/{{pair}}/{{budget}}/{{source}}.log",
    benchmark:
        f"{BENCHMARKS}/judge_solutions/{{dataset}}/{{pair}}/{{budget}}/{{source}}.tsv"
    threads: threads_of("judge_solutions")
    resources:
        **resources_of("judge_solutions"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/judge_solutions.py"


# The human audit, per budget: a blind rating form of `judge.audit_size` solutions per source, drawn from
# those the judge sees at that budget (so the judge's agreement with humans can be measured). Open
# form.html in a browser, rate, download the CSV and save it as
# <judge.ratings_dir, default audit>/{dataset}/{pair}/{budget}/ratings.csv (relative to the working
# directory); then `snakemake audit` (or the summary file itself) runs summarize_audit. It is not in `all`,
# as the ratings come from people; once they exist, Table 2 reads the summary as its "Human FP" column.


rule export_audit_form:
    input:
        unpack(get_export_audit_form_input),
    output:
        form=f"{RESULTS}/audit/{{dataset}}/{{pair}}/{{budget}}/form.html",
        template=f"{RESULTS}/audit/{{dataset}}/{{pair}}/{{budget}}/ratings-template.csv",
        # which solution each item is; for summarize_audit, never for raters (they stay blind)
        key=f"{RESULTS}/audit/{{dataset}}/{{pair}}/{{budget}}/key.csv",
    params:
        get_export_audit_form_params,
    log:
        f"{LOGS}/export_audit_form/{{dataset}}/{{pair}}/{{budget}}.log",
    threads: 1
    resources:
        **resources_of("export_audit_form"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/export_audit_form.py"


rule summarize_audit:
    input:
        unpack(get_summarize_audit_input),
    output:
        f"{RESULTS}/audit/{{dataset}}/{{pair}}/{{budget}}/summary.json",
    log:
        f"{LOGS}/summarize_audit/{{dataset}}/{{pair}}/{{budget}}.log",
    threads: 1
    resources:
        **resources_of("summarize_audit"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/summarize_audit.py"
