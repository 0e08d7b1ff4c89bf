#!/bin/sh
# Dump every surface: the old releases in side-by-side environments, the current ones in the
# project's environment. Usage: bench/api_surface/dump_all.sh OUT_DIR
# Environments (see README.md here): APIENV/keras23 (Python 3.8: tensorflow-cpu 2.2, keras 2.3.1),
# APIENV/tf212 and APIENV/tf215 (Python 3.11: tensorflow-cpu 2.12 / 2.15), APIENV/torch112
# (Python 3.10: torch 1.12.1, torchvision 0.13.1); CURRENT is the current releases' Python.
set -eu
OUT=${1:?usage: dump_all.sh OUT_DIR}
APIENV=${APIENV:-/work/apienv}
CURRENT=${CURRENT:-/work/venv/bin/python}
HERE=$(dirname "$0")
mkdir -p "$OUT"
for env in keras23 tf212 tf215; do
  for root in keras tf.keras; do "$APIENV/$env/bin/python" "$HERE/surface.py" $root "$OUT/$env-$root.json"; done
done
for root in torch torchvision; do "$APIENV/torch112/bin/python" "$HERE/surface.py" $root "$OUT/torch112-$root.json"; done
for root in keras tf.keras torch torchvision; do "$CURRENT" "$HERE/surface.py" $root "$OUT/current-$root.json"; done
