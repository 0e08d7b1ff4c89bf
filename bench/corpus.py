"""Deterministic generator of a realistic corpus of CNN training code.

The corpus is made of Keras/TensorFlow and PyTorch training scripts (``.py``)
and Jupyter notebooks (``.ipynb``, markdown cells, ``!pip install`` cells, no
outputs), composed from varied building blocks: imports, configuration
(constants, dataclass, argparse, dict), data pipelines, model definitions with
many layers, training loops, evaluation, plotting and utility functions with
docstrings and comments.  Sizes follow a log-normal spread (50 to 2,000 source
lines, median about 300).

Some files carry the founding defects of DESIGN.md section 5 on purpose
("planted"):

* CNL101 missing normalization (``ImageDataGenerator()`` without ``rescale``
  feeding ``fit``; a torchvision ``Compose`` with ``PILToTensor`` only);
* CNL102 images read one by one (``cv2.imread``, ``Image.open``, ``load_img``)
  into a list, then ``np.array`` and ``fit`` / ``TensorDataset``;
* CNL201 a PyTorch loop with ``backward()`` and ``step()`` but no ``zero_grad``;
* CNL202 TF gradient accumulation where ``gradients = tape.gradient(...)``
  overwrites the accumulator;
* CNL401 ``!pip install tensorflow`` (or a ``pip install`` run from a script)
  without a pinned version.

Everything else is written to be clean with respect to those rules (pinned
installs, ``zero_grad`` in every loop, scaling in every pipeline), so the
manifest's ``planted`` list is what a file is meant to contain.  It records
intent, not a guarantee of what any linter reports.

Each file depends only on ``(seed, index)``: ``generate_file(i, seed)`` gives the
same text whatever the corpus size.  Usage::

    from bench.corpus import generate_corpus
    manifest = generate_corpus("bench/out/corpus", n_files=500, seed=20240611)

or ``python bench/corpus.py OUT_DIR --files 500``.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import random
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from string import Template
from typing import Callable, Dict, List, Optional, Sequence, Tuple

DEFAULT_SEED = 20240611
DEFAULT_FILES = 500
MIN_LINES = 50
MAX_LINES = 2000
MEDIAN_LINES = 300
NOTEBOOK_SHARE = 0.25
FOUNDING_CODES = ("CNL101", "CNL102", "CNL201", "CNL202", "CNL401")
MANIFEST_NAME = "corpus_manifest.json"


# --------------------------------------------------------------------------- helpers


def T(text: str, **kw) -> str:
    """Dedent a template and substitute ``$name`` placeholders."""
    return Template(textwrap.dedent(text).strip("\n")).substitute(**kw)


def indent(text: str, n: int = 4) -> str:
    pad = " " * n
    return "\n".join((pad + ln) if ln.strip() else "" for ln in text.split("\n"))


def count_lines(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") else 1) if text else 0


def py_str(s: str) -> str:
    return json.dumps(s)


# --------------------------------------------------------------------------- themes

THEMES = [
    # (key, title, data dir, classes, mean image size)
    ("flowers", "Flower species classification", "data/flowers", ["daisy", "dandelion", "roses", "sunflowers", "tulips"]),
    ("cats_dogs", "Cats vs. dogs", "data/cats_and_dogs", ["cat", "dog"]),
    ("chest_xray", "Pneumonia detection from chest X-rays", "/content/chest_xray", ["NORMAL", "PNEUMONIA"]),
    ("plant_disease", "Plant disease recognition", "../input/plantvillage/PlantVillage", [
        "Pepper_bell_Bacterial_spot", "Pepper_bell_healthy", "Potato_Early_blight", "Potato_Late_blight",
        "Potato_healthy", "Tomato_Bacterial_spot", "Tomato_Early_blight", "Tomato_Late_blight",
        "Tomato_Leaf_Mold", "Tomato_healthy"]),
    ("skin_lesion", "Skin lesion classification (HAM10000)", "datasets/ham10000", ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]),
    ("traffic_signs", "Traffic sign recognition", "data/gtsrb/Train", [str(i) for i in range(43)]),
    ("food", "Food image classifier", "/data/food-11", ["bread", "dairy", "dessert", "egg", "fried", "meat",
                                                      "noodles", "rice", "seafood", "soup", "vegetable"]),
    ("brain_mri", "Brain tumour MRI classification", "/kaggle/input/brain-tumor-mri-dataset/Training",
     ["glioma", "meningioma", "notumor", "pituitary"]),
    ("satellite", "EuroSAT land-use classification", "data/EuroSAT/2750", [
        "AnnualCrop", "Forest", "HerbaceousVegetation", "Highway", "Industrial", "Pasture",
        "PermanentCrop", "Residential", "River", "SeaLake"]),
    ("defects", "Surface defect detection", "D:/projects/defects/images", ["crazing", "inclusion", "patches",
                                                                          "pitted_surface", "rolled-in_scale", "scratches"]),
    ("fruits", "Fresh vs. rotten fruit", "data/fruits/train", ["freshapples", "freshbanana", "freshoranges",
                                                               "rottenapples", "rottenbanana", "rottenoranges"]),
    ("birds", "Bird species classifier", "/mnt/datasets/birds/train", [f"species_{i:03d}" for i in range(20)]),
]

BUILTIN_CLASSES = {
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
    "mnist": [str(i) for i in range(10)],
    "svhn": [str(i) for i in range(10)],
    "cifar100": [f"class_{i}" for i in range(100)],
}
BUILTIN_TITLES = {"cifar10": "CIFAR-10 image classification", "fashion_mnist": "Fashion-MNIST classifier",
                  "mnist": "MNIST digit recognition", "svhn": "Street View House Numbers", "cifar100": "CIFAR-100"}


def _builtin_theme(ctx: Ctx, name: str) -> None:
    key = name.lower().replace("fashionmnist", "fashion_mnist")
    ctx.theme = (key, BUILTIN_TITLES[key], "./data", BUILTIN_CLASSES[key])
    ctx.facts["class_names"] = BUILTIN_CLASSES[key]
    ctx.hp["data_dir"] = "./data"


BUILTIN_KERAS = [("cifar10", 10, 32, 3), ("fashion_mnist", 10, 28, 1), ("mnist", 10, 28, 1), ("cifar100", 100, 32, 3)]
BUILTIN_TORCH = [("CIFAR10", 10, 32), ("FashionMNIST", 10, 28), ("MNIST", 10, 28), ("CIFAR100", 100, 32), ("SVHN", 10, 32)]

PIP_PINS_KERAS = [
    "tensorflow==2.15.0", "tensorflow==2.13.1", "tensorflow==2.16.1", "keras==2.15.0",
    "opencv-python==4.8.1.78", "matplotlib==3.8.2", "scikit-learn==1.3.2", "pandas==2.1.4",
    "seaborn==0.13.0", "tensorflow-addons==0.23.0", "pillow==10.1.0", "tqdm==4.66.1",
]
PIP_PINS_TORCH = [
    "torch==2.1.2", "torchvision==0.16.2", "torch==2.2.1", "torchvision==0.17.1", "timm==0.9.12",
    "albumentations==1.3.1", "opencv-python-headless==4.8.1.78", "matplotlib==3.8.2",
    "scikit-learn==1.3.2", "tqdm==4.66.1", "torchmetrics==1.2.1", "pandas==2.1.4",
]
PIP_UNPINNED_KERAS = ["tensorflow", "tensorflow-gpu", "keras", "opencv-python", "tensorflow-addons", "keras-tuner"]
PIP_UNPINNED_TORCH = ["torch", "torchvision", "timm", "albumentations", "torchmetrics", "pytorch-lightning"]

COMMENTS = [
    "TODO: tune this value on the validation set",
    "NOTE: keep this in sync with the data loader",
    "works better than the default in my experiments",
    "see the paper for details",
    "FIXME: this is slow on large datasets",
    "quick sanity check",
    "this was 0.5 before, lowered after overfitting",
    "taken from the official example",
    "helps with the class imbalance",
    "used for the final submission",
    "do not change, the checkpoint depends on it",
    "Colab runs out of memory with larger values",
    "copied from my previous project",
    "reproducibility",
    "can be removed once everything works",
]

STD = {"os", "sys", "time", "json", "math", "random", "argparse", "logging", "shutil", "glob", "pathlib",
       "dataclasses", "typing", "datetime", "collections", "subprocess", "itertools", "functools", "csv",
       "contextlib", "copy", "warnings", "__future__"}


# --------------------------------------------------------------------------- context


@dataclass
class Unit:
    phase: str  # utils, data, model, train, eval, plot
    role: str  # "helper" (defs/classes) or "driver" (statements)
    code: str
    title: str = ""
    md: str = ""


@dataclass
class Ctx:
    rng: random.Random
    index: int
    framework: str  # "keras" or "torch"
    notebook: bool
    planted: List[str]
    target: int
    verbose: int  # 0 compact, 1 normal, 2 verbose
    theme: tuple
    cfg_style: str  # const, dataclass, argparse, dict
    script_style: str  # main or flat
    imports: Dict[str, None] = field(default_factory=dict)
    used: Dict[str, int] = field(default_factory=dict)
    hp: Dict[str, object] = field(default_factory=dict)
    hp_names: Dict[str, str] = field(default_factory=dict)
    facts: Dict[str, object] = field(default_factory=dict)

    # ---- small utilities
    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def imp(self, *lines: str) -> None:
        for ln in lines:
            self.imports.setdefault(ln, None)

    def name(self, base: str) -> str:
        """A unique top-level name: base, base_v2, base_v3, ..."""
        n = self.used.get(base, 0) + 1
        self.used[base] = n
        return base if n == 1 else f"{base}_v{n}"

    def comment(self) -> str:
        return "# " + self.pick(COMMENTS)

    def maybe_comment(self, p: float = 0.3, pad: str = "") -> str:
        return (pad + self.comment() + "\n") if self.chance(p) else ""

    def h(self, key: str) -> str:
        """Expression for a hyper-parameter under this file's configuration style."""
        if self.cfg_style == "const" or (key not in self.hp_names):
            return self.hp_names.get(key, key.upper())
        if self.cfg_style == "dataclass":
            return f"cfg.{key}"
        if self.cfg_style == "argparse":
            return f"args.{key}"
        return f"{self.facts['cfg_dict']}[{key!r}]"


HP_CONST_NAMES = {
    "data_dir": ["DATA_DIR", "DATASET_PATH", "DATA_PATH", "BASE_DIR"],
    "img_size": ["IMG_SIZE", "IMAGE_SIZE", "IMG_DIM", "INPUT_SIZE"],
    "batch_size": ["BATCH_SIZE", "BS", "BATCH"],
    "epochs": ["EPOCHS", "NUM_EPOCHS", "N_EPOCHS"],
    "lr": ["LEARNING_RATE", "LR", "INIT_LR"],
    "num_classes": ["NUM_CLASSES", "N_CLASSES", "CLASSES"],
    "seed": ["SEED", "RANDOM_SEED", "RANDOM_STATE"],
    "val_split": ["VAL_SPLIT", "VALIDATION_SPLIT", "VALID_FRAC"],
    "output_dir": ["OUTPUT_DIR", "CHECKPOINT_DIR", "SAVE_DIR", "MODEL_DIR"],
    "accum_steps": ["ACCUM_STEPS", "GRAD_ACCUM_STEPS", "ACCUMULATION_STEPS"],
    "weight_decay": ["WEIGHT_DECAY", "WD"],
    "num_workers": ["NUM_WORKERS", "WORKERS"],
}


def _choose_hparams(ctx: Ctx) -> None:
    r = ctx.rng
    key, title, data_dir, classes = ctx.theme
    ctx.hp = {
        "data_dir": data_dir,
        "img_size": r.choice([64, 96, 128, 150, 160, 180, 192, 224, 224, 224, 256, 299]),
        "batch_size": r.choice([8, 16, 32, 32, 32, 64, 64, 128]),
        "epochs": r.choice([5, 10, 15, 20, 25, 30, 50, 100]),
        "lr": r.choice([1e-3, 1e-3, 3e-4, 1e-4, 5e-4, 0.01, 0.1, 2e-4]),
        "num_classes": len(classes),
        "seed": r.choice([42, 42, 0, 1, 7, 123, 1234, 2021, 2023, 3407]),
        "val_split": r.choice([0.1, 0.15, 0.2, 0.2, 0.25]),
        "output_dir": r.choice(["checkpoints", "outputs", "models", "runs/exp1", "/content/drive/MyDrive/models"]),
        "accum_steps": r.choice([2, 4, 4, 8, 16]),
        "weight_decay": r.choice([1e-4, 5e-4, 1e-5, 0.01, 0.05]),
        "num_workers": r.choice([0, 2, 4, 4, 8]),
    }
    ctx.hp_names = {k: r.choice(v) for k, v in HP_CONST_NAMES.items()}
    # avoid the odd name collisions ("CLASSES" is the count here, class list is CLASS_NAMES)
    ctx.facts["class_names"] = classes
    ctx.facts["cfg_dict"] = r.choice(["CONFIG", "config", "CFG", "params"])


def _fmt(v) -> str:
    if isinstance(v, float):
        if v < 0.001 or (v < 1 and len(repr(v)) > 6):
            return f"{v:.0e}".replace("e-0", "e-")
        return repr(v)
    return repr(v)


# --------------------------------------------------------------------------- configuration block


def config_unit(ctx: Ctx) -> Unit:
    hp, names = ctx.hp, ctx.hp_names
    keys = ["data_dir", "img_size", "batch_size", "epochs", "lr", "num_classes", "seed", "val_split", "output_dir"]
    if ctx.facts.get("needs_accum"):
        keys.append("accum_steps")
    if ctx.framework == "torch":
        keys += ["weight_decay", "num_workers"]
    class_list = "CLASS_NAMES = [" + ", ".join(py_str(c) for c in ctx.facts["class_names"][:12]) + (
        "]" if len(ctx.facts["class_names"]) <= 12 else "]  # truncated, the rest is read from the folders")
    style = ctx.cfg_style
    help_text = {
        "data_dir": "root folder with one sub-folder per class",
        "img_size": "images are resized to IMG_SIZE x IMG_SIZE",
        "batch_size": "mini-batch size",
        "epochs": "number of training epochs",
        "lr": "initial learning rate",
        "num_classes": "number of output classes",
        "seed": "random seed",
        "val_split": "fraction of the data held out for validation",
        "output_dir": "where checkpoints and plots are written",
        "accum_steps": "micro-batches per optimizer update",
        "weight_decay": "L2 penalty",
        "num_workers": "DataLoader worker processes",
    }
    if style == "const":
        lines = ["# ---- configuration " + "-" * 50]
        for k in keys:
            c = f"  # {help_text[k]}" if ctx.chance(0.35) else ""
            lines.append(f"{names[k]} = {_fmt(hp[k])}{c}")
        lines.append(class_list)
        return Unit("config", "helper", "\n".join(lines), "Configuration",
                    "All hyper-parameters in one place.")
    if style == "dict":
        d = ctx.facts["cfg_dict"]
        body = "\n".join(f"    {k!r}: {_fmt(hp[k])}," for k in keys)
        code = f"{d} = {{\n{body}\n}}\n{class_list}"
        return Unit("config", "helper", code, "Configuration", "Hyper-parameters as a plain dict.")
    if style == "dataclass":
        ctx.imp("from dataclasses import dataclass, field")
        typ = {int: "int", float: "float", str: "str"}
        fields = []
        for k in keys:
            c = f"  # {help_text[k]}" if ctx.chance(0.4) else ""
            fields.append(f"    {k}: {typ[type(hp[k])]} = {_fmt(hp[k])}{c}")
        fields.append("    class_names: list = field(default_factory=lambda: list(CLASS_NAMES))")
        doc = '    """Training configuration."""\n\n' if ctx.verbose else ""
        code = f"{class_list}\n\n\n@dataclass\nclass Config:\n{doc}" + "\n".join(fields)
        if ctx.verbose >= 1:
            code += "\n\n" + indent(T('''
                def to_dict(self) -> dict:
                    """Plain dict, handy for logging."""
                    return {k: getattr(self, k) for k in self.__dataclass_fields__}
            '''))
        return Unit("config", "helper", code, "Configuration",
                    "A small dataclass keeps the experiment settings together.")
    # argparse
    ctx.imp("import argparse")
    args = []
    for k in keys:
        typ = {int: "int", float: "float", str: "str"}[type(hp[k])]
        args.append(f'    parser.add_argument("--{k.replace("_", "-")}", type={typ}, default={_fmt(hp[k])},'
                    f' help={py_str(help_text[k])})')
    extra = ""
    if ctx.chance(0.5):
        extra = '    parser.add_argument("--no-augment", action="store_true", help="disable data augmentation")\n'
    code = (f"{class_list}\n\n\ndef parse_args(argv=None):\n"
            f'    """Parse command-line arguments."""\n'
            f"    parser = argparse.ArgumentParser(description={py_str(ctx.theme[1])})\n"
            + "\n".join(args) + "\n" + extra + "    return parser.parse_args(argv)")
    return Unit("config", "helper", code, "Configuration", "")


def config_driver_prefix(ctx: Ctx) -> str:
    if ctx.cfg_style == "dataclass":
        return "cfg = Config()"
    if ctx.cfg_style == "argparse":
        return "args = parse_args()"
    return ""


# =========================================================================== Keras / TensorFlow


def _keras_imports(ctx: Ctx) -> None:
    style = ctx.facts.setdefault("keras_import_style", ctx.pick(["tf.keras", "keras", "tf.keras.from"]))
    ctx.imp("import numpy as np", "import tensorflow as tf")
    if style == "keras":
        ctx.imp("import keras", "from keras import layers")
        ctx.facts["K"] = "keras"
    elif style == "tf.keras":
        ctx.imp("from tensorflow import keras", "from tensorflow.keras import layers")
        ctx.facts["K"] = "keras"
    else:
        ctx.imp("from tensorflow import keras", "from tensorflow.keras import layers")
        ctx.facts["K"] = "keras"


def k_data_idg(ctx: Ctx) -> List[Unit]:
    """ImageDataGenerator + flow_from_directory (planted CNL101: no rescale)."""
    ctx.imp("from tensorflow.keras.preprocessing.image import ImageDataGenerator")
    planted = "CNL101" in ctx.planted
    h = ctx.h
    aug = ctx.rng.sample([
        "rotation_range=20", "rotation_range=15", "width_shift_range=0.1", "height_shift_range=0.1",
        "shear_range=0.2", "zoom_range=0.2", "zoom_range=0.15", "horizontal_flip=True",
        "brightness_range=(0.8, 1.2)", 'fill_mode="nearest"', "vertical_flip=False",
    ], ctx.rng.randint(0, 5))
    # de-duplicate keyword names
    seen, kw = set(), []
    for a in aug:
        k = a.split("=")[0]
        if k not in seen:
            seen.add(k)
            kw.append(a)
    split_mode = ctx.chance(0.5)
    if split_mode:
        kw.append(f"validation_split={h('val_split')}")
    if not planted:
        kw.insert(0, ctx.pick(["rescale=1.0 / 255", "rescale=1./255", "rescale=1 / 255.0"]))
    if kw:
        args = "\n" + "".join(f"    {a},\n" for a in kw)
    else:
        args = ""
    train_gen = f"train_datagen = ImageDataGenerator({args})"
    ctx.facts["labels"] = "categorical"
    ctx.facts["scaled"] = not planted
    ctx.facts["data_kind"] = "generator"
    size = h("img_size")
    if split_mode:
        flow = T('''
            train_generator = train_datagen.flow_from_directory(
                $dd,
                target_size=($s, $s),
                batch_size=$bs,
                class_mode="categorical",
                subset="training",
                shuffle=True,
                seed=$seed,
            )
            val_generator = train_datagen.flow_from_directory(
                $dd,
                target_size=($s, $s),
                batch_size=$bs,
                class_mode="categorical",
                subset="validation",
                shuffle=False,
            )''', dd=h("data_dir"), s=size, bs=h("batch_size"), seed=h("seed"))
        val_gen = ""
    else:
        ctx.imp("import os")
        vargs = "" if planted else ctx.pick(["rescale=1.0 / 255", "rescale=1./255"])
        val_gen = f"val_datagen = ImageDataGenerator({vargs})\n"
        flow = T('''
            train_generator = train_datagen.flow_from_directory(
                os.path.join($dd, "train"),
                target_size=($s, $s),
                batch_size=$bs,
                class_mode="categorical",
            )
            val_generator = val_datagen.flow_from_directory(
                os.path.join($dd, "val"),
                target_size=($s, $s),
                batch_size=$bs,
                class_mode="categorical",
                shuffle=False,
            )''', dd=h("data_dir"), s=size, bs=h("batch_size"))
    code = train_gen + "\n" + val_gen + ctx.maybe_comment(0.3) + flow
    if ctx.verbose and ctx.chance(0.6):
        code += '\nprint("class indices:", train_generator.class_indices)'
    ctx.facts["fit_train"] = "train_generator"
    ctx.facts["fit_val"] = "validation_data=val_generator"
    ctx.facts["eval_data"] = "val_generator"
    return [Unit("data", "driver", code, "Data generators",
                 "Images are streamed from disk with `ImageDataGenerator`; augmentation only on the training split.")]


def k_data_idfd(ctx: Ctx, scale_in_pipeline: bool) -> List[Unit]:
    """image_dataset_from_directory; scaling either mapped here or done by the model."""
    h = ctx.h
    K = ctx.facts["K"]
    ctx.facts["labels"] = "int"
    ctx.facts["scaled"] = scale_in_pipeline
    ctx.facts["data_kind"] = "tfdata"
    AUT = ctx.pick(["tf.data.AUTOTUNE", "tf.data.experimental.AUTOTUNE"])
    code = T('''
        train_ds = $K.utils.image_dataset_from_directory(
            $dd,
            validation_split=$vs,
            subset="training",
            seed=$seed,
            image_size=($s, $s),
            batch_size=$bs,
        )
        val_ds = $K.utils.image_dataset_from_directory(
            $dd,
            validation_split=$vs,
            subset="validation",
            seed=$seed,
            image_size=($s, $s),
            batch_size=$bs,
        )
        class_names = train_ds.class_names''', K=K, dd=h("data_dir"), vs=h("val_split"), seed=h("seed"),
             s=h("img_size"), bs=h("batch_size"))
    if scale_in_pipeline:
        fn = ctx.pick(["normalize", "scale_images", "preprocess"])
        code += "\n\n" + T('''
            def $fn(image, label):
                return tf.cast(image, tf.float32) / 255.0, label


            train_ds = train_ds.map($fn, num_parallel_calls=$A)
            val_ds = val_ds.map($fn, num_parallel_calls=$A)''', fn=fn, A=AUT)
    code += "\n" + T('''
        train_ds = train_ds.cache().shuffle(1000).prefetch(buffer_size=$A)
        val_ds = val_ds.cache().prefetch(buffer_size=$A)''', A=AUT)
    ctx.facts["fit_train"] = "train_ds"
    ctx.facts["fit_val"] = "validation_data=val_ds"
    ctx.facts["eval_data"] = "val_ds"
    return [Unit("data", "driver", code, "Loading the images",
                 "`image_dataset_from_directory` builds a `tf.data` pipeline straight from the class folders.")]


def k_data_paths(ctx: Ctx) -> List[Unit]:
    """tf.data over file paths, decode + resize + scale in a map function."""
    ctx.imp("import os", "import glob")
    h = ctx.h
    ctx.facts.update(labels="int", scaled=True, data_kind="tfdata")
    AUT = ctx.pick(["tf.data.AUTOTUNE", "tf.data.experimental.AUTOTUNE"])
    decode = ctx.pick(["tf.io.decode_jpeg(raw, channels=3)", "tf.image.decode_image(raw, channels=3, expand_animations=False)",
                       "tf.io.decode_png(raw, channels=3)"])
    scale = ctx.pick(["image = tf.cast(image, tf.float32) / 255.0",
                      "image = tf.image.convert_image_dtype(image, tf.float32)",
                      "image = image / 255.0"])
    helper = T('''
        def list_image_files(root):
            """Return (paths, integer labels, class names) for a folder-per-class layout."""
            classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
            paths, labels = [], []
            for idx, cls in enumerate(classes):
                for path in sorted(glob.glob(os.path.join(root, cls, "*"))):
                    if path.lower().endswith((".jpg", ".jpeg", ".png")):
                        paths.append(path)
                        labels.append(idx)
            return paths, labels, classes


        def load_and_preprocess(path, label, img_size):
            raw = tf.io.read_file(path)
            image = $decode
            image = tf.image.resize(image, (img_size, img_size))
            $scale
            return image, label


        def augment(image, label):
            image = tf.image.random_flip_left_right(image)
            image = tf.image.random_brightness(image, max_delta=0.1)
            image = tf.clip_by_value(image, 0.0, 1.0)
            return image, label


        def make_dataset(paths, labels, img_size, batch_size, training=False):
            ds = tf.data.Dataset.from_tensor_slices((paths, labels))
            if training:
                ds = ds.shuffle(len(paths), reshuffle_each_iteration=True)
            ds = ds.map(lambda p, y: load_and_preprocess(p, y, img_size), num_parallel_calls=$A)
            if training:
                ds = ds.map(augment, num_parallel_calls=$A)
            return ds.batch(batch_size).prefetch($A)''', decode=decode, scale=scale, A=AUT)
    ctx.imp("from sklearn.model_selection import train_test_split")
    driver = T('''
        paths, labels, class_names = list_image_files($dd)
        train_paths, val_paths, train_labels, val_labels = train_test_split(
            paths, labels, test_size=$vs, stratify=labels, random_state=$seed
        )
        print(f"{len(train_paths)} training and {len(val_paths)} validation images")
        train_ds = make_dataset(train_paths, train_labels, $s, $bs, training=True)
        val_ds = make_dataset(val_paths, val_labels, $s, $bs)''', dd=h("data_dir"), vs=h("val_split"),
                 seed=h("seed"), s=h("img_size"), bs=h("batch_size"))
    ctx.facts.update(fit_train="train_ds", fit_val="validation_data=val_ds", eval_data="val_ds")
    return [Unit("data", "helper", helper, "Input pipeline", "A `tf.data` pipeline over the file paths."),
            Unit("data", "driver", driver)]


def k_data_builtin(ctx: Ctx) -> List[Unit]:
    name, ncls, size, ch = ctx.pick(BUILTIN_KERAS)
    K = ctx.facts["K"]
    ctx.hp["num_classes"] = ncls
    _builtin_theme(ctx, name)
    ctx.facts.update(labels="int", scaled=True, data_kind="arrays", input_shape=f"({size}, {size}, {ch})",
                     builtin=name)
    expand = "\nx_train = x_train[..., np.newaxis]\nx_test = x_test[..., np.newaxis]" if ch == 1 else ""
    squeeze = "\ny_train = y_train.flatten()\ny_test = y_test.flatten()" if name.startswith("cifar") else ""
    code = T('''
        (x_train, y_train), (x_test, y_test) = $K.datasets.$name.load_data()
        x_train = x_train.astype("float32") / 255.0
        x_test = x_test.astype("float32") / 255.0''', K=K, name=name) + expand + squeeze
    code += "\nprint(\"train:\", x_train.shape, \"test:\", x_test.shape)"
    ctx.facts.update(fit_train=f"x_train, y_train, batch_size={ctx.h('batch_size')}",
                     fit_val=ctx.pick([f"validation_split={ctx.h('val_split')}", "validation_data=(x_test, y_test)"]),
                     eval_data="x_test, y_test")
    if ctx.chance(0.6) or ctx.facts.get("want_tfdata"):
        AUT = "tf.data.AUTOTUNE"
        code += "\n\n" + T('''
            train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch($bs).prefetch($A)
            val_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch($bs)''', bs=ctx.h("batch_size"), A=AUT)
        ctx.facts["data_kind"] = "tfdata"
        ctx.facts.update(fit_train="train_ds", fit_val="validation_data=val_ds", eval_data="val_ds")
    return [Unit("data", "driver", code, f"Dataset: {name}", f"The built-in `{name}` dataset, scaled to [0, 1].")]


def k_data_sequence(ctx: Ctx) -> List[Unit]:
    ctx.imp("import os", "import cv2", "import math")
    K = ctx.facts["K"]
    ctx.facts.update(labels="categorical", scaled=True, data_kind="generator")
    cls = ctx.name("ImageSequence")
    helper = T('''
        class $cls($K.utils.Sequence):
            """Loads one batch of images from disk at a time."""

            def __init__(self, paths, labels, num_classes, batch_size=32, img_size=224, shuffle=True):
                super().__init__()
                self.paths = np.asarray(paths)
                self.labels = np.asarray(labels)
                self.num_classes = num_classes
                self.batch_size = batch_size
                self.img_size = img_size
                self.shuffle = shuffle
                self.indices = np.arange(len(self.paths))
                self.on_epoch_end()

            def __len__(self):
                return math.ceil(len(self.paths) / self.batch_size)

            def __getitem__(self, idx):
                batch = self.indices[idx * self.batch_size:(idx + 1) * self.batch_size]
                images = np.empty((len(batch), self.img_size, self.img_size, 3), dtype=np.float32)
                for i, j in enumerate(batch):
                    img = cv2.imread(self.paths[j])
                    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
                    img = cv2.resize(img, (self.img_size, self.img_size))
                    images[i] = img / 255.0
                targets = $K.utils.to_categorical(self.labels[batch], self.num_classes)
                return images, targets

            def on_epoch_end(self):
                if self.shuffle:
                    np.random.shuffle(self.indices)


        def collect_paths(root):
            classes = sorted(os.listdir(root))
            paths, labels = [], []
            for label, name in enumerate(classes):
                folder = os.path.join(root, name)
                for fname in sorted(os.listdir(folder)):
                    paths.append(os.path.join(folder, fname))
                    labels.append(label)
            return paths, labels''', cls=cls, K=K)
    h = ctx.h
    driver = T('''
        paths, labels = collect_paths($dd)
        rng = np.random.default_rng($seed)
        order = rng.permutation(len(paths))
        n_val = int(len(paths) * $vs)
        val_idx, train_idx = order[:n_val], order[n_val:]
        train_seq = $cls([paths[i] for i in train_idx], [labels[i] for i in train_idx], $nc,
                         batch_size=$bs, img_size=$s)
        val_seq = $cls([paths[i] for i in val_idx], [labels[i] for i in val_idx], $nc,
                       batch_size=$bs, img_size=$s, shuffle=False)''', dd=h("data_dir"), seed=h("seed"),
                 vs=h("val_split"), cls=cls, nc=h("num_classes"), bs=h("batch_size"), s=h("img_size"))
    ctx.facts.update(fit_train="train_seq", fit_val="validation_data=val_seq", eval_data="val_seq")
    return [Unit("data", "helper", helper, "A `Sequence` that reads batches lazily", ""),
            Unit("data", "driver", driver)]


def _image_loop_loader(ctx: Ctx, fn: str, torch_style: bool = False) -> str:
    """The CNL102 pattern: images read one by one into lists, then np.array."""
    reader = ctx.pick(["cv2", "cv2", "pil", "load_img"] if not torch_style else ["cv2", "pil"])
    if reader == "cv2":
        ctx.imp("import cv2")
        read = T('''
                    img = cv2.imread(path)
                    if img is None:
                        continue
                    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
                    img = cv2.resize(img, (img_size, img_size))''')
    elif reader == "pil":
        ctx.imp("from PIL import Image")
        read = T('''
                    img = Image.open(path).convert("RGB")
                    img = img.resize((img_size, img_size))
                    img = np.asarray(img)''')
    else:
        ctx.imp("from tensorflow.keras.preprocessing.image import load_img, img_to_array")
        read = T('''
                    img = load_img(path, target_size=(img_size, img_size))
                    img = img_to_array(img)''')
    ctx.imp("import os")
    read = indent(read, 12)
    return T('''
        def $fn(data_dir, img_size):
            """Read every image of every class folder."""
            images = []
            labels = []
            class_names = sorted(os.listdir(data_dir))
            for label, class_name in enumerate(class_names):
                class_dir = os.path.join(data_dir, class_name)
                for fname in os.listdir(class_dir):
                    path = os.path.join(class_dir, fname)
        $read
                    images.append(img)
                    labels.append(label)
            return np.array(images), np.array(labels), class_names''', fn=fn, read=read)


def k_data_arrays(ctx: Ctx) -> List[Unit]:
    """Planted CNL102: cv2.imread into a list, np.array, fit on the array."""
    ctx.imp("from sklearn.model_selection import train_test_split")
    K = ctx.facts["K"]
    fn = ctx.name(ctx.pick(["load_images", "load_dataset", "read_images", "load_data"]))
    helper = _image_loop_loader(ctx, fn)
    one_hot = ctx.chance(0.5)
    ctx.facts.update(labels="categorical" if one_hot else "int", scaled=True, data_kind="arrays")
    h = ctx.h
    driver = T('''
        X, y, class_names = $fn($dd, $s)
        print("Loaded", X.shape, "images")
        X = X.astype("float32") / 255.0''', fn=fn, dd=h("data_dir"), s=h("img_size"))
    if one_hot:
        driver += f"\ny = {K}.utils.to_categorical(y, num_classes={h('num_classes')})"
    driver += "\n" + T('''
        X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=$vs, random_state=$seed)''',
                       vs=h("val_split"), seed=h("seed"))
    ctx.facts.update(fit_train=f"X_train, y_train, batch_size={h('batch_size')}",
                     fit_val="validation_data=(X_val, y_val)", eval_data="X_val, y_val")
    return [Unit("data", "helper", helper, "Loading the images", "Read all images into memory."),
            Unit("data", "driver", driver)]


# ---------------------------------------------------------------- Keras models


def _k_conv_layers_seq(ctx: Ctx, stages: int, base: int) -> List[str]:
    out = []
    for s in range(stages):
        f = min(base * 2 ** s, 512)
        convs = ctx.rng.randint(1, 3)
        for _ in range(convs):
            act = ctx.pick(['activation="relu"', 'activation="relu"', 'activation="elu"', ""])
            init = ', kernel_initializer="he_normal"' if ctx.chance(0.3) else ""
            k = ctx.pick(["(3, 3)", "3", "(3, 3)", "(5, 5)" if s == 0 else "3"])
            sep = "," if act else ""
            out.append(f'layers.Conv2D({f}, {k}, padding="same"{sep} {act}{init})'.replace(",  ", ", ").replace(", )", ")"))
            if ctx.chance(0.6):
                out.append("layers.BatchNormalization()")
            if not act:
                out.append('layers.Activation("relu")')
        out.append(ctx.pick(["layers.MaxPooling2D((2, 2))", "layers.MaxPooling2D()", "layers.MaxPool2D(pool_size=2)"]))
        if ctx.chance(0.4):
            out.append(f"layers.Dropout({ctx.pick([0.1, 0.2, 0.25, 0.3])})")
    return out


def k_model_sequential(ctx: Ctx, rescale: bool) -> List[Unit]:
    fn = ctx.name(ctx.pick(["build_model", "create_model", "make_cnn", "build_cnn"]))
    stages = ctx.rng.randint(2, 5) if ctx.verbose else ctx.rng.randint(2, 3)
    base = ctx.pick([16, 32, 32, 64])
    layers_ = ["layers.Input(shape=input_shape)"]
    if rescale:
        layers_.append(ctx.pick(["layers.Rescaling(1.0 / 255)", "layers.Rescaling(1./255)"]))
    if ctx.chance(0.3) and ctx.verbose:
        layers_ += ['layers.RandomFlip("horizontal")', "layers.RandomRotation(0.1)", "layers.RandomZoom(0.1)"]
    layers_ += _k_conv_layers_seq(ctx, stages, base)
    layers_.append(ctx.pick(["layers.Flatten()", "layers.GlobalAveragePooling2D()"]))
    for _ in range(ctx.rng.randint(1, 2)):
        layers_.append(f'layers.Dense({ctx.pick([128, 256, 512])}, activation="relu")')
        layers_.append(f"layers.Dropout({ctx.pick([0.3, 0.4, 0.5])})")
    layers_.append('layers.Dense(num_classes, activation="softmax")')
    K = ctx.facts["K"]
    doc = f'    """{ctx.pick(["A plain VGG-style CNN.", "Convolutional network trained from scratch.", "Baseline CNN."])}"""\n' if ctx.verbose else ""
    if ctx.chance(0.5):
        body = "\n".join(f"        {l}," for l in layers_)
        code = f"def {fn}(input_shape, num_classes):\n{doc}    model = {K}.Sequential(\n        [\n{body}\n        ],\n        name={py_str(fn.replace('build_', '').replace('make_', '').replace('create_', ''))},\n    )\n    return model"
    else:
        body = "\n".join(f"    model.add({l})" for l in layers_)
        code = f"def {fn}(input_shape, num_classes):\n{doc}    model = {K}.Sequential()\n{body}\n    return model"
    ctx.facts["model_fn"] = fn
    return [Unit("model", "helper", code, "Model", "A convolutional network built from stacked conv blocks.")]


def k_model_resnet(ctx: Ctx, rescale: bool) -> List[Unit]:
    K = ctx.facts["K"]
    blk = ctx.name(ctx.pick(["residual_block", "res_block", "conv_block"]))
    fn = ctx.name(ctx.pick(["build_resnet", "build_model", "small_resnet"]))
    helper = T('''
        def $blk(x, filters, stride=1):
            """Two 3x3 convolutions with an identity (or projection) shortcut."""
            shortcut = x
            x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            if stride != 1 or shortcut.shape[-1] != filters:
                shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
                shortcut = layers.BatchNormalization()(shortcut)
            x = layers.Add()([x, shortcut])
            return layers.ReLU()(x)''', blk=blk)
    lines = ["inputs = $K.Input(shape=input_shape)"]
    src = "inputs"
    if rescale:
        lines.append("x = layers.Rescaling(1.0 / 255)(inputs)")
        src = "x"
    stem = ctx.pick([32, 64])
    lines += [f'x = layers.Conv2D({stem}, 7, strides=2, padding="same", use_bias=False)({src})',
              "x = layers.BatchNormalization()(x)", "x = layers.ReLU()(x)",
              'x = layers.MaxPooling2D(3, strides=2, padding="same")(x)']
    for s in range(ctx.rng.randint(2, 4)):
        f = stem * 2 ** s
        for b in range(ctx.rng.randint(1, 3)):
            stride = 2 if (b == 0 and s > 0) else 1
            lines.append(f"x = {blk}(x, {f}" + (f", stride={stride})" if stride != 1 else ")"))
    lines += ["x = layers.GlobalAveragePooling2D()(x)", f"x = layers.Dropout({ctx.pick([0.2, 0.3, 0.5])})(x)",
              'outputs = layers.Dense(num_classes, activation="softmax")(x)',
              f"return $K.Model(inputs, outputs, name={py_str(fn)})"]
    body = "\n".join("    " + l for l in lines).replace("$K", K)
    model = f'def {fn}(input_shape, num_classes):\n    """A small ResNet for {ctx.theme[0].replace("_", " ")} images."""\n{body}'
    ctx.facts["model_fn"] = fn
    return [Unit("model", "helper", helper + "\n\n\n" + model, "Model: a small ResNet", "Residual blocks with batch norm.")]


KERAS_APPS = [
    ("ResNet50", "resnet50", True), ("MobileNetV2", "mobilenet_v2", True), ("VGG16", "vgg16", True),
    ("InceptionV3", "inception_v3", True), ("DenseNet121", "densenet", True), ("Xception", "xception", True),
    ("EfficientNetB0", "efficientnet", False), ("EfficientNetB3", "efficientnet", False),
    ("ConvNeXtTiny", "convnext", False),
]


def k_model_transfer(ctx: Ctx) -> List[Unit]:
    K = ctx.facts["K"]
    arch, mod, needs_pre = ctx.pick(KERAS_APPS)
    fn = ctx.name(ctx.pick(["build_transfer_model", "build_model", "create_finetune_model"]))
    pre = f"    x = {K}.applications.{mod}.preprocess_input(inputs)\n" if needs_pre else \
        f"    x = inputs  # {arch} rescales its inputs itself\n"
    head = []
    for _ in range(ctx.rng.randint(0, 2)):
        head.append(f'    x = layers.Dense({ctx.pick([128, 256, 512, 1024])}, activation="relu")(x)')
        head.append(f"    x = layers.Dropout({ctx.pick([0.2, 0.3, 0.5])})(x)")
    code = (f"def {fn}(input_shape, num_classes, train_base=False):\n"
            f'    """{arch} pretrained on ImageNet with a new classification head."""\n'
            f"    base = {K}.applications.{arch}(include_top=False, weights=\"imagenet\", input_shape=input_shape)\n"
            "    base.trainable = train_base\n"
            f"    inputs = {K}.Input(shape=input_shape)\n" + pre +
            "    x = base(x, training=False)\n"
            "    x = layers.GlobalAveragePooling2D()(x)\n"
            + ("\n".join(head) + "\n" if head else "") +
            f'    outputs = layers.Dense(num_classes, activation="softmax")(x)\n'
            f"    return {K}.Model(inputs, outputs)")
    ctx.facts["model_fn"] = fn
    ctx.facts["transfer"] = arch
    return [Unit("model", "helper", code, f"Transfer learning with {arch}",
                 f"We start from `{arch}` weights and train a new head first.")]


# ---------------------------------------------------------------- Keras training


def _k_loss(ctx: Ctx, obj: bool = False) -> str:
    K = ctx.facts["K"]
    if ctx.facts["labels"] == "categorical":
        return f"{K}.losses.CategoricalCrossentropy()" if obj else '"categorical_crossentropy"'
    return f"{K}.losses.SparseCategoricalCrossentropy()" if obj else '"sparse_categorical_crossentropy"'


def _k_input_shape(ctx: Ctx) -> str:
    return ctx.facts.get("input_shape") or f"({ctx.h('img_size')}, {ctx.h('img_size')}, 3)"


def k_train_fit(ctx: Ctx) -> List[Unit]:
    K = ctx.facts["K"]
    h = ctx.h
    ctx.imp("import os")
    opt = ctx.pick([f"{K}.optimizers.Adam(learning_rate={h('lr')})", f"{K}.optimizers.Adam({h('lr')})",
                    f"{K}.optimizers.SGD(learning_rate={h('lr')}, momentum=0.9)",
                    f"{K}.optimizers.RMSprop(learning_rate={h('lr')})"])
    cbs = []
    ck = ctx.pick(["best_model.keras", "best_model.h5", "model_best.h5", "checkpoint.keras"])
    if ctx.chance(0.8):
        cbs.append(f'{K}.callbacks.ModelCheckpoint(os.path.join({h("output_dir")}, "{ck}"), monitor="val_accuracy", save_best_only=True)')
    if ctx.chance(0.7):
        cbs.append(f'{K}.callbacks.EarlyStopping(monitor="val_loss", patience={ctx.pick([3, 5, 8, 10])}, restore_best_weights=True)')
    if ctx.chance(0.5):
        cbs.append(f'{K}.callbacks.ReduceLROnPlateau(monitor="val_loss", factor={ctx.pick([0.1, 0.2, 0.5])}, patience=2, min_lr=1e-6)')
    if ctx.chance(0.3):
        cbs.append(f'{K}.callbacks.TensorBoard(log_dir="logs")')
    if ctx.chance(0.3):
        cbs.append(f'{K}.callbacks.CSVLogger("training_log.csv")')
    mf = ctx.facts["model_fn"]
    code = f"model = {mf}({_k_input_shape(ctx)}, {h('num_classes')})\n"
    if ctx.chance(0.6):
        code += "model.summary()\n"
    code += T('''
        model.compile(
            optimizer=$opt,
            loss=$loss,
            metrics=["accuracy"],
        )''', opt=opt, loss=_k_loss(ctx))
    code += f"\nos.makedirs({h('output_dir')}, exist_ok=True)"
    if cbs:
        code += "\ncallbacks = [\n" + "".join(f"    {c},\n" for c in cbs) + "]"
    code += ("\n" + ctx.maybe_comment(0.3) +
             f"history = model.fit(\n    {ctx.facts['fit_train']},\n    {ctx.facts['fit_val']},\n"
             f"    epochs={h('epochs')},\n" + ("    callbacks=callbacks,\n" if cbs else "") + ")")
    if ctx.facts.get("transfer") and ctx.chance(0.6):
        code += "\n\n" + T('''
            # second stage: unfreeze the backbone and fine-tune with a small learning rate
            for layer in model.layers:
                layer.trainable = True
            model.compile(optimizer=$K.optimizers.Adam(1e-5), loss=$loss, metrics=["accuracy"])
            history_ft = model.fit($tr, $va, epochs=$ep)''', K=K, loss=_k_loss(ctx),
                                       tr=ctx.facts["fit_train"], va=ctx.facts["fit_val"], ep=max(2, 5))
    ctx.facts["history"] = "history"
    return [Unit("train", "driver", code, "Training", "Compile and fit with the usual callbacks.")]


def k_train_custom(ctx: Ctx) -> List[Unit]:
    K = ctx.facts["K"]
    h = ctx.h
    mk = ctx.name("make_train_step")
    helper = T('''
        def $mk(model, optimizer, loss_fn, train_loss, train_acc):
            """Compile one optimisation step with tf.function."""

            @tf.function
            def train_step(images, labels):
                with tf.GradientTape() as tape:
                    predictions = model(images, training=True)
                    loss = loss_fn(labels, predictions)
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))
                train_loss.update_state(loss)
                train_acc.update_state(labels, predictions)
                return loss

            return train_step


        def evaluate_dataset(model, dataset, loss_fn, metric):
            """Mean loss and metric over a dataset."""
            metric.reset_state()
            losses = []
            for images, labels in dataset:
                predictions = model(images, training=False)
                losses.append(float(loss_fn(labels, predictions)))
                metric.update_state(labels, predictions)
            return float(np.mean(losses)), float(metric.result())''', mk=mk)
    acc = "CategoricalAccuracy" if ctx.facts["labels"] == "categorical" else "SparseCategoricalAccuracy"
    driver = T('''
        model = $mf($shape, $nc)
        optimizer = $K.optimizers.Adam(learning_rate=$lr)
        loss_fn = $loss
        train_loss = $K.metrics.Mean(name="train_loss")
        train_acc = $K.metrics.$acc(name="train_accuracy")
        val_metric = $K.metrics.$acc(name="val_accuracy")
        train_step = $mk(model, optimizer, loss_fn, train_loss, train_acc)
        history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        for epoch in range($ep):
            train_loss.reset_state()
            train_acc.reset_state()
            start = time.time()
            for step, (images, labels) in enumerate($ds):
                train_step(images, labels)
            val_loss, val_acc = evaluate_dataset(model, val_ds, loss_fn, val_metric)
            history["loss"].append(float(train_loss.result()))
            history["accuracy"].append(float(train_acc.result()))
            history["val_loss"].append(val_loss)
            history["val_accuracy"].append(val_acc)
            print(
                f"epoch {epoch + 1}: loss={train_loss.result():.4f} acc={train_acc.result():.4f} "
                f"val_loss={val_loss:.4f} val_acc={val_acc:.4f} ({time.time() - start:.1f}s)"
            )''', mf=ctx.facts["model_fn"], shape=_k_input_shape(ctx), nc=h("num_classes"), K=K, lr=h("lr"),
                 loss=_k_loss(ctx, obj=True), acc=acc, mk=mk, ep=h("epochs"), ds="train_ds")
    ctx.imp("import time")
    ctx.facts["history"] = "history_dict"
    return [Unit("train", "helper", helper, "Custom training loop", "A hand-written loop with `tf.GradientTape`."),
            Unit("train", "driver", driver)]


def k_train_accum(ctx: Ctx) -> List[Unit]:
    """TF gradient accumulation; planted CNL202 overwrites the accumulator."""
    K = ctx.facts["K"]
    h = ctx.h
    planted = "CNL202" in ctx.planted
    fn = ctx.name(ctx.pick(["train_with_accumulation", "fit_accumulated", "train_accumulate"]))
    if planted:
        variant = ctx.rng.randint(0, 1)
        if variant == 0:
            init = "gradients = None"
        else:
            init = "gradients = [tf.zeros_like(v) for v in model.trainable_variables]"
        inner = T('''
                    $init
                    for micro_step in range(accum_steps):
                        images, labels = next(iterator)
                        with tf.GradientTape() as tape:
                            predictions = model(images, training=True)
                            loss = loss_fn(labels, predictions) / accum_steps
                        gradients = tape.gradient(loss, model.trainable_variables)
                        epoch_loss += float(loss)
                    optimizer.apply_gradients(zip(gradients, model.trainable_variables))''', init=init)
    else:
        variant = ctx.rng.randint(0, 1)
        if variant == 0:
            inner = T('''
                    accumulated = [tf.zeros_like(v) for v in model.trainable_variables]
                    for micro_step in range(accum_steps):
                        images, labels = next(iterator)
                        with tf.GradientTape() as tape:
                            predictions = model(images, training=True)
                            loss = loss_fn(labels, predictions) / accum_steps
                        grads = tape.gradient(loss, model.trainable_variables)
                        accumulated = [acc + g for acc, g in zip(accumulated, grads)]
                        epoch_loss += float(loss)
                    optimizer.apply_gradients(zip(accumulated, model.trainable_variables))''')
        else:
            inner = T('''
                    accumulated = [tf.Variable(tf.zeros_like(v), trainable=False) for v in model.trainable_variables]
                    for micro_step in range(accum_steps):
                        images, labels = next(iterator)
                        with tf.GradientTape() as tape:
                            predictions = model(images, training=True)
                            loss = loss_fn(labels, predictions) / accum_steps
                        grads = tape.gradient(loss, model.trainable_variables)
                        for acc, g in zip(accumulated, grads):
                            acc.assign_add(g)
                        epoch_loss += float(loss)
                    optimizer.apply_gradients(zip([a.read_value() for a in accumulated], model.trainable_variables))''')
    inner = indent(inner, 12)
    helper = T('''
        def $fn(model, optimizer, loss_fn, dataset, accum_steps, epochs, steps_per_epoch):
            """Train with gradient accumulation: one update every `accum_steps` micro-batches.

            Lets us use an effective batch size that does not fit in GPU memory.
            """
            iterator = iter(dataset.repeat())
            history = []
            for epoch in range(epochs):
                epoch_loss = 0.0
                for step in range(steps_per_epoch):
        $inner
                history.append(epoch_loss / steps_per_epoch)
                print(f"epoch {epoch + 1}/{epochs} loss={history[-1]:.4f}")
            return history''', fn=fn, inner=inner)
    driver = T('''
        model = $mf($shape, $nc)
        optimizer = $K.optimizers.Adam(learning_rate=$lr)
        loss_fn = $loss
        steps_per_epoch = max(1, int(tf.data.experimental.cardinality(train_ds).numpy()) // $acc)
        history = $fn(model, optimizer, loss_fn, train_ds, $acc, $ep, steps_per_epoch)
        model.compile(optimizer=optimizer, loss=loss_fn, metrics=["accuracy"])''',
                 mf=ctx.facts["model_fn"], shape=_k_input_shape(ctx), nc=h("num_classes"), K=K, lr=h("lr"),
                 loss=_k_loss(ctx, obj=True), acc=h("accum_steps"), ep=h("epochs"), fn=fn)
    ctx.facts["history"] = "list"
    return [Unit("train", "helper", helper, "Training with gradient accumulation",
                 "The GPU only fits small batches, so gradients are accumulated over several micro-batches."),
            Unit("train", "driver", driver)]


def k_eval(ctx: Ctx) -> List[Unit]:
    units = []
    ed = ctx.facts["eval_data"]
    code = f"test_loss, test_acc = model.evaluate({ed}, verbose=0)\nprint(f\"accuracy: {{test_acc:.4f}}  loss: {{test_loss:.4f}}\")"
    if ctx.verbose and ctx.chance(0.7):
        ctx.imp("from sklearn.metrics import classification_report, confusion_matrix")
        if ctx.facts["data_kind"] == "arrays" and "X_val" in ed:
            yt = "y_val.argmax(axis=1)" if ctx.facts["labels"] == "categorical" else "y_val"
            pred = f"y_pred = model.predict(X_val).argmax(axis=1)\ny_true = {yt}"
        elif ed == "val_generator":
            pred = "y_pred = model.predict(val_generator).argmax(axis=1)\ny_true = val_generator.classes"
        elif ed == "val_seq":
            pred = "y_pred = model.predict(val_seq).argmax(axis=1)\ny_true = np.asarray(val_seq.labels)"
        elif "x_test" in ed:
            pred = "y_pred = model.predict(x_test).argmax(axis=1)\ny_true = y_test"
        else:
            pred = ("y_true = np.concatenate([y.numpy() for _, y in val_ds])\n"
                    "y_pred = model.predict(val_ds).argmax(axis=1)")
            if ctx.facts["labels"] == "categorical":
                pred = pred.replace("y.numpy()", "y.numpy().argmax(axis=1)")
        code += "\n\n" + pred + "\nprint(classification_report(y_true, y_pred, digits=3))\ncm = confusion_matrix(y_true, y_pred)"
        ctx.facts["has_cm"] = True
    if ctx.chance(0.5):
        ctx.imp("import os")
        code += "\n" + f"model.save(os.path.join({ctx.h('output_dir')}, {py_str(ctx.pick(['final_model.keras', 'model.h5', 'cnn.keras']))}))"
    units.append(Unit("eval", "driver", code, "Evaluation", "Accuracy and per-class scores on the held-out split."))
    return units


# =========================================================================== PyTorch

IMAGENET_NORM = "transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])"


def _torch_imports(ctx: Ctx) -> None:
    ctx.imp("import numpy as np", "import torch", "import torch.nn as nn")
    if ctx.chance(0.6):
        ctx.imp("import torch.nn.functional as F")
        ctx.facts["F"] = True
    ctx.facts["optim"] = ctx.pick(["optim", "torch.optim"])
    if ctx.facts["optim"] == "optim":
        ctx.imp("import torch.optim as optim")
    ctx.imp("from torch.utils.data import DataLoader")


def _t_transforms(ctx: Ctx, train: bool, planted: bool) -> str:
    s = ctx.h("img_size")
    if planted:
        items = [f"transforms.Resize(({s}, {s}))"]
        if train:
            items.append("transforms.RandomHorizontalFlip()")
        items.append("transforms.PILToTensor()")
        return "transforms.Compose([\n" + "".join(f"    {i},\n" for i in items) + "])"
    if ctx.facts.get("tv2"):
        items = ["v2.ToImage()", f"v2.Resize(({s}, {s}), antialias=True)"]
        if train:
            items += ctx.rng.sample(["v2.RandomHorizontalFlip()", "v2.RandomRotation(15)",
                                     "v2.ColorJitter(brightness=0.2, contrast=0.2)",
                                     f"v2.RandomResizedCrop({s}, scale=(0.8, 1.0), antialias=True)"], ctx.rng.randint(1, 3))
        items += ["v2.ToDtype(torch.float32, scale=True)",
                  "v2.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])"]
        return "v2.Compose([\n" + "".join(f"    {i},\n" for i in items) + "])"
    items = []
    if train:
        items.append(ctx.pick([f"transforms.RandomResizedCrop({s})", f"transforms.Resize(({s}, {s}))"]))
        items += ctx.rng.sample(["transforms.RandomHorizontalFlip()", "transforms.RandomRotation(10)",
                                 "transforms.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2)",
                                 "transforms.RandomVerticalFlip(p=0.1)"], ctx.rng.randint(0, 3))
    else:
        items.append(f"transforms.Resize(({s}, {s}))")
    items.append("transforms.ToTensor()")
    if ctx.chance(0.8):
        items.append(ctx.pick([IMAGENET_NORM, "transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))"]))
    return "transforms.Compose([\n" + "".join(f"    {i},\n" for i in items) + "])"


def _t_loaders(ctx: Ctx, train_ds: str, val_ds: str) -> str:
    h = ctx.h
    pin = ", pin_memory=True" if ctx.chance(0.5) else ""
    return T('''
        train_loader = DataLoader($tr, batch_size=$bs, shuffle=True, num_workers=$nw$pin)
        val_loader = DataLoader($va, batch_size=$bs, shuffle=False, num_workers=$nw$pin)''',
             tr=train_ds, va=val_ds, bs=h("batch_size"), nw=h("num_workers"), pin=pin)


def t_data_imagefolder(ctx: Ctx) -> List[Unit]:
    planted = "CNL101" in ctx.planted
    ctx.imp("from torchvision import datasets, transforms")
    if not planted and ctx.chance(0.25):
        ctx.facts["tv2"] = True
        ctx.imp("from torchvision.transforms import v2")
    h = ctx.h
    ctx.imp("import os")
    code = ctx.maybe_comment(0.3)
    code += "train_transform = " + _t_transforms(ctx, True, planted) + "\n"
    code += "val_transform = " + _t_transforms(ctx, False, planted) + "\n\n"
    if ctx.chance(0.5):
        code += T('''
            train_dataset = datasets.ImageFolder(os.path.join($dd, "train"), transform=train_transform)
            val_dataset = datasets.ImageFolder(os.path.join($dd, "val"), transform=val_transform)''', dd=h("data_dir"))
    else:
        ctx.imp("from torch.utils.data import Subset")
        code += T('''
            full_dataset = datasets.ImageFolder($dd)
            n_val = int(len(full_dataset) * $vs)
            generator = torch.Generator().manual_seed($seed)
            indices = torch.randperm(len(full_dataset), generator=generator).tolist()
            train_dataset = Subset(datasets.ImageFolder($dd, transform=train_transform), indices[n_val:])
            val_dataset = Subset(datasets.ImageFolder($dd, transform=val_transform), indices[:n_val])''',
                  dd=h("data_dir"), vs=h("val_split"), seed=h("seed"))
    code += "\n" + _t_loaders(ctx, "train_dataset", "val_dataset")
    code += '\nprint(f"train: {len(train_dataset)} images, val: {len(val_dataset)} images")'
    return [Unit("data", "driver", code, "Datasets and loaders", "`ImageFolder` reads the class folders lazily.")]


def t_data_builtin(ctx: Ctx) -> List[Unit]:
    name, ncls, size = ctx.pick(BUILTIN_TORCH)
    ctx.hp["num_classes"] = ncls
    _builtin_theme(ctx, name)
    ctx.imp("from torchvision import datasets, transforms")
    gray = name in ("MNIST", "FashionMNIST")
    norm = "transforms.Normalize((0.1307,), (0.3081,))" if gray else \
        "transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))"
    aug = "" if gray else "    transforms.RandomCrop(32, padding=4),\n    transforms.RandomHorizontalFlip(),\n"
    ctx.facts["in_channels"] = 1 if gray else 3
    ctx.facts["builtin"] = name
    split = ', split="train"' if name == "SVHN" else ", train=True"
    split_t = ', split="test"' if name == "SVHN" else ", train=False"
    code = T('''
        train_transform = transforms.Compose([
        $aug    transforms.ToTensor(),
            $norm,
        ])
        test_transform = transforms.Compose([transforms.ToTensor(), $norm])
        train_dataset = datasets.$name(root="./data"$split, download=True, transform=train_transform)
        val_dataset = datasets.$name(root="./data"$split_t, download=True, transform=test_transform)''',
             aug=aug, norm=norm, name=name, split=split, split_t=split_t)
    code = code.replace("transforms.Compose([\n        ", "transforms.Compose([\n")
    code += "\n" + _t_loaders(ctx, "train_dataset", "val_dataset")
    return [Unit("data", "driver", code, f"{name}", f"torchvision's `{name}` with the usual normalisation.")]


def t_data_custom(ctx: Ctx) -> List[Unit]:
    ctx.imp("import os", "from torch.utils.data import Dataset", "from torchvision import transforms")
    cls = ctx.name(ctx.pick(["ImageDataset", "FolderDataset", "CustomImageDataset", "LeafDataset"]))
    reader = ctx.pick(["pil", "cv2"])
    if reader == "pil":
        ctx.imp("from PIL import Image")
        load = 'image = Image.open(path).convert("RGB")'
    else:
        ctx.imp("import cv2", "from PIL import Image")
        load = "image = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)\n    image = Image.fromarray(image)"
    use_csv = ctx.chance(0.4)
    if use_csv:
        ctx.imp("import pandas as pd")
        init = T('''
                def __init__(self, csv_file, image_dir, transform=None):
                    self.df = pd.read_csv(csv_file)
                    self.image_dir = image_dir
                    self.transform = transform
                    self.classes = sorted(self.df["label"].unique())
                    self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

                def __len__(self):
                    return len(self.df)

                def __getitem__(self, idx):
                    row = self.df.iloc[idx]
                    path = os.path.join(self.image_dir, row["image"])
                    $load
                    label = self.class_to_idx[row["label"]]
                    if self.transform is not None:
                        image = self.transform(image)
                    return image, label''', load=load)
    else:
        init = T('''
                def __init__(self, root, transform=None, extensions=(".jpg", ".jpeg", ".png")):
                    self.root = root
                    self.transform = transform
                    self.classes = sorted(d.name for d in os.scandir(root) if d.is_dir())
                    self.samples = []
                    for label, name in enumerate(self.classes):
                        for dirpath, _, files in os.walk(os.path.join(root, name)):
                            for fname in sorted(files):
                                if fname.lower().endswith(extensions):
                                    self.samples.append((os.path.join(dirpath, fname), label))

                def __len__(self):
                    return len(self.samples)

                def __getitem__(self, idx):
                    path, label = self.samples[idx]
                    $load
                    if self.transform is not None:
                        image = self.transform(image)
                    return image, label''', load=load)
    helper = f'class {cls}(Dataset):\n    """Images are loaded lazily in __getitem__."""\n\n' + indent(init)
    h = ctx.h
    code = "train_transform = " + _t_transforms(ctx, True, False) + "\n"
    code += "val_transform = " + _t_transforms(ctx, False, False) + "\n"
    if use_csv:
        code += T('''
            train_dataset = $cls(os.path.join($dd, "train.csv"), os.path.join($dd, "images"), transform=train_transform)
            val_dataset = $cls(os.path.join($dd, "val.csv"), os.path.join($dd, "images"), transform=val_transform)''',
                  cls=cls, dd=h("data_dir"))
    else:
        code += T('''
            train_dataset = $cls(os.path.join($dd, "train"), transform=train_transform)
            val_dataset = $cls(os.path.join($dd, "valid"), transform=val_transform)''', cls=cls, dd=h("data_dir"))
    code += "\n" + _t_loaders(ctx, "train_dataset", "val_dataset")
    return [Unit("data", "helper", helper, "A custom `Dataset`", "Each item is read from disk on demand."),
            Unit("data", "driver", code)]


def t_data_arrays(ctx: Ctx) -> List[Unit]:
    """Planted CNL102 (PyTorch flavour): arrays -> TensorDataset."""
    ctx.imp("from torch.utils.data import TensorDataset", "from sklearn.model_selection import train_test_split")
    fn = ctx.name(ctx.pick(["load_images", "load_dataset", "read_all_images"]))
    helper = _image_loop_loader(ctx, fn, torch_style=True)
    h = ctx.h
    stack = ctx.pick(["torch.tensor(X_train, dtype=torch.float32)", "torch.from_numpy(X_train).float()"])
    code = T('''
        X, y, class_names = $fn($dd, $s)
        X = X.astype("float32") / 255.0
        X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=$vs, random_state=$seed)
        train_dataset = TensorDataset($st.permute(0, 3, 1, 2), torch.from_numpy(y_train).long())
        val_dataset = TensorDataset(torch.from_numpy(X_val).float().permute(0, 3, 1, 2), torch.from_numpy(y_val).long())''',
             fn=fn, dd=h("data_dir"), s=h("img_size"), vs=h("val_split"), seed=h("seed"), st=stack)
    code += "\n" + _t_loaders(ctx, "train_dataset", "val_dataset")
    return [Unit("data", "helper", helper, "Loading the data", "All images are read into a NumPy array."),
            Unit("data", "driver", code)]


# ---------------------------------------------------------------- PyTorch models


def t_model_cnn(ctx: Ctx) -> List[Unit]:
    cls = ctx.name(ctx.pick(["SimpleCNN", "Net", "ConvNet", "CNN", "ClassifierCNN"]))
    stages = ctx.rng.randint(2, 5) if ctx.verbose else ctx.rng.randint(2, 3)
    cin = ctx.facts.get("in_channels", 3)
    base = ctx.pick([16, 32, 32, 64])
    init, fwd = [], []
    prev = cin
    n = 0
    relu = "F.relu" if ctx.facts.get("F") else "torch.relu"
    for s in range(stages):
        f = min(base * 2 ** s, 512)
        for _ in range(ctx.rng.randint(1, 2)):
            n += 1
            init.append(f"self.conv{n} = nn.Conv2d({prev}, {f}, kernel_size=3, padding=1)")
            bn = ctx.chance(0.7)
            if bn:
                init.append(f"self.bn{n} = nn.BatchNorm2d({f})")
                fwd.append(f"x = {relu}(self.bn{n}(self.conv{n}(x)))")
            else:
                fwd.append(f"x = {relu}(self.conv{n}(x))")
            prev = f
        fwd.append("x = self.pool(x)")
    init.append("self.pool = nn.MaxPool2d(2, 2)")
    init.append("self.gap = nn.AdaptiveAvgPool2d(1)")
    hidden = ctx.pick([128, 256, 512])
    init.append("self.dropout = nn.Dropout(dropout)")
    init.append(f"self.fc1 = nn.Linear({prev}, {hidden})")
    init.append(f"self.fc2 = nn.Linear({hidden}, num_classes)")
    fwd += ["x = self.gap(x)", "x = torch.flatten(x, 1)", f"x = self.dropout({relu}(self.fc1(x)))", "return self.fc2(x)"]
    doc = '    """' + ctx.pick(["A small CNN trained from scratch.", "VGG-like convolutional classifier.",
                                "Baseline convolutional network."]) + '"""\n\n' if ctx.verbose else ""
    code = (f"class {cls}(nn.Module):\n{doc}    def __init__(self, num_classes={ctx.h('num_classes') if ctx.cfg_style == 'const' else 10}, dropout={ctx.pick([0.25, 0.3, 0.5])}):\n"
            f"        super().__init__()\n" + "\n".join("        " + l for l in init) +
            "\n\n    def forward(self, x):\n" + "\n".join("        " + l for l in fwd))
    ctx.facts["model_ctor"] = f"{cls}(num_classes={ctx.h('num_classes')})"
    return [Unit("model", "helper", code, "Model", "A convolutional network defined layer by layer.")]


def t_model_sequential(ctx: Ctx) -> List[Unit]:
    cls = ctx.name(ctx.pick(["ConvClassifier", "VGGStyle", "DeepCNN"]))
    cin = ctx.facts.get("in_channels", 3)
    feats = []
    prev = cin
    for s in range(ctx.rng.randint(2, 5)):
        f = min(ctx.pick([32, 64]) * 2 ** s, 512)
        for _ in range(ctx.rng.randint(1, 3)):
            feats.append(f"nn.Conv2d({prev}, {f}, kernel_size=3, padding=1, bias=False)")
            feats.append(f"nn.BatchNorm2d({f})")
            feats.append("nn.ReLU(inplace=True)")
            prev = f
        feats.append("nn.MaxPool2d(kernel_size=2, stride=2)")
    hidden = ctx.pick([256, 512])
    code = (f"class {cls}(nn.Module):\n"
            f'    """Conv feature extractor followed by an MLP head."""\n\n'
            f"    def __init__(self, num_classes, in_channels={cin}):\n        super().__init__()\n"
            f"        self.features = nn.Sequential(\n" + "".join(f"            {l},\n" for l in feats) +
            f"        )\n        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))\n"
            f"        self.classifier = nn.Sequential(\n            nn.Flatten(),\n            nn.Linear({prev}, {hidden}),\n"
            f"            nn.ReLU(inplace=True),\n            nn.Dropout(p=0.5),\n            nn.Linear({hidden}, num_classes),\n        )\n\n"
            f"    def forward(self, x):\n        x = self.features(x)\n        x = self.avgpool(x)\n        return self.classifier(x)")
    ctx.facts["model_ctor"] = f"{cls}({ctx.h('num_classes')})"
    return [Unit("model", "helper", code, "Network", "")]


def t_model_resnet(ctx: Ctx) -> List[Unit]:
    blk = ctx.name("BasicBlock")
    net = ctx.name(ctx.pick(["ResNet", "SmallResNet", "ResNetClassifier"]))
    cin = ctx.facts.get("in_channels", 3)
    layers_ = [ctx.rng.randint(1, 3) for _ in range(ctx.rng.randint(3, 4))]
    chans = [64, 128, 256, 512][:len(layers_)]
    mk = "\n".join(f"        self.layer{i + 1} = self._make_layer({c}, {n}, stride={1 if i == 0 else 2})"
                   for i, (c, n) in enumerate(zip(chans, layers_)))
    fwd = "\n".join(f"        out = self.layer{i + 1}(out)" for i in range(len(layers_)))
    relu = "F.relu" if ctx.facts.get("F") else "torch.relu"
    code = T('''
        class $blk(nn.Module):
            expansion = 1

            def __init__(self, in_planes, planes, stride=1):
                super().__init__()
                self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
                self.bn1 = nn.BatchNorm2d(planes)
                self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
                self.bn2 = nn.BatchNorm2d(planes)
                self.shortcut = nn.Sequential()
                if stride != 1 or in_planes != planes:
                    self.shortcut = nn.Sequential(
                        nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                        nn.BatchNorm2d(planes),
                    )

            def forward(self, x):
                out = $relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                out = out + self.shortcut(x)
                return $relu(out)


        class $net(nn.Module):
            """ResNet-style classifier ($cfg blocks per stage)."""

            def __init__(self, num_classes=10, in_channels=$cin):
                super().__init__()
                self.in_planes = 64
                self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
                self.bn1 = nn.BatchNorm2d(64)
        $mk
                self.pool = nn.AdaptiveAvgPool2d(1)
                self.fc = nn.Linear($last, num_classes)

            def _make_layer(self, planes, num_blocks, stride):
                strides = [stride] + [1] * (num_blocks - 1)
                blocks = []
                for s in strides:
                    blocks.append($blk(self.in_planes, planes, s))
                    self.in_planes = planes
                return nn.Sequential(*blocks)

            def forward(self, x):
                out = $relu(self.bn1(self.conv1(x)))
        $fwd
                out = self.pool(out)
                out = torch.flatten(out, 1)
                return self.fc(out)''', blk=blk, net=net, cfg=str(layers_), cin=cin, mk=mk, fwd=fwd,
             last=chans[-1], relu=relu)
    ctx.facts["model_ctor"] = f"{net}(num_classes={ctx.h('num_classes')})"
    return [Unit("model", "helper", code, "ResNet", "A compact residual network.")]


TV_MODELS = [
    ("resnet18", "ResNet18_Weights.DEFAULT", "fc", "model.fc = nn.Linear(model.fc.in_features, num_classes)"),
    ("resnet50", "ResNet50_Weights.IMAGENET1K_V2", "fc", "model.fc = nn.Linear(model.fc.in_features, num_classes)"),
    ("resnet34", "ResNet34_Weights.DEFAULT", "fc",
     "model.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(model.fc.in_features, num_classes))"),
    ("efficientnet_b0", "EfficientNet_B0_Weights.DEFAULT", "classifier",
     "model.classifier[1] = nn.Linear(model.classifier[1].in_features, num_classes)"),
    ("mobilenet_v3_small", "MobileNet_V3_Small_Weights.DEFAULT", "classifier",
     "model.classifier[3] = nn.Linear(model.classifier[3].in_features, num_classes)"),
    ("densenet121", "DenseNet121_Weights.DEFAULT", "classifier",
     "model.classifier = nn.Linear(model.classifier.in_features, num_classes)"),
    ("vgg16_bn", "VGG16_BN_Weights.DEFAULT", "classifier",
     "model.classifier[6] = nn.Linear(model.classifier[6].in_features, num_classes)"),
]


def t_model_pretrained(ctx: Ctx) -> List[Unit]:
    arch, weights, head, repl = ctx.pick(TV_MODELS)
    ctx.imp("from torchvision import models")
    fn = ctx.name(ctx.pick(["build_model", "create_model", "get_model"]))
    freeze = ctx.chance(0.5)
    code = (f"def {fn}(num_classes, pretrained=True, freeze_backbone={freeze}):\n"
            f'    """torchvision {arch} with a new classification layer."""\n'
            f"    weights = models.{weights} if pretrained else None\n"
            f"    model = models.{arch}(weights=weights)\n"
            f"    if freeze_backbone:\n        for param in model.parameters():\n            param.requires_grad = False\n"
            f"    {repl}\n    return model")
    ctx.facts["model_ctor"] = f"{fn}({ctx.h('num_classes')})"
    ctx.facts["transfer"] = arch
    return [Unit("model", "helper", code, f"Pretrained {arch}", "Fine-tuning an ImageNet backbone.")]


# ---------------------------------------------------------------- PyTorch training


def _t_zero(ctx: Ctx, opt: str) -> str:
    return ctx.pick([f"{opt}.zero_grad()", f"{opt}.zero_grad(set_to_none=True)", f"{opt}.zero_grad()",
                     "model.zero_grad()"])


def t_train(ctx: Ctx) -> List[Unit]:
    planted = "CNL201" in ctx.planted
    h = ctx.h
    opt = ctx.pick(["optimizer", "optimizer", "opt"])
    crit = ctx.pick(["criterion", "criterion", "loss_fn"])
    variant = ctx.pick(["plain", "plain", "amp", "accum"] if not planted else ["plain", "plain", "amp"])
    if variant == "accum":
        ctx.facts["needs_accum"] = True
    fn = ctx.name(ctx.pick(["train_one_epoch", "train_epoch", "train"]))
    ev = ctx.name(ctx.pick(["evaluate", "validate", "eval_epoch"]))
    zero = _t_zero(ctx, opt)
    where = ctx.pick(["top", "top", "before_backward", "after_step"])
    tq = ctx.chance(0.4)
    if tq:
        ctx.imp("from tqdm import tqdm")
    it = 'enumerate(tqdm(loader, desc=f"epoch {epoch}", leave=False))' if tq else "enumerate(loader)"
    extra_params = ", scaler=None" if variant == "amp" else (", accum_steps=1" if variant == "accum" else "")
    lines = ["model.train()", "running_loss = 0.0", "correct = 0", "total = 0",
             f"for step, (images, targets) in {it}:",
             "    images = images.to(device, non_blocking=True)",
             "    targets = targets.to(device, non_blocking=True)"]
    body = []
    if variant == "plain":
        if where == "top" and not planted:
            body.append(zero)
        body += ["outputs = model(images)", f"loss = {crit}(outputs, targets)"]
        if where == "before_backward" and not planted:
            body.append(zero)
        body += ["loss.backward()"]
        if ctx.chance(0.3):
            body.append("torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)")
        body += [f"{opt}.step()"]
        if where == "after_step" and not planted:
            body.append(zero)
    elif variant == "amp":
        if where in ("top", "before_backward") and not planted:
            body.append(zero)
        body += ['with torch.autocast(device_type=device.type, enabled=scaler is not None):',
                 "    outputs = model(images)", f"    loss = {crit}(outputs, targets)",
                 "if scaler is not None:", "    scaler.scale(loss).backward()", f"    scaler.step({opt})",
                 "    scaler.update()", "else:", "    loss.backward()", f"    {opt}.step()"]
        if where == "after_step" and not planted:
            body.append(zero)
    else:  # accum, always clean
        body += ["outputs = model(images)", f"loss = {crit}(outputs, targets) / accum_steps", "loss.backward()",
                 "if (step + 1) % accum_steps == 0 or step + 1 == len(loader):",
                 f"    {opt}.step()", f"    {zero}"]
    body += ["running_loss += loss.item() * images.size(0)", "_, predicted = outputs.max(1)",
             "total += targets.size(0)", "correct += predicted.eq(targets).sum().item()"]
    if ctx.verbose and ctx.chance(0.5):
        body += ["if step % log_interval == 0:",
                 '    print(f"  [{step}/{len(loader)}] loss={loss.item():.4f}")']
        extra_params += ", log_interval=50"
    lines += ["    " + b for b in body]
    lines.append("return running_loss / total, correct / total")
    if variant == "accum":
        lines.insert(4, zero)
    doc = '    """One pass over the training set; returns (loss, accuracy)."""\n' if ctx.verbose else ""
    train_fn = f"def {fn}(model, loader, {crit}, {opt}, device, epoch{extra_params}):\n{doc}" + "\n".join("    " + l for l in lines)
    eval_fn = T('''
        @torch.no_grad()
        def $ev(model, loader, $crit, device):
            """Average loss and accuracy on a validation loader."""
            model.eval()
            total_loss, correct, total = 0.0, 0, 0
            for images, targets in loader:
                images, targets = images.to(device), targets.to(device)
                outputs = model(images)
                total_loss += $crit(outputs, targets).item() * images.size(0)
                correct += (outputs.argmax(dim=1) == targets).sum().item()
                total += targets.size(0)
            return total_loss / total, correct / total''', ev=ev, crit=crit)
    # driver
    O = ctx.facts["optim"]
    optc = ctx.pick([f"{O}.Adam(model.parameters(), lr={h('lr')})",
                     f"{O}.AdamW(model.parameters(), lr={h('lr')}, weight_decay={h('weight_decay')})",
                     f"{O}.SGD(model.parameters(), lr={h('lr')}, momentum=0.9, weight_decay={h('weight_decay')})"])
    ls = ctx.pick(["nn.CrossEntropyLoss()", "nn.CrossEntropyLoss(label_smoothing=0.1)", "nn.CrossEntropyLoss()"])
    sched = ctx.pick([f"{O}.lr_scheduler.CosineAnnealingLR({opt}, T_max={h('epochs')})",
                      f"{O}.lr_scheduler.StepLR({opt}, step_size=7, gamma=0.1)",
                      f'{O}.lr_scheduler.ReduceLROnPlateau({opt}, mode="max", factor=0.5, patience=2)', ""])
    ctx.imp("import os")
    drv = [ctx.pick(['device = torch.device("cuda" if torch.cuda.is_available() else "cpu")',
                     'device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")']),
           f"model = {ctx.facts['model_ctor']}.to(device)", f"{crit} = {ls}", f"{opt} = {optc}"]
    if sched:
        drv.append(f"scheduler = {sched}")
    if variant == "amp":
        drv.append('scaler = torch.cuda.amp.GradScaler() if device.type == "cuda" else None')
    drv += [f"os.makedirs({h('output_dir')}, exist_ok=True)", "best_acc = 0.0",
            'history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}']
    extra_args = ", scaler=scaler" if variant == "amp" else (f", accum_steps={h('accum_steps')}" if variant == "accum" else "")
    inline = planted and ctx.chance(0.4) or (not planted and variant == "plain" and ctx.chance(0.15))
    loop = [f"for epoch in range(1, {h('epochs')} + 1):"]
    if inline:
        # training loop written inline in the driver instead of calling the helper
        inner = ["model.train()", "running_loss = 0.0"]
        inner.append("for images, targets in train_loader:")
        ib = ["images, targets = images.to(device), targets.to(device)"]
        if not planted:
            ib.append(zero)
        ib += ["outputs = model(images)", f"loss = {crit}(outputs, targets)", "loss.backward()", f"{opt}.step()",
               "running_loss += loss.item()"]
        inner += ["    " + b for b in ib]
        inner += ["train_loss = running_loss / len(train_loader)", "train_acc = float('nan')"]
        loop += ["    " + l for l in inner]
        train_fn = ""
    else:
        loop.append(f"    train_loss, train_acc = {fn}(model, train_loader, {crit}, {opt}, device, epoch{extra_args})")
    loop.append(f"    val_loss, val_acc = {ev}(model, val_loader, {crit}, device)")
    if sched:
        loop.append("    scheduler.step(val_acc)" if "Plateau" in sched else "    scheduler.step()")
    loop += ['    history["train_loss"].append(train_loss)', '    history["train_acc"].append(train_acc)',
             '    history["val_loss"].append(val_loss)', '    history["val_acc"].append(val_acc)',
             '    print(f"epoch {epoch}: train_loss={train_loss:.4f} val_loss={val_loss:.4f} val_acc={val_acc:.4f}")',
             "    if val_acc > best_acc:", "        best_acc = val_acc",
             f'        torch.save(model.state_dict(), os.path.join({h("output_dir")}, {py_str(ctx.pick(["best.pt", "best_model.pth", "model_best.pt"]))}))']
    if ctx.chance(0.2):
        loop = [ctx.comment()] + loop
    driver = "\n".join(drv + loop)
    ctx.facts.update(opt=opt, crit=crit, eval_fn=ev)
    units = []
    helpers = "\n\n\n".join(x for x in (train_fn, eval_fn) if x)
    units.append(Unit("train", "helper", helpers, "Training and validation", "One function per epoch phase."))
    units.append(Unit("train", "driver", driver, "", ""))
    return units


def t_eval(ctx: Ctx) -> List[Unit]:
    ctx.imp("from sklearn.metrics import classification_report, confusion_matrix")
    fn = ctx.name(ctx.pick(["predict_all", "get_predictions", "collect_predictions"]))
    helper = T('''
        @torch.no_grad()
        def $fn(model, loader, device):
            """Predicted and true labels for every sample of a loader."""
            model.eval()
            preds, labels = [], []
            for images, targets in loader:
                outputs = model(images.to(device))
                preds.append(outputs.argmax(dim=1).cpu())
                labels.append(targets)
            return torch.cat(preds).numpy(), torch.cat(labels).numpy()''', fn=fn)
    ck = ctx.h("output_dir")
    driver = (ctx.maybe_comment(0.3) +
              T('''
                  model.load_state_dict(torch.load(os.path.join($ck, $name), map_location=device))
                  y_pred, y_true = $fn(model, val_loader, device)
                  print(classification_report(y_true, y_pred, digits=4))
                  cm = confusion_matrix(y_true, y_pred)
                  print("best validation accuracy:", best_acc)''', ck=ck, fn=fn,
                name=py_str(ctx.pick(["best.pt", "best_model.pth", "model_best.pt"]))))
    ctx.facts["has_cm"] = True
    return [Unit("eval", "helper", helper, "Evaluation", "Classification report on the validation split."),
            Unit("eval", "driver", driver)]


# =========================================================================== filler building blocks
# Each returns (phase, code) for a helper definition.  None of them contains a
# founding defect.


def f_seed(ctx: Ctx):
    fn = ctx.name(ctx.pick(["seed_everything", "set_seed", "fix_seeds"]))
    ctx.imp("import os", "import random", "import numpy as np")
    if ctx.framework == "torch":
        ctx.imp("import torch")
        extra = T('''
            torch.manual_seed(seed)
            torch.cuda.manual_seed_all(seed)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False''')
    else:
        ctx.imp("import tensorflow as tf")
        extra = "tf.random.set_seed(seed)\nos.environ[\"TF_DETERMINISTIC_OPS\"] = \"1\""
    return "utils", (f'def {fn}(seed: int = 42) -> None:\n    """Seed every random number generator we use."""\n'
                     f'    random.seed(seed)\n    np.random.seed(seed)\n    os.environ["PYTHONHASHSEED"] = str(seed)\n'
                     + indent(extra))


def f_logging(ctx: Ctx):
    ctx.imp("import logging", "import sys")
    fn = ctx.name("setup_logging")
    return "utils", T('''
        def $fn(log_file=None, level=logging.INFO):
            """Log to stdout and, optionally, to a file."""
            handlers = [logging.StreamHandler(sys.stdout)]
            if log_file:
                handlers.append(logging.FileHandler(log_file))
            logging.basicConfig(
                level=level,
                format="%(asctime)s %(levelname)-8s %(name)s: %(message)s",
                datefmt="%H:%M:%S",
                handlers=handlers,
            )
            return logging.getLogger("train")''', fn=fn)


def f_timer(ctx: Ctx):
    ctx.imp("import time", "from contextlib import contextmanager")
    fn = ctx.name("timer")
    return "utils", T('''
        @contextmanager
        def $fn(name="block"):
            """Print how long the enclosed block took."""
            start = time.perf_counter()
            try:
                yield
            finally:
                elapsed = time.perf_counter() - start
                print(f"[{name}] {elapsed:.2f}s")''', fn=fn)


def f_json(ctx: Ctx):
    ctx.imp("import json", "import os")
    a, b = ctx.name("save_json"), ctx.name("load_json")
    return "utils", T('''
        def $a(obj, path):
            """Write an object as pretty JSON, creating the folder if needed."""
            folder = os.path.dirname(path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(obj, fh, indent=2, sort_keys=True, default=str)


        def $b(path, default=None):
            if not os.path.exists(path):
                return default
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)''', a=a, b=b)


def f_average_meter(ctx: Ctx):
    cls = ctx.name("AverageMeter")
    return "utils", T('''
        class $cls:
            """Computes and stores the average and current value."""

            def __init__(self, name="", fmt=":.4f"):
                self.name = name
                self.fmt = fmt
                self.reset()

            def reset(self):
                self.val = 0.0
                self.avg = 0.0
                self.sum = 0.0
                self.count = 0

            def update(self, val, n=1):
                self.val = val
                self.sum += val * n
                self.count += n
                self.avg = self.sum / max(self.count, 1)

            def __str__(self):
                fmtstr = "{name} {val" + self.fmt + "} ({avg" + self.fmt + "})"
                return fmtstr.format(**self.__dict__)''', cls=cls)


def f_early_stopping(ctx: Ctx):
    cls = ctx.name("EarlyStopping")
    return "train", T('''
        class $cls:
            """Stop training when a monitored metric has stopped improving.

            Args:
                patience: epochs to wait after the last improvement.
                min_delta: smallest change that counts as an improvement.
                mode: "min" for losses, "max" for accuracies.
            """

            def __init__(self, patience=5, min_delta=0.0, mode="min"):
                self.patience = patience
                self.min_delta = min_delta
                self.mode = mode
                self.best = None
                self.num_bad_epochs = 0
                self.should_stop = False

            def _improved(self, value):
                if self.best is None:
                    return True
                if self.mode == "min":
                    return value < self.best - self.min_delta
                return value > self.best + self.min_delta

            def step(self, value):
                if self._improved(value):
                    self.best = value
                    self.num_bad_epochs = 0
                else:
                    self.num_bad_epochs += 1
                    if self.num_bad_epochs >= self.patience:
                        self.should_stop = True
                return self.should_stop''', cls=cls)


def f_plot_history(ctx: Ctx):
    ctx.imp("import matplotlib.pyplot as plt")
    fn = ctx.name(ctx.pick(["plot_history", "plot_training_curves", "plot_learning_curves"]))
    if ctx.framework == "keras":
        keys = ('"loss"', '"val_loss"', '"accuracy"', '"val_accuracy"')
    else:
        keys = ('"train_loss"', '"val_loss"', '"train_acc"', '"val_acc"')
    return "plot", T('''
        def $fn(history, out_path=None):
            """Plot loss and accuracy curves from a history dict (or a Keras History)."""
            if hasattr(history, "history"):
                history = history.history
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
            ax1.plot(history[$l], label="train")
            ax1.plot(history[$vl], label="validation")
            ax1.set_title("Loss")
            ax1.set_xlabel("epoch")
            ax1.legend()
            ax2.plot(history[$a], label="train")
            ax2.plot(history[$va], label="validation")
            ax2.set_title("Accuracy")
            ax2.set_xlabel("epoch")
            ax2.legend()
            fig.tight_layout()
            if out_path:
                fig.savefig(out_path, dpi=120)
            plt.show()''', fn=fn, l=keys[0], vl=keys[1], a=keys[2], va=keys[3])


def f_plot_cm(ctx: Ctx):
    ctx.imp("import matplotlib.pyplot as plt", "import numpy as np")
    fn = ctx.name("plot_confusion_matrix")
    use_sns = ctx.chance(0.4)
    if use_sns:
        ctx.imp("import seaborn as sns")
        draw = ('    sns.heatmap(cm, annot=True, fmt=".2f" if normalize else "d", cmap="Blues",\n'
                '                xticklabels=class_names, yticklabels=class_names, ax=ax)')
    else:
        draw = T('''
                im = ax.imshow(cm, interpolation="nearest", cmap=plt.cm.Blues)
                fig.colorbar(im, ax=ax)
                ticks = np.arange(len(class_names))
                ax.set_xticks(ticks)
                ax.set_xticklabels(class_names, rotation=45, ha="right")
                ax.set_yticks(ticks)
                ax.set_yticklabels(class_names)
                thresh = cm.max() / 2.0
                for i in range(cm.shape[0]):
                    for j in range(cm.shape[1]):
                        ax.text(j, i, format(cm[i, j], ".2f" if normalize else "d"), ha="center",
                                color="white" if cm[i, j] > thresh else "black")''')
        draw = indent(draw)
    return "plot", (f"def {fn}(cm, class_names, normalize=False, title=\"Confusion matrix\"):\n"
                    f'    """Draw a confusion matrix; rows are true labels."""\n'
                    f"    if normalize:\n        cm = cm.astype(\"float\") / cm.sum(axis=1, keepdims=True)\n"
                    f"    fig, ax = plt.subplots(figsize=(8, 7))\n{draw}\n"
                    f'    ax.set_ylabel("true label")\n    ax.set_xlabel("predicted label")\n    ax.set_title(title)\n'
                    f"    fig.tight_layout()\n    return fig")


def f_show_samples(ctx: Ctx):
    ctx.imp("import matplotlib.pyplot as plt", "import os", "import random")
    fn = ctx.name(ctx.pick(["show_samples", "plot_sample_images", "visualize_dataset"]))
    ctx.imp("from PIL import Image")
    return "plot", T('''
        def $fn(data_dir, n_per_class=4, max_classes=6):
            """Show a few random images from each class folder."""
            classes = sorted(os.listdir(data_dir))[:max_classes]
            fig, axes = plt.subplots(len(classes), n_per_class, figsize=(2.5 * n_per_class, 2.5 * len(classes)))
            for row, cls in enumerate(classes):
                files = os.listdir(os.path.join(data_dir, cls))
                for col, fname in enumerate(random.sample(files, min(n_per_class, len(files)))):
                    ax = axes[row, col] if len(classes) > 1 else axes[col]
                    with Image.open(os.path.join(data_dir, cls, fname)) as img:
                        ax.imshow(img)
                    ax.set_title(cls, fontsize=8)
                    ax.axis("off")
            plt.tight_layout()
            plt.show()''', fn=fn)


def f_class_distribution(ctx: Ctx):
    ctx.imp("import os", "import pandas as pd")
    fn = ctx.name(ctx.pick(["class_distribution", "count_images", "dataset_summary"]))
    return "data", T('''
        def $fn(root, extensions=(".jpg", ".jpeg", ".png", ".bmp")):
            """Number of images per class folder, as a DataFrame sorted by count."""
            rows = []
            for cls in sorted(os.listdir(root)):
                folder = os.path.join(root, cls)
                if not os.path.isdir(folder):
                    continue
                n = sum(1 for f in os.listdir(folder) if f.lower().endswith(extensions))
                rows.append({"class": cls, "images": n})
            df = pd.DataFrame(rows).sort_values("images", ascending=False).reset_index(drop=True)
            df["share"] = df["images"] / df["images"].sum()
            return df''', fn=fn)


def f_split_folders(ctx: Ctx):
    ctx.imp("import os", "import random", "import shutil")
    fn = ctx.name(ctx.pick(["split_dataset", "make_train_val_split", "split_folders"]))
    return "data", T('''
        def $fn(src, dst, val_fraction=0.2, seed=42):
            """Copy a folder-per-class dataset into dst/train and dst/val."""
            rng = random.Random(seed)
            for cls in sorted(os.listdir(src)):
                files = sorted(os.listdir(os.path.join(src, cls)))
                rng.shuffle(files)
                n_val = int(len(files) * val_fraction)
                for split, subset in (("val", files[:n_val]), ("train", files[n_val:])):
                    out_dir = os.path.join(dst, split, cls)
                    os.makedirs(out_dir, exist_ok=True)
                    for fname in subset:
                        shutil.copy2(os.path.join(src, cls, fname), os.path.join(out_dir, fname))
            print("done:", dst)''', fn=fn)


def f_check_images(ctx: Ctx):
    ctx.imp("import os", "from PIL import Image")
    fn = ctx.name(ctx.pick(["find_corrupt_images", "verify_images", "check_dataset"]))
    return "data", T('''
        def $fn(root):
            """Return the paths of files PIL cannot open."""
            bad = []
            for dirpath, _, files in os.walk(root):
                for fname in files:
                    path = os.path.join(dirpath, fname)
                    try:
                        with Image.open(path) as img:
                            img.verify()
                    except Exception as exc:  # noqa: BLE001 - any decoder error counts
                        bad.append((path, str(exc)))
            if bad:
                print(f"{len(bad)} unreadable files, e.g. {bad[0][0]}")
            return bad''', fn=fn)


def f_image_sizes(ctx: Ctx):
    ctx.imp("import os", "from PIL import Image", "from collections import Counter")
    fn = ctx.name("image_size_stats")
    return "data", T('''
        def $fn(root, limit=2000):
            """Count the (width, height) sizes and modes of up to `limit` images."""
            sizes, modes = Counter(), Counter()
            seen = 0
            for dirpath, _, files in os.walk(root):
                for fname in files:
                    if seen >= limit:
                        break
                    try:
                        with Image.open(os.path.join(dirpath, fname)) as img:
                            sizes[img.size] += 1
                            modes[img.mode] += 1
                    except OSError:
                        continue
                    seen += 1
            print("most common sizes:", sizes.most_common(5))
            print("modes:", dict(modes))
            return sizes, modes''', fn=fn)


def f_class_weights(ctx: Ctx):
    ctx.imp("import numpy as np", "from sklearn.utils.class_weight import compute_class_weight")
    fn = ctx.name("get_class_weights")
    return "data", T('''
        def $fn(labels):
            """Balanced class weights as a dict {class index: weight}."""
            labels = np.asarray(labels)
            classes = np.unique(labels)
            weights = compute_class_weight(class_weight="balanced", classes=classes, y=labels)
            return {int(c): float(w) for c, w in zip(classes, weights)}''', fn=fn)


def f_timestamp(ctx: Ctx):
    ctx.imp("import os", "from datetime import datetime")
    fn = ctx.name(ctx.pick(["make_run_dir", "create_experiment_dir"]))
    return "utils", T('''
        def $fn(base="runs", name=None):
            """Create runs/<name>-<timestamp>/ and return its path."""
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            run_dir = os.path.join(base, f"{name}-{stamp}" if name else stamp)
            os.makedirs(run_dir, exist_ok=True)
            return run_dir''', fn=fn)


def f_format_time(ctx: Ctx):
    fn = ctx.name("format_seconds")
    return "utils", T('''
        def $fn(seconds):
            """1h 02m 03s style formatting."""
            seconds = int(round(seconds))
            hours, rem = divmod(seconds, 3600)
            minutes, secs = divmod(rem, 60)
            if hours:
                return f"{hours}h {minutes:02d}m {secs:02d}s"
            if minutes:
                return f"{minutes}m {secs:02d}s"
            return f"{secs}s"''', fn=fn)


def f_submission(ctx: Ctx):
    ctx.imp("import csv", "import os")
    fn = ctx.name(ctx.pick(["write_submission", "save_predictions"]))
    return "eval", T('''
        def $fn(ids, predictions, class_names, path="submission.csv"):
            """Write one row per test image with the predicted class name."""
            with open(path, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["id", "label"])
                for image_id, pred in zip(ids, predictions):
                    writer.writerow([os.path.basename(str(image_id)), class_names[int(pred)]])
            print(f"wrote {len(ids)} predictions to {path}")''', fn=fn)


def f_topk(ctx: Ctx):
    ctx.imp("import numpy as np")
    fn = ctx.name("top_k_accuracy")
    return "eval", T('''
        def $fn(probabilities, labels, k=5):
            """Fraction of samples whose true label is among the k highest scores."""
            probabilities = np.asarray(probabilities)
            labels = np.asarray(labels)
            top = np.argsort(probabilities, axis=1)[:, -k:]
            hits = [label in row for row, label in zip(top, labels)]
            return float(np.mean(hits))''', fn=fn)


def f_per_class(ctx: Ctx):
    ctx.imp("import numpy as np")
    fn = ctx.name("per_class_accuracy")
    return "eval", T('''
        def $fn(y_true, y_pred, class_names):
            """Print and return the accuracy of each class."""
            y_true = np.asarray(y_true)
            y_pred = np.asarray(y_pred)
            result = {}
            for idx, name in enumerate(class_names):
                mask = y_true == idx
                if mask.sum() == 0:
                    continue
                result[name] = float((y_pred[mask] == idx).mean())
            width = max(len(n) for n in result) if result else 10
            for name, acc in sorted(result.items(), key=lambda kv: kv[1]):
                print(f"{name:<{width}}  {acc:6.2%}")
            return result''', fn=fn)


def f_lr_schedule_fn(ctx: Ctx):
    ctx.imp("import math")
    fn = ctx.name(ctx.pick(["cosine_lr", "warmup_cosine", "lr_at_step"]))
    return "train", T('''
        def $fn(step, total_steps, base_lr, warmup_steps=0, min_lr=0.0):
            """Linear warm-up followed by cosine decay."""
            if warmup_steps and step < warmup_steps:
                return base_lr * (step + 1) / warmup_steps
            progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
            return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * min(progress, 1.0)))''', fn=fn)


def f_plot_lr(ctx: Ctx):
    ctx.imp("import matplotlib.pyplot as plt")
    fn = ctx.name("plot_lr_schedule")
    return "plot", T('''
        def $fn(schedule, total_steps, **kwargs):
            """Plot a schedule function over the training steps."""
            steps = list(range(total_steps))
            lrs = [schedule(s, total_steps, **kwargs) for s in steps]
            plt.figure(figsize=(6, 3))
            plt.plot(steps, lrs)
            plt.xlabel("step")
            plt.ylabel("learning rate")
            plt.grid(alpha=0.3)
            plt.show()''', fn=fn)


def f_mixup_np(ctx: Ctx):
    ctx.imp("import numpy as np")
    fn = ctx.name("mixup_batch")
    return "data", T('''
        def $fn(images, labels, alpha=0.2, rng=None):
            """MixUp on a batch of images and one-hot labels (NumPy)."""
            rng = rng or np.random.default_rng()
            lam = rng.beta(alpha, alpha)
            index = rng.permutation(len(images))
            mixed_images = lam * images + (1 - lam) * images[index]
            mixed_labels = lam * labels + (1 - lam) * labels[index]
            return mixed_images, mixed_labels''', fn=fn)


# ---- torch-only fillers


def f_t_checkpoint(ctx: Ctx):
    ctx.imp("import os", "import torch")
    a, b = ctx.name("save_checkpoint"), ctx.name("load_checkpoint")
    return "utils", T('''
        def $a(state, is_best, checkpoint_dir, filename="checkpoint.pth.tar"):
            """Save the training state; keep a copy of the best one."""
            os.makedirs(checkpoint_dir, exist_ok=True)
            path = os.path.join(checkpoint_dir, filename)
            torch.save(state, path)
            if is_best:
                torch.save(state, os.path.join(checkpoint_dir, "model_best.pth.tar"))


        def $b(path, model, optimizer=None, map_location="cpu"):
            """Restore model (and optionally optimizer) state; return the epoch."""
            checkpoint = torch.load(path, map_location=map_location)
            model.load_state_dict(checkpoint["state_dict"])
            if optimizer is not None and "optimizer" in checkpoint:
                optimizer.load_state_dict(checkpoint["optimizer"])
            return checkpoint.get("epoch", 0)''', a=a, b=b)


def f_t_count_params(ctx: Ctx):
    fn = ctx.name("count_parameters")
    return "model", T('''
        def $fn(model, trainable_only=True):
            """Number of (trainable) parameters."""
            return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)''', fn=fn)


def f_t_label_smoothing(ctx: Ctx):
    ctx.imp("import torch", "import torch.nn as nn")
    cls = ctx.name("LabelSmoothingCrossEntropy")
    return "train", T('''
        class $cls(nn.Module):
            """Cross-entropy with uniform label smoothing."""

            def __init__(self, smoothing=0.1):
                super().__init__()
                assert 0.0 <= smoothing < 1.0
                self.smoothing = smoothing
                self.confidence = 1.0 - smoothing

            def forward(self, logits, target):
                log_probs = torch.log_softmax(logits, dim=-1)
                nll = -log_probs.gather(dim=-1, index=target.unsqueeze(1)).squeeze(1)
                smooth = -log_probs.mean(dim=-1)
                loss = self.confidence * nll + self.smoothing * smooth
                return loss.mean()''', cls=cls)


def f_t_focal(ctx: Ctx):
    ctx.imp("import torch", "import torch.nn as nn")
    cls = ctx.name("FocalLoss")
    return "train", T('''
        class $cls(nn.Module):
            """Focal loss (Lin et al., 2017) for imbalanced classes."""

            def __init__(self, gamma=2.0, weight=None, reduction="mean"):
                super().__init__()
                self.gamma = gamma
                self.weight = weight
                self.reduction = reduction

            def forward(self, logits, target):
                ce = nn.functional.cross_entropy(logits, target, weight=self.weight, reduction="none")
                pt = torch.exp(-ce)
                loss = (1 - pt) ** self.gamma * ce
                if self.reduction == "mean":
                    return loss.mean()
                if self.reduction == "sum":
                    return loss.sum()
                return loss''', cls=cls)


def f_t_mixup(ctx: Ctx):
    ctx.imp("import numpy as np", "import torch")
    a, b = ctx.name("mixup_data"), ctx.name("mixup_criterion")
    return "train", T('''
        def $a(x, y, alpha=1.0, device="cpu"):
            """Returns mixed inputs, pairs of targets, and lambda."""
            lam = np.random.beta(alpha, alpha) if alpha > 0 else 1.0
            index = torch.randperm(x.size(0), device=device)
            mixed_x = lam * x + (1 - lam) * x[index, :]
            return mixed_x, y, y[index], lam


        def $b(criterion, pred, y_a, y_b, lam):
            return lam * criterion(pred, y_a) + (1 - lam) * criterion(pred, y_b)''', a=a, b=b)


def f_t_cutmix(ctx: Ctx):
    ctx.imp("import numpy as np", "import torch")
    fn = ctx.name("cutmix")
    return "train", T('''
        def $fn(images, targets, alpha=1.0):
            """CutMix: paste a random box from a shuffled batch."""
            lam = np.random.beta(alpha, alpha)
            index = torch.randperm(images.size(0), device=images.device)
            _, _, h, w = images.shape
            cut = np.sqrt(1.0 - lam)
            cut_h, cut_w = int(h * cut), int(w * cut)
            cy, cx = np.random.randint(h), np.random.randint(w)
            y1, y2 = np.clip(cy - cut_h // 2, 0, h), np.clip(cy + cut_h // 2, 0, h)
            x1, x2 = np.clip(cx - cut_w // 2, 0, w), np.clip(cx + cut_w // 2, 0, w)
            images[:, :, y1:y2, x1:x2] = images[index, :, y1:y2, x1:x2]
            lam = 1 - ((y2 - y1) * (x2 - x1) / (h * w))
            return images, targets, targets[index], lam''', fn=fn)


def f_t_ema(ctx: Ctx):
    ctx.imp("import copy", "import torch")
    cls = ctx.name("ModelEMA")
    return "train", T('''
        class $cls:
            """Exponential moving average of model weights."""

            def __init__(self, model, decay=0.999):
                self.ema = copy.deepcopy(model).eval()
                self.decay = decay
                for p in self.ema.parameters():
                    p.requires_grad_(False)

            @torch.no_grad()
            def update(self, model):
                msd = model.state_dict()
                for k, v in self.ema.state_dict().items():
                    if v.dtype.is_floating_point:
                        v.mul_(self.decay).add_(msd[k].detach(), alpha=1 - self.decay)''', cls=cls)


def f_t_lr_finder(ctx: Ctx):
    ctx.imp("import math", "import torch")
    fn = ctx.name(ctx.pick(["find_lr", "lr_range_test"]))
    return "train", T('''
        def $fn(model, loader, optimizer, criterion, device, start_lr=1e-7, end_lr=10.0, num_iter=100):
            """Leslie Smith's LR range test; restores nothing, run it on a copy."""
            lrs, losses = [], []
            gamma = (end_lr / start_lr) ** (1.0 / num_iter)
            lr = start_lr
            best = math.inf
            model.train()
            data_iter = iter(loader)
            for it in range(num_iter):
                try:
                    images, targets = next(data_iter)
                except StopIteration:
                    data_iter = iter(loader)
                    images, targets = next(data_iter)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.zero_grad()
                loss = criterion(model(images.to(device)), targets.to(device))
                loss.backward()
                optimizer.step()
                lrs.append(lr)
                losses.append(loss.item())
                best = min(best, loss.item())
                if loss.item() > 4 * best:
                    break
                lr *= gamma
            return lrs, losses''', fn=fn)


def f_t_freeze(ctx: Ctx):
    a, b = ctx.name("freeze"), ctx.name("unfreeze")
    return "model", T('''
        def $a(module):
            """Stop gradients for every parameter of a module."""
            for param in module.parameters():
                param.requires_grad = False


        def $b(module, from_layer=None):
            """Re-enable gradients, optionally only from a named child onwards."""
            active = from_layer is None
            for name, child in module.named_children():
                if name == from_layer:
                    active = True
                if active:
                    for param in child.parameters():
                        param.requires_grad = True''', a=a, b=b)


def f_t_predict_image(ctx: Ctx):
    ctx.imp("import torch", "from PIL import Image", "from torchvision import transforms")
    fn = ctx.name(ctx.pick(["predict_image", "classify_image"]))
    return "eval", T('''
        @torch.no_grad()
        def $fn(model, path, class_names, device, img_size=224):
            """Class name and probability for a single image file."""
            tfm = transforms.Compose([
                transforms.Resize((img_size, img_size)),
                transforms.ToTensor(),
                transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            ])
            image = tfm(Image.open(path).convert("RGB")).unsqueeze(0).to(device)
            model.eval()
            probs = torch.softmax(model(image), dim=1)[0]
            conf, idx = probs.max(dim=0)
            return class_names[idx.item()], conf.item()''', fn=fn)


def f_t_tta(ctx: Ctx):
    ctx.imp("import torch")
    fn = ctx.name("predict_tta")
    return "eval", T('''
        @torch.no_grad()
        def $fn(model, loader, device, flips=True):
            """Average softmax over the original and horizontally flipped images."""
            model.eval()
            all_probs = []
            for images, _ in loader:
                images = images.to(device)
                probs = torch.softmax(model(images), dim=1)
                if flips:
                    probs = probs + torch.softmax(model(torch.flip(images, dims=[3])), dim=1)
                    probs = probs / 2
                all_probs.append(probs.cpu())
            return torch.cat(all_probs)''', fn=fn)


def f_t_onnx(ctx: Ctx):
    ctx.imp("import torch")
    fn = ctx.name("export_onnx")
    return "utils", T('''
        def $fn(model, path, img_size=224, device="cpu"):
            """Export the model to ONNX with a dynamic batch dimension."""
            model.eval().to(device)
            dummy = torch.randn(1, 3, img_size, img_size, device=device)
            torch.onnx.export(
                model,
                dummy,
                path,
                input_names=["input"],
                output_names=["logits"],
                dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                opset_version=17,
            )
            print("exported", path)''', fn=fn)


def f_t_gradcam(ctx: Ctx):
    ctx.imp("import torch", "import numpy as np")
    cls = ctx.name("GradCAM")
    return "eval", T('''
        class $cls:
            """Minimal Grad-CAM using forward/backward hooks on one layer."""

            def __init__(self, model, target_layer):
                self.model = model.eval()
                self.activations = None
                self.gradients = None
                target_layer.register_forward_hook(self._save_activation)
                target_layer.register_full_backward_hook(self._save_gradient)

            def _save_activation(self, module, inputs, output):
                self.activations = output.detach()

            def _save_gradient(self, module, grad_input, grad_output):
                self.gradients = grad_output[0].detach()

            def __call__(self, image, class_idx=None):
                logits = self.model(image)
                if class_idx is None:
                    class_idx = int(logits.argmax(dim=1))
                self.model.zero_grad()
                logits[0, class_idx].backward()
                weights = self.gradients.mean(dim=(2, 3), keepdim=True)
                cam = torch.relu((weights * self.activations).sum(dim=1)).squeeze(0)
                cam = cam / (cam.max() + 1e-8)
                return cam.cpu().numpy(), class_idx''', cls=cls)


def f_t_device(ctx: Ctx):
    ctx.imp("import torch")
    fn = ctx.name("get_device")
    return "utils", T('''
        def $fn(prefer_mps=True):
            """CUDA if available, then Apple MPS, then CPU."""
            if torch.cuda.is_available():
                return torch.device("cuda")
            if prefer_mps and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
                return torch.device("mps")
            return torch.device("cpu")''', fn=fn)


def f_t_denorm(ctx: Ctx):
    ctx.imp("import torch", "import matplotlib.pyplot as plt")
    fn = ctx.name(ctx.pick(["show_batch", "imshow_batch"]))
    return "plot", T('''
        def $fn(images, labels, class_names, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), n=16):
            """Undo the normalisation and show a grid of images."""
            mean = torch.tensor(mean).view(3, 1, 1)
            std = torch.tensor(std).view(3, 1, 1)
            cols = 4
            rows = (min(n, len(images)) + cols - 1) // cols
            plt.figure(figsize=(3 * cols, 3 * rows))
            for i in range(min(n, len(images))):
                img = (images[i].cpu() * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()
                plt.subplot(rows, cols, i + 1)
                plt.imshow(img)
                plt.title(class_names[int(labels[i])])
                plt.axis("off")
            plt.tight_layout()
            plt.show()''', fn=fn)


def f_t_init_weights(ctx: Ctx):
    ctx.imp("import torch.nn as nn")
    fn = ctx.name("init_weights")
    return "model", T('''
        def $fn(module):
            """Kaiming init for convolutions, constant init for norms, small normal for linear layers."""
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)''', fn=fn)


def f_t_extra_model(ctx: Ctx):
    """Another procedurally generated architecture (model-zoo style files)."""
    ctx.imp("import torch", "import torch.nn as nn")
    saved = dict(ctx.facts)
    kind = ctx.pick(["cnn", "seq", "resnet"])
    units = {"cnn": t_model_cnn, "seq": t_model_sequential, "resnet": t_model_resnet}[kind](ctx)
    ctx.facts.clear()
    ctx.facts.update(saved)
    return "model", units[0].code


# ---- keras-only fillers


def f_k_schedule(ctx: Ctx):
    K = ctx.facts["K"]
    ctx.imp("import math", "import tensorflow as tf")
    cls = ctx.name(ctx.pick(["WarmupCosine", "WarmUpCosineDecay", "CosineWithWarmup"]))
    return "train", T('''
        class $cls($K.optimizers.schedules.LearningRateSchedule):
            """Linear warm-up then cosine decay, usable as an optimizer learning rate."""

            def __init__(self, base_lr, total_steps, warmup_steps=0):
                super().__init__()
                self.base_lr = base_lr
                self.total_steps = total_steps
                self.warmup_steps = warmup_steps

            def __call__(self, step):
                step = tf.cast(step, tf.float32)
                warmup = self.base_lr * step / max(1, self.warmup_steps)
                progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
                cosine = 0.5 * self.base_lr * (1.0 + tf.cos(math.pi * tf.minimum(progress, 1.0)))
                return tf.where(step < self.warmup_steps, warmup, cosine)

            def get_config(self):
                return {"base_lr": self.base_lr, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps}''',
             cls=cls, K=K)


def f_k_callback(ctx: Ctx):
    K = ctx.facts["K"]
    ctx.imp("import time")
    cls = ctx.name(ctx.pick(["EpochTimer", "TimeHistory", "LoggingCallback"]))
    return "train", T('''
        class $cls($K.callbacks.Callback):
            """Record how long each epoch takes and print a one-line summary."""

            def on_train_begin(self, logs=None):
                self.times = []

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.time()

            def on_epoch_end(self, epoch, logs=None):
                elapsed = time.time() - self._start
                self.times.append(elapsed)
                logs = logs or {}
                parts = " ".join(f"{k}={v:.4f}" for k, v in sorted(logs.items()))
                print(f"epoch {epoch + 1} took {elapsed:.1f}s {parts}")''', cls=cls, K=K)


def f_k_se_block(ctx: Ctx):
    ctx.imp("import tensorflow as tf")
    fn = ctx.name(ctx.pick(["squeeze_excite", "se_block"]))
    return "model", T('''
        def $fn(x, ratio=16):
            """Squeeze-and-excitation: channel-wise attention."""
            channels = x.shape[-1]
            se = layers.GlobalAveragePooling2D()(x)
            se = layers.Dense(max(channels // ratio, 4), activation="relu")(se)
            se = layers.Dense(channels, activation="sigmoid")(se)
            se = layers.Reshape((1, 1, channels))(se)
            return layers.Multiply()([x, se])''', fn=fn)


def f_k_gradcam(ctx: Ctx):
    K = ctx.facts["K"]
    ctx.imp("import tensorflow as tf", "import numpy as np")
    fn = ctx.name("make_gradcam_heatmap")
    return "eval", T('''
        def $fn(img_array, model, last_conv_layer_name, pred_index=None):
            """Grad-CAM heat map for one preprocessed image batch of size 1."""
            grad_model = $K.Model(model.inputs, [model.get_layer(last_conv_layer_name).output, model.output])
            with tf.GradientTape() as tape:
                conv_output, preds = grad_model(img_array)
                if pred_index is None:
                    pred_index = tf.argmax(preds[0])
                class_channel = preds[:, pred_index]
            grads = tape.gradient(class_channel, conv_output)
            pooled = tf.reduce_mean(grads, axis=(0, 1, 2))
            heatmap = conv_output[0] @ pooled[..., tf.newaxis]
            heatmap = tf.squeeze(heatmap)
            heatmap = tf.maximum(heatmap, 0) / (tf.math.reduce_max(heatmap) + 1e-8)
            return heatmap.numpy()''', fn=fn, K=K)


def f_k_tflite(ctx: Ctx):
    ctx.imp("import tensorflow as tf")
    fn = ctx.name(ctx.pick(["export_tflite", "convert_to_tflite"]))
    return "utils", T('''
        def $fn(model, path="model.tflite", quantize=False):
            """Convert a Keras model to TensorFlow Lite."""
            converter = tf.lite.TFLiteConverter.from_keras_model(model)
            if quantize:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            tflite_model = converter.convert()
            with open(path, "wb") as fh:
                fh.write(tflite_model)
            print(f"saved {path} ({len(tflite_model) / 1e6:.1f} MB)")''', fn=fn)


def f_k_predict_image(ctx: Ctx):
    K = ctx.facts["K"]
    ctx.imp("import numpy as np")
    fn = ctx.name(ctx.pick(["predict_image", "predict_single"]))
    return "eval", T('''
        def $fn(model, path, class_names, img_size=224):
            """Predict the class of one image file (scaled like the training data)."""
            img = $K.utils.load_img(path, target_size=(img_size, img_size))
            arr = $K.utils.img_to_array(img) / 255.0
            probs = model.predict(arr[np.newaxis, ...], verbose=0)[0]
            idx = int(np.argmax(probs))
            return class_names[idx], float(probs[idx])''', fn=fn, K=K)


def f_k_gpu(ctx: Ctx):
    ctx.imp("import tensorflow as tf")
    fn = ctx.name(ctx.pick(["configure_gpus", "setup_gpu"]))
    return "utils", T('''
        def $fn(memory_growth=True, mixed_precision=False):
            """Enable memory growth (so TF does not grab all GPU memory) and optionally mixed precision."""
            gpus = tf.config.list_physical_devices("GPU")
            for gpu in gpus:
                try:
                    tf.config.experimental.set_memory_growth(gpu, memory_growth)
                except RuntimeError as err:
                    print(err)
            if mixed_precision:
                tf.keras.mixed_precision.set_global_policy("mixed_float16")
            print(f"{len(gpus)} GPU(s) available")
            return gpus''', fn=fn)


def f_k_augment(ctx: Ctx):
    ctx.imp("import tensorflow as tf")
    fn = ctx.name(ctx.pick(["augment_image", "random_augment", "tf_augment"]))
    return "data", T('''
        def $fn(image, label, img_size=224):
            """Random crop, flip and colour jitter on an image in [0, 1]."""
            image = tf.image.resize_with_crop_or_pad(image, img_size + 16, img_size + 16)
            image = tf.image.random_crop(image, size=[img_size, img_size, 3])
            image = tf.image.random_flip_left_right(image)
            image = tf.image.random_saturation(image, 0.8, 1.2)
            image = tf.image.random_contrast(image, 0.8, 1.2)
            image = tf.clip_by_value(image, 0.0, 1.0)
            return image, label''', fn=fn)


def f_k_extra_model(ctx: Ctx):
    saved = dict(ctx.facts)
    kind = ctx.pick(["seq", "resnet"])
    units = (k_model_sequential(ctx, rescale=False) if kind == "seq" else k_model_resnet(ctx, rescale=False))
    ctx.facts.clear()
    ctx.facts.update(saved)
    return "model", units[0].code


def f_k_plot_predictions(ctx: Ctx):
    ctx.imp("import matplotlib.pyplot as plt", "import numpy as np")
    fn = ctx.name("plot_predictions")
    return "plot", T('''
        def $fn(images, y_true, y_pred, class_names, n=12):
            """Grid of images titled with true/predicted labels (red when wrong)."""
            cols = 4
            rows = (n + cols - 1) // cols
            plt.figure(figsize=(3 * cols, 3 * rows))
            for i in range(min(n, len(images))):
                plt.subplot(rows, cols, i + 1)
                plt.imshow(np.clip(images[i], 0, 1))
                ok = y_true[i] == y_pred[i]
                plt.title(f"{class_names[y_true[i]]} / {class_names[y_pred[i]]}", color="green" if ok else "red",
                          fontsize=8)
                plt.axis("off")
            plt.tight_layout()
            plt.show()''', fn=fn)


COMMON_FILLERS = [f_seed, f_logging, f_timer, f_json, f_plot_history, f_plot_cm, f_show_samples, f_class_distribution,
                  f_split_folders, f_check_images, f_image_sizes, f_class_weights, f_timestamp, f_format_time,
                  f_submission, f_topk, f_per_class, f_lr_schedule_fn, f_plot_lr, f_mixup_np]
TORCH_FILLERS = [f_average_meter, f_early_stopping, f_t_checkpoint, f_t_count_params, f_t_label_smoothing, f_t_focal,
                 f_t_mixup, f_t_cutmix, f_t_ema, f_t_lr_finder, f_t_freeze, f_t_predict_image, f_t_tta, f_t_onnx,
                 f_t_gradcam, f_t_device, f_t_denorm, f_t_init_weights, f_t_extra_model, f_t_extra_model]
KERAS_FILLERS = [f_k_schedule, f_k_callback, f_k_se_block, f_k_gradcam, f_k_tflite, f_k_predict_image, f_k_gpu,
                 f_k_augment, f_k_extra_model, f_k_extra_model, f_k_plot_predictions]


# =========================================================================== assembly

SCRIPT_STEMS = ["train", "train_cnn", "main", "classifier", "finetune", "train_model", "baseline", "experiment",
                "cnn", "run_training", "image_classification", "model_training"]
NB_STEMS = ["Untitled", "training", "classification", "cnn_from_scratch", "transfer_learning", "experiments",
            "colab_training", "kaggle_notebook", "baseline_model"]


def _header_doc(ctx: Ctx, stem: str) -> str:
    title = ctx.theme[1]
    fw = "Keras" if ctx.framework == "keras" else "PyTorch"
    r = ctx.rng.randint(0, 4)
    if r == 0 or ctx.verbose == 0:
        return f'"""{title} with {fw}."""'
    if r == 1:
        return T('''
            """$title.

            Trains a convolutional network with $fw on a folder-per-class image dataset
            and writes the best checkpoint and a few plots to the output directory.

            Usage:
                python $stem.py
            """''', title=title, fw=fw, stem=stem)
    if r == 2:
        return T('''
            """
            $title
            $line

            Author: $author
            Created: $date

            Notes:
              - images are resized to a fixed square size
              - the validation split is stratified
            """''', title=title, line="=" * len(title), author=ctx.pick(["J. Doe", "ml-team", "anonymous", "student"]),
                 date=ctx.pick(["2021-03-14", "2022-11-02", "2023-06-30", "2024-01-09"]))
    if r == 3:
        return f'"""Training script for {title.lower()} ({fw}).\n\nSee README for the dataset layout."""'
    return f'# {title} - {fw} training script\n"""{title}."""'


def _import_block(ctx: Ctx) -> str:
    std, third, froms_std, froms_third = [], [], [], []
    lines = list(ctx.imports)
    if "from torchvision import datasets, transforms" in lines and "from torchvision import transforms" in lines:
        lines.remove("from torchvision import transforms")
    for ln in lines:
        mod = ln.split()[1].split(".")[0]
        target = (froms_std if ln.startswith("from") else std) if mod in STD else (
            froms_third if ln.startswith("from") else third)
        target.append(ln)
    out = []
    fut = [l for l in froms_std if l.startswith("from __future__")]
    if fut:
        out += fut + [""]
        froms_std = [l for l in froms_std if l not in fut]
    g1 = sorted(std) + sorted(froms_std)
    g2 = sorted(third) + sorted(froms_third)
    if ctx.chance(0.3):  # unsorted, the way people actually write them
        ctx.rng.shuffle(g2)
    out += g1
    if g1 and g2:
        out.append("")
    out += g2
    return "\n".join(out)


def _plan(index: int, seed: int) -> Ctx:
    rng = random.Random(f"cnnlint-corpus:{seed}:{index}")
    notebook = rng.random() < NOTEBOOK_SHARE
    framework = "keras" if rng.random() < 0.5 else "torch"
    target = int(round(math.exp(rng.gauss(math.log(MEDIAN_LINES), 0.75))))
    target = max(MIN_LINES, min(MAX_LINES, target))
    planted: List[str] = []
    data_defect = rng.random()
    if data_defect < 0.10:
        planted.append("CNL101")
    elif data_defect < 0.19:
        planted.append("CNL102")
    if framework == "torch" and rng.random() < 0.17:
        planted.append("CNL201")
    if framework == "keras" and rng.random() < 0.14 and "CNL102" not in planted and "CNL101" not in planted:
        planted.append("CNL202")
    if (notebook and rng.random() < 0.36) or (not notebook and rng.random() < 0.03):
        planted.append("CNL401")
    verbose = 0 if target < 130 else (1 if target < 450 else 2)
    cfg_style = rng.choice(["const", "const", "dataclass", "dict"] + ([] if notebook else ["argparse", "argparse"]))
    ctx = Ctx(rng=rng, index=index, framework=framework, notebook=notebook, planted=planted, target=target,
              verbose=verbose, theme=rng.choice(THEMES), cfg_style=cfg_style,
              script_style=rng.choice(["main", "main", "flat"]))
    _choose_hparams(ctx)
    if not notebook and target < 110 and rng.random() < 0.7:
        # small project modules: models.py, utils.py, dataset.py ... (definitions only)
        ctx.facts["module_kind"] = rng.choice(["models", "utils", "data", "losses", "plots"])
        ctx.planted = []
        ctx.cfg_style = "module"
    return ctx


def _core_units(ctx: Ctx) -> List[Unit]:
    units: List[Unit] = []
    P = ctx.planted
    if ctx.framework == "keras":
        _keras_imports(ctx)
        if "CNL102" in P:
            units += k_data_arrays(ctx)
        elif "CNL101" in P:
            units += k_data_idg(ctx)
        elif "CNL202" in P:
            k = ctx.pick(["idfd_s", "idfd_u", "paths", "builtin"])
            if k == "builtin":
                ctx.facts["want_tfdata"] = True
            units += {"idfd_s": lambda: k_data_idfd(ctx, True), "idfd_u": lambda: k_data_idfd(ctx, False),
                      "paths": lambda: k_data_paths(ctx), "builtin": lambda: k_data_builtin(ctx)}[k]()
        else:
            k = ctx.pick(["idg"] * 6 + ["idfd_s"] * 2 + ["idfd_u"] * 3 + ["paths"] * 2 + ["builtin"] * 3 + ["seq"] * 2)
            units += {"idg": lambda: k_data_idg(ctx), "idfd_s": lambda: k_data_idfd(ctx, True),
                      "idfd_u": lambda: k_data_idfd(ctx, False), "paths": lambda: k_data_paths(ctx),
                      "builtin": lambda: k_data_builtin(ctx), "seq": lambda: k_data_sequence(ctx)}[k]()
        # model
        if ctx.facts["scaled"] or "CNL101" in P:
            units += (k_model_sequential(ctx, False) if ctx.chance(0.6) else k_model_resnet(ctx, False))
        else:
            r = ctx.rng.random()
            if r < 0.45:
                units += k_model_transfer(ctx)
            elif r < 0.8:
                units += k_model_sequential(ctx, True)
            else:
                units += k_model_resnet(ctx, True)
        # training
        if "CNL202" in P:
            ctx.facts["needs_accum"] = True
            units += k_train_accum(ctx)
        elif ctx.facts["data_kind"] == "tfdata":
            r = ctx.rng.random()
            if r < 0.6:
                units += k_train_fit(ctx)
            elif r < 0.85:
                units += k_train_custom(ctx)
            else:
                ctx.facts["needs_accum"] = True
                units += k_train_accum(ctx)
        else:
            units += k_train_fit(ctx)
        if ctx.verbose or ctx.chance(0.5):
            units += k_eval(ctx)
    else:
        _torch_imports(ctx)
        if "CNL102" in P:
            units += t_data_arrays(ctx)
        elif "CNL101" in P:
            units += t_data_imagefolder(ctx)
        else:
            k = ctx.pick(["folder"] * 4 + ["builtin"] * 3 + ["custom"] * 3)
            units += {"folder": lambda: t_data_imagefolder(ctx), "builtin": lambda: t_data_builtin(ctx),
                      "custom": lambda: t_data_custom(ctx)}[k]()
        if ctx.facts.get("builtin"):
            m = ctx.pick(["cnn", "seq", "resnet"])
        else:
            m = ctx.pick(["cnn", "seq", "resnet", "pre", "pre"])
        units += {"cnn": t_model_cnn, "seq": t_model_sequential, "resnet": t_model_resnet,
                  "pre": t_model_pretrained}[m](ctx)
        units += t_train(ctx)
        if ctx.verbose or ctx.chance(0.5):
            units += t_eval(ctx)
    # plotting of the training curves
    hist = ctx.facts.get("history")
    if ctx.verbose and hist in ("history", "history_dict") or (ctx.framework == "torch" and ctx.verbose and ctx.chance(0.7)):
        phase, code = f_plot_history(ctx)
        fn = code.split("(")[0].replace("def ", "")
        units.append(Unit("plot", "helper", code, "Training curves", ""))
        call = f"{fn}(history, os.path.join({ctx.h('output_dir')}, \"curves.png\"))"
        ctx.imp("import os")
        units.append(Unit("plot", "driver", call))
        if ctx.facts.get("has_cm") and ctx.chance(0.6):
            phase, code = f_plot_cm(ctx)
            fn2 = code.split("(")[0].replace("def ", "")
            units.append(Unit("plot", "helper", code))
            units.append(Unit("plot", "driver", f"{fn2}(cm, CLASS_NAMES[:len(cm)], normalize=True)\nplt.show()"))
    # seeding
    if ctx.verbose and ctx.chance(0.7):
        phase, code = f_seed(ctx)
        fn = code.split("(")[0].replace("def ", "")
        units.insert(0, Unit("utils", "helper", code, "Utilities", "Helpers used throughout the notebook."))
        ctx.facts["seed_call"] = f"{fn}({ctx.h('seed')})"
    # CNL401 in scripts: pip run from the script
    if not ctx.notebook and ("CNL401" in P or ctx.chance(0.03)):
        ctx.imp("import subprocess", "import sys")
        pkgs = PIP_UNPINNED_KERAS if ctx.framework == "keras" else PIP_UNPINNED_TORCH
        pins = PIP_PINS_KERAS if ctx.framework == "keras" else PIP_PINS_TORCH
        pkg = ctx.pick(pkgs) if "CNL401" in P else ctx.pick(pins)
        style = ctx.rng.randint(0, 2)
        if style == 0:
            code = T('''
                def install(package):
                    """Install a package into the running interpreter."""
                    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])


                install($pkg)''', pkg=py_str(pkg))
        elif style == 1:
            code = T('''
                # make sure the extra dependency is there (e.g. on a fresh Colab/Kaggle runtime)
                subprocess.check_call([sys.executable, "-m", "pip", "install", $pkg])''', pkg=py_str(pkg))
        else:
            ctx.imp("import os")
            code = T('''
                if os.system($cmd) != 0:
                    print("pip install failed, continuing anyway")''', cmd=py_str(f"pip install -q {pkg}"))
        units.insert(0, Unit("utils", "helper", code))
    return units


def _filler_pool(ctx: Ctx) -> List[Callable]:
    return COMMON_FILLERS + (TORCH_FILLERS if ctx.framework == "torch" else KERAS_FILLERS)


def _units_lines(units: Sequence[Unit]) -> int:
    return sum(count_lines(u.code) + 2 for u in units)


PHASES = ["utils", "data", "model", "train", "eval", "plot"]


# fillers that a file has at most once (a second seeding helper would look odd)
SINGLETON_FILLERS = {f_seed, f_logging, f_timer, f_json, f_timestamp, f_format_time, f_t_device, f_t_onnx,
                     f_k_tflite, f_k_gpu, f_t_checkpoint, f_average_meter, f_early_stopping, f_plot_history,
                     f_plot_cm, f_t_count_params, f_t_freeze, f_t_init_weights}


def _add_fillers(ctx: Ctx, units: List[Unit], overhead: int) -> None:
    pool = [f for f in _filler_pool(ctx) if not (f is f_seed and ctx.facts.get("seed_call"))]
    if any(u.phase == "plot" for u in units):
        pool = [f for f in pool if f not in (f_plot_history, f_plot_cm)]
    order = list(pool)
    ctx.rng.shuffle(order)
    passes = 0
    current = _units_lines(units) + overhead
    guard = 0
    extra_model = f_t_extra_model if ctx.framework == "torch" else f_k_extra_model
    while current < ctx.target and guard < 400:
        guard += 1
        if not order:
            passes += 1
            order = [f for f in pool if f not in SINGLETON_FILLERS]
            ctx.rng.shuffle(order)
        fn = order.pop()
        if passes and ctx.chance(0.5):
            fn = extra_model
        phase, code = fn(ctx)
        if ctx.chance(0.15):
            code = ctx.comment() + "\n" + code
        add = count_lines(code) + 2 + (3 if ctx.notebook else 0)
        if current + add > MAX_LINES - 5:
            break
        units.append(Unit(phase, "helper", code))
        current += add


def _driver_units(units: Sequence[Unit]) -> List[Unit]:
    return [u for u in units if u.role == "driver"]


def _phase_sorted(units: Sequence[Unit]) -> List[Unit]:
    return sorted(units, key=lambda u: PHASES.index(u.phase) if u.phase in PHASES else -1)


def build_script(ctx: Ctx, units: List[Unit], config: Unit, stem: str) -> str:
    parts: List[str] = []
    head = ""
    if ctx.chance(0.3):
        head += "#!/usr/bin/env python3\n"
    if ctx.chance(0.1):
        head += "# -*- coding: utf-8 -*-\n"
    head += _header_doc(ctx, stem)
    parts.append(head)
    imports = _import_block(ctx)
    if ctx.chance(0.15):
        imports = imports.replace("import os\n", "import os\nimport warnings\n", 1) if "import os\n" in imports else imports
        if "import warnings" in imports:
            imports += "\n\nwarnings.filterwarnings(\"ignore\")"
    parts.append(imports)
    parts.append(config.code)
    section_comments = ctx.chance(0.4)
    last_phase = None
    for u in _phase_sorted([u for u in units if u.role == "helper"]):
        code = u.code
        if section_comments and u.phase != last_phase:
            code = f"# {'=' * 20} {u.phase} {'=' * (50 - len(u.phase))}\n\n" + code
        last_phase = u.phase
        parts.append(code)
    prefix = [p for p in (config_driver_prefix(ctx), ctx.facts.get("seed_call")) if p]
    drivers = prefix + [u.code for u in _phase_sorted(_driver_units(units))]
    body = "\n\n".join(drivers)
    if ctx.script_style == "main":
        doc = '    """Entry point."""\n' if ctx.chance(0.5) else ""
        parts.append(f"def main():\n{doc}" + indent(body))
        parts.append('if __name__ == "__main__":\n    main()')
    else:
        parts.append(body)
    text = "\n\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"
    return text


def _split_cells(code: str, ctx: Ctx) -> List[str]:
    """Split helper code at top-level definitions, the way notebooks tend to be laid out."""
    if not ctx.chance(0.6):
        return [code]
    chunks = re.split(r"\n\n\n(?=(?:@|def |class ))", code)
    return [c for c in chunks if c.strip()]


def _md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": _src_lines(text)}


def _code(text: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": _src_lines(text)}


def _src_lines(text: str) -> List[str]:
    lines = text.strip("\n").split("\n")
    return [ln + "\n" for ln in lines[:-1]] + [lines[-1]]


MD_PHASE = {
    "utils": ["## Utilities", "## Helper functions", "### Helpers"],
    "data": ["## Data", "## Loading the dataset", "## Data pipeline", "## 1. Data"],
    "model": ["## Model", "## Building the model", "## 2. Model architecture", "## Network"],
    "train": ["## Training", "## Train the model", "## 3. Training"],
    "eval": ["## Evaluation", "## Results", "## 4. Evaluation"],
    "plot": ["## Plots", "## Visualising the results", "### Learning curves"],
}


def build_notebook(ctx: Ctx, units: List[Unit], config: Unit) -> Tuple[dict, int]:
    cells: List[dict] = []
    fw = "Keras" if ctx.framework == "keras" else "PyTorch"
    intro = f"# {ctx.theme[1]}\n\n" + ctx.pick([
        f"Training a CNN with {fw}. Run the cells in order; a GPU runtime is recommended.",
        f"In this notebook we train an image classifier with {fw} on the {ctx.theme[0].replace('_', ' ')} data.",
        f"Experiments with {fw}. **Runtime -> Change runtime type -> GPU** before starting.",
    ])
    cells.append(_md(intro))
    pins = PIP_PINS_KERAS if ctx.framework == "keras" else PIP_PINS_TORCH
    unpinned = PIP_UNPINNED_KERAS if ctx.framework == "keras" else PIP_UNPINNED_TORCH
    if "CNL401" in ctx.planted:
        pk = [ctx.pick(unpinned)]
        if ctx.chance(0.4):
            pk.append(ctx.pick(pins))
        style = ctx.pick(["!pip install", "!pip install -q", "%pip install", "!pip install --upgrade"])
        pip = f"{style} {' '.join(pk)}"
        if ctx.chance(0.3):
            pip = f"!pip install -q {ctx.pick(pins)}\n" + pip
    else:
        n = ctx.rng.randint(1, 3)
        pk = ctx.rng.sample(pins, n)
        # keep one version per package
        seen, uniq = set(), []
        for p in pk:
            base = p.split("==")[0]
            if base not in seen:
                seen.add(base)
                uniq.append(p)
        pip = f"{ctx.pick(['!pip install', '!pip install -q', '%pip install -q'])} {' '.join(uniq)}"
    if ctx.chance(0.8) or "CNL401" in ctx.planted:
        cells.append(_code(pip))
    if ctx.chance(0.3):
        cells.append(_code("!nvidia-smi"))
    if ctx.chance(0.25):
        cells.append(_code('from google.colab import drive\n\ndrive.mount("/content/drive")'))
    if ctx.chance(0.2):
        cells.append(_code(f"!unzip -q -o dataset.zip -d {ctx.hp['data_dir'].split('/')[0] or 'data'}\n!ls {ctx.hp['data_dir']} | head"))
    imports = _import_block(ctx)
    if "import matplotlib.pyplot as plt" in imports and ctx.chance(0.5):
        imports = "%matplotlib inline\n" + imports
    if ctx.framework == "keras" and ctx.chance(0.4):
        imports += '\n\nprint("TensorFlow", tf.__version__)\nprint(tf.config.list_physical_devices("GPU"))'
    elif ctx.framework == "torch" and ctx.chance(0.4):
        imports += '\n\nprint("torch", torch.__version__, "cuda:", torch.cuda.is_available())'
    cells.append(_code(imports))
    cells.append(_md("## Configuration"))
    cfg_code = config.code
    pre = config_driver_prefix(ctx)
    if pre:
        cfg_code += "\n\n" + pre
    if ctx.facts.get("seed_call"):
        cfg_code += ""  # the call is placed after the utilities below
    cells.append(_code(cfg_code))
    for phase in PHASES:
        pu = [u for u in units if u.phase == phase]
        if not pu:
            continue
        titled = next((u for u in pu if u.title), None)
        md = ctx.pick(MD_PHASE[phase])
        if titled and titled.md and ctx.chance(0.8):
            md += "\n\n" + titled.md
        cells.append(_md(md))
        for u in [u for u in pu if u.role == "helper"]:
            for chunk in _split_cells(u.code, ctx):
                cells.append(_code(chunk))
        if phase == "utils" and ctx.facts.get("seed_call"):
            cells.append(_code(ctx.facts["seed_call"]))
        for u in [u for u in pu if u.role == "driver"]:
            code = u.code
            if phase == "train" and ctx.chance(0.2):
                code = "%%time\n" + code
            cells.append(_code(code))
    if ctx.chance(0.4):
        cells.append(_md(ctx.pick(["## Conclusion\n\nThe model reaches a reasonable accuracy; more augmentation "
                                   "might help with the remaining overfitting.",
                                   "## Next steps\n\n- try a larger backbone\n- tune the learning rate\n"
                                   "- add test-time augmentation",
                                   "### Notes\n\nRemember to download the checkpoint before the Colab session ends."])))
    meta = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": ctx.pick(["3.10.12", "3.9.16", "3.11.5"])},
    }
    if ctx.chance(0.5):
        meta["accelerator"] = "GPU"
        meta["colab"] = {"provenance": [], "gpuType": "T4"}
    nb = {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5 if ctx.chance(0.5) else 4}
    if nb["nbformat_minor"] >= 5:
        for i, c in enumerate(cells):
            c["id"] = f"{ctx.index:04x}{i:04x}"
    lines = sum(len(c["source"]) for c in cells)
    return nb, lines


# =========================================================================== public API

_MAGIC = re.compile(r"^(\s*)[!%]")


def notebook_python(nb: dict) -> str:
    """Code cells joined, IPython lines (`!cmd`, `%magic`) replaced by `pass` at the same indentation."""
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        text = "".join(src) if isinstance(src, list) else src
        lines = []
        for ln in text.split("\n"):
            m = _MAGIC.match(ln)
            lines.append(m.group(1) + "pass" if m else ln)
        out.append("\n".join(lines))
    return "\n".join(out) + "\n"


@dataclass
class GeneratedFile:
    relpath: str
    content: str  # file text (.py) or notebook JSON
    kind: str  # "script" or "notebook"
    framework: str
    lines: int  # source lines (notebooks: code + markdown cell lines)
    planted: List[str]
    python: str  # the Python that ast.parse checked


MODULE_PHASES = {"models": ("model",), "utils": ("utils", "eval"), "data": ("data", "utils"),
                 "losses": ("train", "eval"), "plots": ("plot", "eval")}
MODULE_NAMES = {"models": ["models", "model", "networks", "architectures"], "utils": ["utils", "helpers", "common"],
                "data": ["dataset", "data_utils", "prepare_data"], "losses": ["losses", "training_utils", "metrics"],
                "plots": ["visualize", "plotting", "plots"]}


def build_module(index: int, ctx: Ctx) -> GeneratedFile:
    """A small definitions-only module of a training project."""
    kind = ctx.facts["module_kind"]
    if ctx.framework == "keras":
        _keras_imports(ctx)
        pool = COMMON_FILLERS + KERAS_FILLERS
    else:
        _torch_imports(ctx)
        pool = COMMON_FILLERS + TORCH_FILLERS
    phases = MODULE_PHASES[kind]
    cands = []
    for fn in pool:
        probe = Ctx(rng=random.Random(0), index=0, framework=ctx.framework, notebook=False, planted=[], target=0,
                    verbose=1, theme=ctx.theme, cfg_style="module", script_style="main", facts=dict(ctx.facts))
        probe.hp, probe.hp_names = ctx.hp, ctx.hp_names
        if fn(probe)[0] in phases and fn not in cands:
            cands.append(fn)
    if kind == "models":
        cands += [f_t_extra_model if ctx.framework == "torch" else f_k_extra_model] * 3
    ctx.rng.shuffle(cands)
    ctx.imports = {}
    if ctx.framework == "keras":
        _keras_imports(ctx)
    else:
        _torch_imports(ctx)
    stem = ctx.pick(MODULE_NAMES[kind])
    doc = f'"""{ctx.pick(["Helpers", "Building blocks", "Shared code"])} for the {ctx.theme[0].replace("_", " ")} project ({kind})."""'
    parts: List[str] = []
    lines = 0
    i = 0
    while i < 40:
        fn = cands[i % len(cands)]
        i += 1
        _, code = fn(ctx)
        parts.append(code)
        text = doc + "\n\n" + _import_block(ctx) + "\n\n\n" + "\n\n\n".join(parts) + "\n"
        lines = count_lines(text)
        if lines >= ctx.target:
            break
    rel = f"proj_{index // 20:03d}/{stem}_{index:04d}.py"
    return GeneratedFile(rel, text, "script", ctx.framework, lines, [], text)


def generate_file(index: int, seed: int = DEFAULT_SEED) -> GeneratedFile:
    """Generate corpus file number `index`; depends only on (index, seed)."""
    ctx = _plan(index, seed)
    if ctx.facts.get("module_kind"):
        return build_module(index, ctx)
    units = _core_units(ctx)
    config = config_unit(ctx)
    group = f"proj_{index // 20:03d}"
    if ctx.notebook:
        stem = ctx.pick(NB_STEMS) if ctx.chance(0.5) else f"{ctx.theme[0]}_{ctx.framework}"
    else:
        stem = ctx.pick(SCRIPT_STEMS)

    def assemble():
        state = ctx.rng.getstate()
        imports = dict(ctx.imports)
        if ctx.notebook:
            nb, n = build_notebook(ctx, units, config)
            out = (json.dumps(nb, indent=1, ensure_ascii=False) + "\n", notebook_python(nb), n)
        else:
            text = build_script(ctx, units, config, stem)
            out = (text, text, count_lines(text))
        ctx.rng.setstate(state)
        ctx.imports = imports
        return out

    # measure the fixed overhead of the layout, then add fillers up to the target size
    n_core = len(units)
    overhead = assemble()[2] - _units_lines(units)
    _add_fillers(ctx, units, overhead)
    content, python, lines = assemble()
    while lines > MAX_LINES and len(units) > n_core:
        units.pop()
        content, python, lines = assemble()
    if ctx.notebook:
        rel = f"{group}/{stem}_{index:04d}.ipynb"
        kind = "notebook"
    else:
        rel = f"{group}/{stem}_{index:04d}.py"
        kind = "script"
    return GeneratedFile(rel, content, kind, ctx.framework, lines, sorted(ctx.planted), python)


def validate(gf: GeneratedFile) -> None:
    """Raise SyntaxError (with the file name) unless the file's Python parses."""
    try:
        ast.parse(gf.python, filename=gf.relpath)
    except SyntaxError as exc:
        raise SyntaxError(f"{gf.relpath}:{exc.lineno}: {exc.msg}") from exc


CORPUS_PYPROJECT = """\
# The benchmark corpus is a project of its own.  With the empty .git/ folder next
# to this file it is its own repository root, so tools that honour .gitignore files
# (the parent repository ignores bench/out/) still lint it; the empty tool tables
# stop configuration lookup here, so every tool runs with its defaults.
[project]
name = "cnnlint-bench-corpus"
version = "0.0.0"

[tool.cnnlint]

[tool.ruff]

[tool.fixit]
root = true
"""


def mark_project_root(out_dir: str) -> None:
    """Make out_dir a project root: a pyproject.toml and an empty .git/ folder (see CORPUS_PYPROJECT)."""
    with open(os.path.join(out_dir, "pyproject.toml"), "w", encoding="utf-8") as fh:
        fh.write(CORPUS_PYPROJECT)
    os.makedirs(os.path.join(out_dir, ".git"), exist_ok=True)


def generate_corpus(out_dir: str, n_files: int = DEFAULT_FILES, seed: int = DEFAULT_SEED,
                    clean: bool = True) -> dict:
    """Write n_files files under out_dir (replacing its contents) and return the manifest."""
    if clean and os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    entries = []
    for i in range(n_files):
        gf = generate_file(i, seed)
        validate(gf)
        if not (MIN_LINES <= gf.lines <= MAX_LINES):
            raise AssertionError(f"{gf.relpath}: {gf.lines} lines, outside {MIN_LINES}..{MAX_LINES}")
        path = os.path.join(out_dir, gf.relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(gf.content)
        entries.append({"path": gf.relpath, "kind": gf.kind, "framework": gf.framework, "lines": gf.lines,
                        "bytes": len(gf.content.encode("utf-8")), "planted": gf.planted})
    mark_project_root(out_dir)
    manifest = {"seed": seed, "n_files": n_files, "generator": "bench/corpus.py", "files": entries,
                "summary": summarize(entries)}
    with open(os.path.join(out_dir, MANIFEST_NAME), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    return manifest


def summarize(entries: Sequence[dict]) -> dict:
    lines = sorted(e["lines"] for e in entries)
    n = len(lines)

    def pct(p):
        return lines[min(n - 1, int(p * n))] if n else 0

    planted = {c: sum(1 for e in entries if c in e["planted"]) for c in FOUNDING_CODES}
    return {
        "files": n,
        "scripts": sum(1 for e in entries if e["kind"] == "script"),
        "notebooks": sum(1 for e in entries if e["kind"] == "notebook"),
        "keras": sum(1 for e in entries if e["framework"] == "keras"),
        "torch": sum(1 for e in entries if e["framework"] == "torch"),
        "lines_total": sum(lines),
        "lines_min": lines[0] if n else 0,
        "lines_p10": pct(0.10),
        "lines_median": (lines[n // 2] if n % 2 else (lines[n // 2 - 1] + lines[n // 2]) // 2) if n else 0,
        "lines_p90": pct(0.90),
        "lines_max": lines[-1] if n else 0,
        "bytes_total": sum(e["bytes"] for e in entries),
        "planted": planted,
        "clean_files": sum(1 for e in entries if not e["planted"]),
    }


def load_manifest(out_dir: str) -> Optional[dict]:
    path = os.path.join(out_dir, MANIFEST_NAME)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate the cnnlint benchmark corpus.")
    ap.add_argument("out_dir")
    ap.add_argument("--files", type=int, default=DEFAULT_FILES)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    a = ap.parse_args(argv)
    m = generate_corpus(a.out_dir, a.files, a.seed)
    print(json.dumps(m["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
