"""Command line: ``python -m skae demo``."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skae", description="skae: autoencoders for scikit-learn."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="PCA vs AutoEncoderTransformer on scikit-learn's digits",
        description=(
            "Fit PCA and AutoEncoderTransformer at the same n_components on "
            "scikit-learn's bundled digits, print held-out reconstruction error, "
            "classifier accuracy on the codes and fit time, and save a figure."
        ),
    )
    demo.add_argument("--n-components", type=int, default=8)
    demo.add_argument("--device", default="cpu", help="'cpu', 'cuda', 'auto', ...")
    demo.add_argument("--output", default="skae-demo.png", help="PNG file to write")
    demo.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    from ._demo import run_demo

    run_demo(
        n_components=args.n_components,
        device=args.device,
        output=args.output,
        random_state=args.random_state,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
