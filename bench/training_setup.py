"""Host work before and during training that grows with the data: drawing every step's batch
(``weakstrong.training.batch_indices``) and replaying the run to report its padding share (``padding_share``),
against the number of optimizer steps, for a dataset the size of the paper's largest SFT set.

Prints, per step count: seconds to draw all batches, seconds for ``padding_share``, and per step.  Run it at
two commits in one session to compare (``PYTHONPATH=<checkout> python bench/training_setup.py``).

Usage: python bench/training_setup.py [--examples 180000] [--steps 600 6000 24000] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import random
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=180_000)
    parser.add_argument("--steps", type=int, nargs="+", default=[600, 6000, 24000])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--micro-batches", type=int, default=8, help="processes x accumulation steps")
    args = parser.parse_args()

    from weakstrong import training

    rng = random.Random(0)
    encoded = [([0] * length, [0] * length) for length in (rng.randint(100, 1024) for _ in range(args.examples))]
    print(f"{args.examples:,} examples, global batch {args.batch_size}, {args.micro_batches} micro batches")
    print(f"{'steps':>8} {'batches s':>10} {'padding_share s':>16} {'per step ms':>12}")
    for steps in args.steps:
        settings = training.TrainSettings(lr=1e-6, steps=steps, batch_size=args.batch_size, checkpoints=10, seed=0,
                                            max_length=1024)
        started = time.perf_counter()
        for step in range(steps):
            training.batch_indices(args.examples, args.batch_size, settings.seed, step)
        batches = time.perf_counter() - started
        started = time.perf_counter()
        training.padding_share(encoded, settings, args.micro_batches)
        padding = time.perf_counter() - started
        print(f"{steps:>8,} {batches:>10.2f} {padding:>16.2f} {1000 * (batches + padding) / steps:>12.3f}", flush=True)


if __name__ == "__main__":
    main()
