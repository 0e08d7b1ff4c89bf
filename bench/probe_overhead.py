"""How much the runtime probe costs over running the script's own first two steps.

Builds the Keras ImageDataGenerator fixture (fixtures/probe/keras_generator.py) over a
generated image folder, then times, best of --runs:

- probe: the whole `--probe` of the script (two children: the script's batch size and twice it,
  each importing TensorFlow and running to its first two training steps);
- plain: a fresh Python that imports TensorFlow and runs the same script with its `fit` cut to two
  steps (`epochs=1, steps_per_epoch=2`, no callbacks) and nothing after it.

Prints both times and the ratio; the target is probe <= 3 x plain.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

FIXTURE = os.path.join(ROOT, "fixtures", "probe", "keras_generator.py")
TARGET = 3.0


def plain_variant(text: str) -> str:
    """The script with its fit cut to two steps and everything after it dropped."""
    head, _, _ = text.partition("model.fit(")
    return head + "model.fit(train, epochs=1, steps_per_epoch=2, verbose=0)\n"


def time_plain(folder: str, python: str) -> float:
    started = time.monotonic()
    subprocess.run([python, "plain.py"], cwd=folder, check=True, capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return time.monotonic() - started


def time_probe(folder: str, python: str) -> float:
    from cnnlint.probe.runner import Options, probe

    started = time.monotonic()
    result = probe(os.path.join(folder, "keras_generator.py"), Options(python=python))
    elapsed = time.monotonic() - started
    statuses = [r.status for r in result.runs]
    if statuses != ["reading", "reading"]:
        raise SystemExit(f"the probe did not reach the training steps: {statuses}")
    return elapsed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="best of N for each side (default: 3)")
    p.add_argument("--python", default=sys.executable, help="interpreter with TensorFlow and cnnlint")
    args = p.parse_args()
    from probe_helpers import make_images

    with tempfile.TemporaryDirectory(prefix="cnnlint-probe-bench-") as folder:
        make_images(folder)
        with open(FIXTURE, encoding="utf-8") as fh:
            text = fh.read()
        with open(os.path.join(folder, "keras_generator.py"), "w", encoding="utf-8") as fh:
            fh.write(text)
        with open(os.path.join(folder, "plain.py"), "w", encoding="utf-8") as fh:
            fh.write(plain_variant(text))
        plain, probed = [], []
        for _ in range(args.runs):  # interleaved, so machine load hits both sides alike
            plain.append(time_plain(folder, args.python))
            probed.append(time_probe(folder, args.python))
    best_plain, best_probe = min(plain), min(probed)
    ratio = best_probe / best_plain
    print(f"plain (import TensorFlow + the script's first two steps): best {best_plain:.2f} s "
          f"of {', '.join(f'{t:.2f}' for t in plain)}")
    print(f"probe (whole --probe, two batch sizes):                  best {best_probe:.2f} s "
          f"of {', '.join(f'{t:.2f}' for t in probed)}")
    print(f"ratio {ratio:.2f} (target <= {TARGET:g}): {'ok' if ratio <= TARGET else 'OVER TARGET'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
