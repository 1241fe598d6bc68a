"""``map [--model PATH] [--dataset ...] [--data-dir DIR] [--out FILE.csv] [--json]``.

The hidden-layer map of the test digits (``core.inspection.embedding_map``): the penultimate layer projected
to 2-D with PCA. ``--out`` writes ``x,y,label,prediction`` per test digit (no file without it);
``--json`` ends with one object holding ``points`` (the count), ``seconds`` (the whole build:
forward pass, PCA and the measure) and ``knn_accuracy`` (5-nearest-neighbour accuracy of the
labels in the 2-D map). Bad input is one ``error:`` line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from cli import add_command, add_model_option
from core import json_output
from core.data.mnist import DATASET_CHOICES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "map",
        description="Map the test digits as the model's last hidden layer sees them: PCA to 2-D, "
        "with the 5-nearest-neighbour accuracy of the labels in the map.",
    )
    add_model_option(parser)
    parser.add_argument(
        "--dataset",
        choices=DATASET_CHOICES,
        default="auto",
        help="whose test digits: full MNIST, the bundled sample, or auto (MNIST if present)",
    )
    parser.add_argument("--data-dir", metavar="DIR", help="folder holding MNIST/raw")
    parser.add_argument("--out", metavar="FILE.csv", help="write x,y,label,prediction per digit")
    parser.add_argument("--json", action="store_true", help="end with one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.data.mnist import load_mnist
    from core.inference.classifier import default_checkpoint
    from core.inspection.embedding_map import map_test_digits
    from core.storage.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(args.model) if args.model else default_checkpoint()
    data = load_mnist(args.dataset, args.data_dir)
    if not args.json:
        print(
            f"mapping {data.test_samples:,} test digits of {data.description}...", file=sys.stderr
        )
    result = map_test_digits(checkpoint.build(), checkpoint.model_name, data)
    if args.out:
        result.write_csv(args.out)
    record = {
        "points": len(result),
        "seconds": round(result.seconds, 4),
        "knn_accuracy": round(result.knn_accuracy, 6),
        "model": checkpoint.model_name,
        "layer": result.stage,
        "dataset": data.description,
        "misclassified": int(result.misclassified.sum()),
        "explained_variance": [round(v, 6) for v in result.projection.explained],
        "out": args.out,
    }
    if args.json:
        print(json_output.dumps(record))
    else:
        share = sum(result.projection.explained)
        print(
            f"{record['points']:,} digits of layer {result.stage} mapped in "
            f"{result.seconds:.2f} s; 5-NN accuracy in the map {result.knn_accuracy:.1%}; "
            f"the two axes hold {share:.0%} of the variance; "
            f"{record['misclassified']} misclassified"
            + (f"; written to {args.out}" if args.out else "")
        )
    return 0
