# Stage 7: the paper's tables (booktabs LaTeX and Markdown) and figures.


rule make_table1:
    input:
        unpack(get_make_table1_input),
    output:
        tex=f"{RESULTS}/table1.tex",
        md=f"{RESULTS}/table1.md",
    params:
        get_make_table1_params,
    log:
        f"{LOGS}/make_table1.log",
    threads: 1
    resources:
        **resources_of("make_table1"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/make_table1.py"


rule make_table2:
    input:
        metrics_files(),
    output:
        tex=f"{RESULTS}/table2.tex",
        md=f"{RESULTS}/table2.md",
    params:
        get_make_table2_params,
    log:
        f"{LOGS}/make_table2.log",
    threads: 1
    resources:
        **resources_of("make_table2"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/make_table2.py"
