"""Shared by the probe tests: frameworks are required in CI, skipped locally when missing."""

import os
import shutil

from conftest import ROOT, need_framework

FIXTURES = os.path.join(ROOT, "fixtures", "probe")


def need(module: str) -> None:
    """Skip when `module` is not installed; in CI (the CI environment variable set) fail instead,
    unless that CI run is the one without the frameworks (conftest.need_framework)."""
    need_framework(module)

def make_images(root, classes=("cats", "dogs"), per_class=12, size=(40, 40)):
    """A deterministic image folder root/data/<class>/<i>.png."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls in classes:
        folder = os.path.join(str(root), "data", cls)
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(os.path.join(folder, f"{i}.png"))

def copy_fixture(name, folder):
    dest = os.path.join(str(folder), name)
    shutil.copyfile(os.path.join(FIXTURES, name), dest)
    return dest

def tree(folder):
    """Every file under folder, relative."""
    out = set()
    for base, _, files in os.walk(str(folder)):
        for f in files:
            out.add(os.path.relpath(os.path.join(base, f), str(folder)))
    return out
