"""Pre-training documents for the toy models and the tokenizer they share."""
from weakstrong.data import write_jsonl
from weakstrong.logs import log_to
from weakstrong.toy import build_corpus_and_tokenizer

with log_to(snakemake.log[0]):
    p = snakemake.params
    documents, tokenizer = build_corpus_and_tokenizer(p.datasets, p.corpus, p.seed)
    write_jsonl(snakemake.output.corpus, ({"text": d} for d in documents))
    tokenizer.save_pretrained(snakemake.output.tokenizer)
    print(f"toy corpus: {len(documents)} documents, tokenizer of {len(tokenizer)} tokens")
