"""What each training loader does with one image file, from the decoders' own rules.

Four loaders, two decoders: TensorFlow's `tf.io.decode_image(channels=3,
expand_animations=False)` (Keras `image_dataset_from_directory`, and scripts
that decode files themselves) and Pillow's `Image.open(f).convert("RGB")`
(Keras `flow_from_directory` through `keras.utils.load_img`, torchvision's
`ImageFolder`). Per loader a file is `ok`, `skipped` (never listed),
`fails` (raises while training reads it) or `altered` (reads, but the pixels
differ from the picture). The TensorFlow side is decided from header facts
(`bmp`, `gif`, `png`, `webp`), the Pillow side from the scan's own Pillow
open and decode; `table` combines them, `findings` words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

KERAS_DATASET = "keras_image_dataset_from_directory"
KERAS_FLOW = "keras_flow_from_directory"
TF_DECODE = "tf_decode_image"
TORCHVISION = "torchvision_imagefolder"
LOADERS: Tuple[str, ...] = (KERAS_DATASET, KERAS_FLOW, TF_DECODE, TORCHVISION)

# what people call them in a message
NAMES: Dict[str, str] = {
    KERAS_DATASET: "Keras image_dataset_from_directory",
    KERAS_FLOW: "Keras flow_from_directory",
    TF_DECODE: "tf.io.decode_image",
    TORCHVISION: "torchvision ImageFolder",
}

# the decoder behind each loader
TENSORFLOW = (KERAS_DATASET, TF_DECODE)
PILLOW = (KERAS_FLOW, TORCHVISION)

OK, SKIPPED, FAILS, ALTERED = "ok", "skipped", "fails", "altered"
OUTCOMES = (OK, SKIPPED, FAILS, ALTERED)

# Which files each directory loader lists (lower-cased name endings), from the libraries:
# keras image_dataset_utils.ALLOWLIST_FORMATS; the legacy DirectoryIterator.white_list_formats
# (flow_from_directory); torchvision.datasets.folder.IMG_EXTENSIONS. tf_decode_image reads
# whatever files the script lists.
LISTS: Dict[str, Tuple[str, ...]] = {
    KERAS_DATASET: (".bmp", ".gif", ".jpeg", ".jpg", ".png"),
    KERAS_FLOW: (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff"),
    TORCHVISION: (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"),
}


@dataclass(frozen=True)
class Effect:
    """One thing a loader does to a file: it skips it, fails on it or alters it, and why."""

    loader: str
    outcome: str  # SKIPPED | FAILS | ALTERED
    code: str  # the finding that reports it: CNL501 (damaged file), CNL503, CNL511 (frames), CNL512 (rotation)
    reason: str

    def to_list(self) -> list:
        return [self.loader, self.outcome, self.code, self.reason]


def listed(loader: str, name: str) -> bool:
    """Whether a directory loader lists a file of this name (tf_decode_image reads whatever it is given)."""
    extensions = LISTS.get(loader)
    return extensions is None or name.lower().endswith(extensions)


def outcome_of(effects, loader: str) -> str:
    """The loader's one outcome: skipped before fails before altered before ok."""
    found = {e.outcome for e in effects if e.loader == loader}
    for outcome in (SKIPPED, FAILS, ALTERED):
        if outcome in found:
            return outcome
    return OK


def outcomes(effects) -> Dict[str, str]:
    return {loader: outcome_of(effects, loader) for loader in LOADERS}
