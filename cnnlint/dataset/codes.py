"""The codes this capability reports, for `cnnlint rules`, `explain` and --select."""

from __future__ import annotations

from typing import List

from cnnlint.findings import Severity
from cnnlint.catalog import RuleInfo

E, W = Severity.ERROR, Severity.WARNING

CODES: List[RuleInfo] = [
    RuleInfo("CNL501", "corrupt-image", E, "Damaged image file a loader's decoder rejects (truncated, garbage, bad CRC, empty)"),
    RuleInfo("CNL502", "extension-mismatch", W, "File extension does not match the image format inside"),
    RuleInfo("CNL503", "unsupported-by-loader", W, "Image a training loader skips, fails on or reads with other pixels"),
    RuleInfo("CNL504", "mode-outlier", W, "Images whose channels or bit depth differ from the rest of the set"),
    RuleInfo("CNL505", "size-outlier", W, "Image far too small or with an extreme aspect ratio"),
    RuleInfo("CNL506", "class-imbalance", W, "Largest class many times the size of the smallest in a split"),
    RuleInfo("CNL507", "empty-or-tiny-class", E, "Class folder with no images, or too few to learn from"),
    RuleInfo("CNL508", "duplicate-image", W, "Same image twice in a class, or under two labels"),
    RuleInfo("CNL509", "train-test-leakage", E, "Same image in the training split and a validation/test split"),
    RuleInfo("CNL510", "stray-file", W, "Non-image file or hidden folder inside the dataset tree"),
    RuleInfo("CNL511", "animated-image", W, "Animated image: the loaders read its first frame only"),
    RuleInfo("CNL512", "exif-orientation", W, "EXIF orientation the loaders ignore: the model sees it rotated"),
    RuleInfo("CNL513", "decompression-bomb", E, "Image over the pixel limit, refused without decoding"),
    RuleInfo("CNL514", "unreadable-path", E, "Dataset path that cannot be read (permissions, broken link, loop, FIFO)"),
    RuleInfo("CNL515", "near-duplicate-leakage", E,
             "Validation/test image that is a near-duplicate (re-encoded, resized, cropped) of a training image"),
    RuleInfo("CNL516", "near-duplicate-images", W, "Near-duplicate images within a split: under one label or two"),
    RuleInfo("CNL517", "exposure-outlier", W, "Image almost black or blown out, where the rest of the set is not"),
    RuleInfo("CNL518", "blurry-image", W, "Image far blurrier than the rest of the set"),
    RuleInfo("CNL519", "low-information-image", W, "Near-constant or very low-entropy image (blank frame, placeholder)"),
]
