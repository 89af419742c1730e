"""Pre-training corpora for the toy models (solved problems for generators, unsolved for students) and the
tokenizer they share."""
from weakstrong.data import write_jsonl
from weakstrong.logs import log_to
from weakstrong.toy import build_corpus_and_tokenizer

with log_to(snakemake.log[0]):
    p = snakemake.params
    documents, tokenizer = build_corpus_and_tokenizer(p.datasets, p.corpus, p.data_seed, p.seed)
    for kind, texts in documents.items():
        write_jsonl(snakemake.output[kind], ({"text": d} for d in texts))
    tokenizer.save_pretrained(snakemake.output.tokenizer)
    print("toy corpora: " + ", ".join(f"{len(v)} {k} documents" for k, v in documents.items())
          + f"; tokenizer of {len(tokenizer)} tokens")
