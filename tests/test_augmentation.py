"""CNL103 augmentation on validation/test data; CNL104 truncated images hidden."""

import pytest

from conftest import lint


def found(code, path="train.py", select=("CNL103", "CNL104")):
    return [(f.code, f.line, f.column) for f in lint(code, path, select)]


IDG = "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"


# ---------------------------------------------------------------- CNL104


class TestTruncatedImages:
    @pytest.mark.parametrize("code", [
        "from PIL import ImageFile\nImageFile.LOAD_TRUNCATED_IMAGES = True\n",
        "from PIL import Image, ImageFile as IF\nIF.LOAD_TRUNCATED_IMAGES = True\n",
        "import PIL.ImageFile\nPIL.ImageFile.LOAD_TRUNCATED_IMAGES = True\n",
        "import PIL.ImageFile as pif\npif.LOAD_TRUNCATED_IMAGES = 1\n",
        'from PIL import ImageFile\nsetattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)\n',
    ])
    def test_positive(self, code):
        assert found(code) == [("CNL104", 2, 1)]

    def test_message_and_hint(self):
        (f,) = lint("from PIL import ImageFile\nImageFile.LOAD_TRUNCATED_IMAGES = True\n", select=("CNL104",))
        assert f.message == (
            "`ImageFile.LOAD_TRUNCATED_IMAGES = True` makes Pillow load truncated or corrupt image files without an "
            "error, filling the missing pixels with grey, so broken images train silently"
        )
        assert "cnnlint data/" in f.hint
        assert f.severity.value == "warning"

    @pytest.mark.parametrize("code", [
        "from PIL import ImageFile\nImageFile.LOAD_TRUNCATED_IMAGES = False\n",
        "from PIL import ImageFile\nprint(ImageFile.LOAD_TRUNCATED_IMAGES)\n",
        # an unrelated object called ImageFile
        "from mylib import ImageFile\nImageFile.LOAD_TRUNCATED_IMAGES = True\n",
        "class ImageFile:\n    pass\nImageFile.LOAD_TRUNCATED_IMAGES = True\n",
        "cfg.LOAD_TRUNCATED_IMAGES = True\n",
        "# ImageFile.LOAD_TRUNCATED_IMAGES = True\n",
    ])
    def test_negative(self, code):
        assert found(code) == []

    def test_notebook_cell(self):
        nb = "import numpy as np\n# %%\nfrom PIL import ImageFile\nImageFile.LOAD_TRUNCATED_IMAGES = True\n"
        (f,) = lint(nb, "train.ipynb", select=("CNL104",))
        assert (f.cell, f.line) == (2, 2)


# ---------------------------------------------------------------- CNL103: Keras


class TestKerasGenerators:
    def test_val_folder(self):
        code = IDG + (
            "datagen = ImageDataGenerator(rescale=1/255, rotation_range=40, horizontal_flip=True)\n"
            "train_gen = datagen.flow_from_directory('data/train')\n"
            "val_gen = datagen.flow_from_directory('data/val')\n"
        )
        (f,) = lint(code, select=("CNL103",))
        assert (f.line, f.column) == (4, 11)
        assert f.message == (
            "`datagen` applies random augmentation (rotation_range=40, horizontal_flip=True) and also generates "
            "validation or test data (it reads `'data/val'`), so those images are randomly altered and the scores "
            "measured on them are pessimistic and change from run to run"
        )

    def test_subset_validation_is_reported(self):
        # decision: one augmenting generator with validation_split augments the validation subset too
        code = IDG + (
            "datagen = ImageDataGenerator(rescale=1/255, zoom_range=0.2, validation_split=0.2)\n"
            "train_gen = datagen.flow_from_directory(DATA, subset='training')\n"
            "val_gen = datagen.flow_from_directory(DATA, subset='validation')\n"
        )
        assert found(code) == [("CNL103", 4, 11)]
        assert 'subset="validation"' in lint(code, select=("CNL103",))[0].message

    def test_validation_data_and_evaluate(self):
        code = IDG + (
            "aug = ImageDataGenerator(width_shift_range=0.1)\n"
            "model.fit(aug.flow(x_train, y_train), validation_data=aug.flow(xs, ys))\n"
            "gen = aug.flow(xs, ys)\n"
            "model.evaluate(gen)\n"
        )
        assert found(code) == [("CNL103", 3, 55), ("CNL103", 4, 7)]

    def test_test_arrays_and_names(self):
        code = IDG + (
            "aug = ImageDataGenerator(shear_range=0.2)\n"
            "a = aug.flow(X_test, y_test)\n"
            "test_generator = aug.flow_from_dataframe(df, directory=IMAGES)\n"
        )
        assert found(code) == [("CNL103", 3, 5), ("CNL103", 4, 18)]

    @pytest.mark.parametrize("code", [
        # separate generators: only training augments (the Keras docs pattern)
        "train_datagen = ImageDataGenerator(rescale=1./255, shear_range=0.2, zoom_range=0.2, horizontal_flip=True)\n"
        "test_datagen = ImageDataGenerator(rescale=1./255)\n"
        "train_generator = train_datagen.flow_from_directory('data/train')\n"
        "validation_generator = test_datagen.flow_from_directory('data/validation')\n"
        "model.fit(train_generator, validation_data=validation_generator)\n",
        # validation_split with a second, plain generator
        "train_datagen = ImageDataGenerator(rescale=1./255, rotation_range=20, validation_split=0.2)\n"
        "val_datagen = ImageDataGenerator(rescale=1./255, validation_split=0.2)\n"
        "t = train_datagen.flow_from_directory(DATA, subset='training', seed=1)\n"
        "v = val_datagen.flow_from_directory(DATA, subset='validation', seed=1)\n",
        # augmentation switched off
        "gen = ImageDataGenerator(rescale=1./255, rotation_range=0, horizontal_flip=False)\n"
        "v = gen.flow_from_directory('data/val')\n",
        # unknown kwargs
        "gen = ImageDataGenerator(**aug_args)\nv = gen.flow_from_directory('data/val')\n",
        # the generator name is rebound to a plain one
        "gen = ImageDataGenerator(rotation_range=10)\nt = gen.flow_from_directory('data/train')\n"
        "gen = ImageDataGenerator(rescale=1/255)\nv = gen.flow_from_directory('data/val')\n",
        # a function parameter: unknown
        "gen = ImageDataGenerator(rotation_range=10)\n"
        "def make(gen, d):\n    return gen.flow_from_directory('data/test')\n",
        # training data only
        "gen = ImageDataGenerator(rotation_range=10)\nmodel.fit(gen.flow(x_train, y_train), validation_data=(x_val, y_val))\n",
        # explicit test-time augmentation
        "tta_steps = 10\ngen = ImageDataGenerator(horizontal_flip=True)\n"
        "for i in range(tta_steps):\n    preds = model.predict(gen.flow(x_test, shuffle=False))\n",
    ])
    def test_negative(self, code):
        assert found(IDG + code) == []


# ---------------------------------------------------------------- CNL103: tf.data


TFDATA = (
    "import tensorflow as tf\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
    "data_augmentation = keras.Sequential([layers.RandomFlip('horizontal'), layers.RandomRotation(0.1)])\n"
)


class TestTfData:
    def test_map_on_val_dataset(self):
        code = TFDATA + "val_ds = val_ds.map(lambda x, y: (data_augmentation(x, training=True), y))\n"
        (f,) = lint(code, select=("CNL103",))
        assert (f.line, f.column) == (5, 10)
        assert f.message.startswith("`val_ds.map(...)` applies random augmentation (RandomFlip, RandomRotation)")

    def test_subset_validation_dataset_and_tf_image_random(self):
        code = TFDATA + (
            "ds = keras.utils.image_dataset_from_directory('d', validation_split=0.2, subset='validation', seed=1)\n"
            "def aug(x, y):\n    return tf.image.random_flip_left_right(x), y\n"
            "ds = ds.map(aug)\n"
        )
        assert found(code) == [("CNL103", 8, 6)]

    @pytest.mark.parametrize("code", [
        # training dataset only
        "train_ds = train_ds.map(lambda x, y: (data_augmentation(x, training=True), y))\n",
        # inactive
        "val_ds = val_ds.map(lambda x, y: (data_augmentation(x, training=False), y))\n",
        # deterministic preprocessing
        "val_ds = val_ds.map(lambda x, y: (layers.Rescaling(1/255)(x), y))\n",
        # the TF tutorial helper: augmentation under a flag, on a parameter
        "def prepare(ds, augment=False):\n    if augment:\n"
        "        ds = ds.map(lambda x, y: (data_augmentation(x, training=True), y))\n    return ds\n"
        "train_ds = prepare(train_ds, augment=True)\nval_ds = prepare(val_ds)\n",
        # layers inside the model
        "model = keras.Sequential([data_augmentation, layers.Rescaling(1/255), layers.Dense(2)])\n"
        "model.evaluate(val_ds)\n",
    ])
    def test_negative(self, code):
        assert found(TFDATA + code) == []


# ---------------------------------------------------------------- CNL103: torchvision

TV = "import os\nimport torch\nfrom torchvision import datasets, transforms\n"
TRAIN_TF = (
    "train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ColorJitter(0.4), "
    "transforms.ToTensor()])\n"
    "val_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])\n"
)


class TestTorchvision:
    def test_train_false(self):
        code = TV + TRAIN_TF + "test_set = datasets.CIFAR10('data', train=False, transform=train_tf)\n"
        (f,) = lint(code, select=("CNL103",))
        assert (f.line, f.column) == (6, 60)
        assert f.message == (
            "the transform of `datasets.CIFAR10(...)` applies random augmentation (RandomResizedCrop, ColorJitter) "
            "to validation or test data (train=False), so the scores measured on it are pessimistic and change "
            "from run to run"
        )

    def test_val_folder_split_and_name(self):
        code = TV + TRAIN_TF + (
            "a = datasets.ImageFolder(os.path.join(root, 'val'), train_tf)\n"
            "b = datasets.Food101('data', split='test', transform=train_tf)\n"
            "val_dataset = datasets.ImageFolder(data_dir, transform=train_tf)\n"
            "tfs = {'train': train_tf, 'val': val_tf}\n"
            "c = datasets.ImageFolder(val_dir, transform=tfs['train'])\n"
        )
        assert found(code) == [("CNL103", 6, 53), ("CNL103", 7, 54), ("CNL103", 8, 56), ("CNL103", 10, 45)]

    @pytest.mark.parametrize("code", [
        # RandomResizedCrop in the training transform only
        "train_set = datasets.ImageFolder('data/train', transform=train_tf)\n"
        "val_set = datasets.ImageFolder('data/val', transform=val_tf)\n",
        "test_set = datasets.CIFAR10('data', train=False, transform=val_tf)\n",
        # the PyTorch transfer-learning tutorial: dict by a loop variable
        "data_transforms = {'train': train_tf, 'val': val_tf}\n"
        "image_datasets = {x: datasets.ImageFolder(os.path.join(root, x), data_transforms[x]) for x in ['train', 'val']}\n",
        "tfs = {'train': train_tf, 'val': val_tf}\nv = datasets.ImageFolder(val_dir, transform=tfs['val'])\n",
        # picked by a train flag
        "def get_transform(train):\n    if train:\n        return train_tf\n    return val_tf\n"
        "val_set = datasets.ImageFolder('data/val', transform=get_transform(False))\n",
        # a parameter
        "def build(val_dir, train_tf):\n    return datasets.ImageFolder(val_dir, transform=train_tf)\n",
        # train=True and a train folder
        "s = datasets.CIFAR10('data', train=True, transform=train_tf)\n"
        "t = datasets.ImageFolder('data/train', transform=train_tf)\n",
    ])
    def test_negative(self, code):
        assert found(TV + TRAIN_TF + code) == []

    def test_notebook(self):
        nb = TV + TRAIN_TF + "# %%\ntestset = datasets.CIFAR10(root, train=False, download=True, transform=train_tf)\n"
        (f,) = lint(nb, "nb.ipynb", select=("CNL103",))
        assert (f.cell, f.line) == (2, 1)


@pytest.mark.parametrize("text, named", [
    ("preds = tta(model, x)", True),
    ("use_TTA = True", True),
    ("x_tta = flip(x)", True),
    ("tta_steps = 5", True),
    ("# Test-Time augmentation", True),
    ("test time", True),
    ("test_time_aug = 1", True),
    ("battery = attach(attack)", False),
    ("test_loader = make(testtime)", True),
    ("testing time", False),
    ("", False),
])
def test_mentions_tta_matches_words_not_parts_of_words(text, named):
    from cnnlint.lint.rules.cnl103_augmented_validation_data import mentions_tta

    assert mentions_tta(text) is named
