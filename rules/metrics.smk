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
