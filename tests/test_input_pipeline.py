"""CNL101 missing-normalization and CNL102 no-data-generator."""

import textwrap

import pytest

from cnnlint.lint.index.scopes import Scopes
from conftest import lint

D = textwrap.dedent


def found(code, path="train.py", rule="CNL1"):
    return lint(textwrap.dedent(code), path, select=(rule,))


def where(code, path="train.py", rule="CNL1"):
    return [(f.code, f.line, f.column) for f in found(code, path, rule)]


def only(code, path="train.py", rule="CNL1"):
    fs = found(code, path, rule)
    assert len(fs) == 1, [(f.code, f.line, f.message) for f in fs]
    return fs[0]


KERAS_MODEL = """
from tensorflow.keras import layers, models
model = models.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(150, 150, 3)),
    layers.Flatten(),
    layers.Dense(1, activation="sigmoid"),
])
model.compile("adam", "binary_crossentropy")
"""

# --------------------------------------------------------------------------- CNL101, Keras generators


def test_idg_without_rescale_flagged_at_the_constructor():
    f = only(
        """\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        from tensorflow.keras import layers, models

        train_datagen = ImageDataGenerator(rotation_range=40, horizontal_flip=True)
        train_gen = train_datagen.flow_from_directory("data/train", target_size=(150, 150))
        model = models.Sequential([layers.Conv2D(32, 3, input_shape=(150, 150, 3)), layers.Flatten(), layers.Dense(1)])
        model.fit(train_gen, epochs=5)
        """
    )
    assert (f.code, f.line, f.column, f.end_line) == ("CNL101", 4, 17, 4)
    assert f.message == (
        "`ImageDataGenerator(...)` assigned to `train_datagen` has no rescale, preprocessing_function or "
        "centering/normalization, and its `flow_from_directory` batches reach `model.fit` as raw 0-255 pixels"
    )
    assert f.hint == "add rescale=1./255 (or preprocessing_function=preprocess_input for a pretrained model)"
    assert f.severity.value == "warning"


def test_idg_empty_call_cats_vs_dogs_with_fit_generator():
    f = only(
        """\
        from keras.preprocessing.image import ImageDataGenerator
        from keras.models import Sequential
        from keras.layers import Conv2D, Dense, Flatten
        datagen = ImageDataGenerator()
        train_generator = datagen.flow_from_directory("train", target_size=(150, 150), class_mode="binary")
        model = Sequential()
        model.add(Conv2D(32, (3, 3), input_shape=(150, 150, 3)))
        model.add(Flatten())
        model.add(Dense(1, activation="sigmoid"))
        model.fit_generator(train_generator, steps_per_epoch=100, epochs=50)
        """
    )
    assert (f.line, f.column) == (4, 11)
    assert "`ImageDataGenerator()` assigned to `datagen`" in f.message
    assert "`model.fit_generator`" in f.message


def test_idg_inline_chain_and_tf_keras_attribute_path():
    f = only(
        """\
        import tensorflow as tf
        model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])
        model.fit(tf.keras.preprocessing.image.ImageDataGenerator(zoom_range=0.2).flow_from_directory("d"), epochs=1)
        """
    )
    assert (f.line, f.column) == (3, 11)
    assert f.message.startswith("`tf.keras.preprocessing.image.ImageDataGenerator(...)` has no rescale")


def test_idg_flow_over_unscaled_loaded_array():
    fs = found(
        """\
        import cv2, glob
        import numpy as np
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        from tensorflow.keras import layers, models
        X = np.array([cv2.imread(p) for p in glob.glob("data/*.jpg")])
        y = np.zeros(len(X))
        aug = ImageDataGenerator(horizontal_flip=True)
        model = models.Sequential([layers.Flatten(), layers.Dense(1)])
        model.fit(aug.flow(X, y, batch_size=32), epochs=3)
        """
    )
    assert [(f.code, f.line, f.column) for f in fs] == [("CNL101", 7, 7), ("CNL102", 9, 20)]
    assert "its `flow` batches reach `model.fit`" in fs[0].message
    assert "`datagen.flow`" not in fs[1].message and "`aug.flow`" in fs[1].message


def test_validation_generator_without_rescale_when_training_one_has_it():
    f = only(
        """\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        train_datagen = ImageDataGenerator(rescale=1./255, shear_range=0.2)
        test_datagen = ImageDataGenerator()
        train_generator = train_datagen.flow_from_directory("train")
        validation_generator = test_datagen.flow_from_directory("validation")
        model.fit(train_generator, validation_data=validation_generator, epochs=50)
        """
    )
    assert (f.line, f.column) == (3, 16)
    assert f.message == (
        "`ImageDataGenerator()` assigned to `test_datagen` has no rescale or preprocessing_function, but the "
        "training generator `train_datagen` has: validation batches reach `model.fit` on a different pixel "
        "scale than the training batches"
    )
    assert f.hint == "give test_datagen the same rescale/preprocessing_function as train_datagen"


def test_generator_without_rescale_used_only_for_evaluation_is_quiet():
    assert where(
        D("""\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        train_datagen = ImageDataGenerator(rescale=1./255)
        test_datagen = ImageDataGenerator()
        model.fit(train_datagen.flow_from_directory("train"), epochs=5)
        model.evaluate(test_datagen.flow_from_directory("test"))
        """)
        + KERAS_MODEL
    ) == []


def test_validation_datagen_with_rescale_is_quiet():
    assert where(
        KERAS_MODEL
        + """
from tensorflow.keras.preprocessing.image import ImageDataGenerator
train_datagen = ImageDataGenerator(rescale=1./255, rotation_range=40, horizontal_flip=True)
validation_datagen = ImageDataGenerator(rescale=1./255)
train_generator = train_datagen.flow_from_directory("train", target_size=(150, 150))
validation_generator = validation_datagen.flow_from_directory("validation", target_size=(150, 150))
model.fit(train_generator, validation_data=validation_generator, epochs=30)
"""
    ) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        "rescale=1./255",
        "rescale=1/255.0, rotation_range=20",
        "preprocessing_function=preprocess_input",
        "preprocessing_function=tf.keras.applications.mobilenet_v2.preprocess_input",
        "featurewise_center=True, featurewise_std_normalization=True",
        "samplewise_center=True",
        "samplewise_std_normalization=True",
        "**aug_params",
        "0, 0",
    ],
)
def test_idg_that_normalizes_or_is_unknowable_is_quiet(kwargs):
    code = (
        "import tensorflow as tf\n"
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "from tensorflow.keras.applications.mobilenet_v2 import preprocess_input\n"
        "aug_params = dict(rescale=1./255)\n"
        f"gen = ImageDataGenerator({kwargs})\n" + KERAS_MODEL + "model.fit(gen.flow_from_directory('train'), epochs=3)\n"
    )
    assert where(code) == []
    # the same file with an augmentation-only generator is flagged
    assert where(code.replace(f"ImageDataGenerator({kwargs})", "ImageDataGenerator(zoom_range=0.2)")) == [("CNL101", 5, 7)]


def test_idg_explicit_none_rescale_is_flagged():
    assert where(
        "from keras.preprocessing.image import ImageDataGenerator\n"
        "gen = ImageDataGenerator(rescale=None, zoom_range=0.1)\n" + KERAS_MODEL
        + "model.fit(gen.flow_from_directory('train'))\n"
    ) == [("CNL101", 2, 7)]


def test_augmentation_generator_over_prescaled_array_is_quiet():
    # the pyimagesearch pattern: arrays divided by 255 first, the generator only augments
    assert where(
        """\
        import cv2, os
        import numpy as np
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        from tensorflow.keras import layers, models
        data = []
        for p in os.listdir("images"):
            data.append(cv2.resize(cv2.imread(p), (32, 32)))
        data = np.array(data, dtype="float") / 255.0
        labels = np.zeros(len(data))
        aug = ImageDataGenerator(rotation_range=30, horizontal_flip=True, fill_mode="nearest")
        model = models.Sequential([layers.Flatten(), layers.Dense(1)])
        model.fit(aug.flow(data, labels, batch_size=32), epochs=75)
        """,
        rule="CNL101",
    ) == []


def test_augmentation_generator_over_keras_dataset_scaled_in_place_is_quiet():
    assert where(
        """\
        from keras.datasets import mnist
        from keras.models import Sequential
        from keras.layers import Conv2D, Dense, Flatten
        from keras.preprocessing.image import ImageDataGenerator
        (X_train, y_train), (X_test, y_test) = mnist.load_data()
        features_train = X_train.reshape(X_train.shape[0], 28, 28, 1).astype("float32")
        features_test = X_test.reshape(X_test.shape[0], 28, 28, 1).astype("float32")
        features_train /= 255.0
        features_test /= 255.0
        model = Sequential([Conv2D(32, (3, 3), input_shape=(28, 28, 1)), Flatten(), Dense(10)])
        train_generator = ImageDataGenerator(rotation_range=7, zoom_range=0.05)
        test_generator = ImageDataGenerator()
        train_generator = train_generator.flow(features_train, y_train, batch_size=64)
        test_generator = test_generator.flow(features_test, y_test, batch_size=64)
        model.fit_generator(train_generator, epochs=5, validation_data=test_generator)
        """
    ) == []


def test_generator_batches_scaled_in_a_wrapper_are_quiet():
    assert where(
        KERAS_MODEL + D("""\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        datagen = ImageDataGenerator(horizontal_flip=True)

        def scaled_batches():
            for x, y in datagen.flow_from_directory("train"):
                yield x / 255.0, y

        model.fit(scaled_batches(), steps_per_epoch=100)
        for xb, yb in datagen.flow_from_directory("train"):
            model.fit(xb / 255.0, yb)
            break
        """)
    ) == []


def test_idg_quiet_when_the_model_has_a_rescaling_layer():
    assert where(
        """\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        from tensorflow.keras import layers, models
        datagen = ImageDataGenerator(horizontal_flip=True)
        model = models.Sequential([layers.Rescaling(1./255), layers.Conv2D(16, 3), layers.Flatten(), layers.Dense(1)])
        model.fit(datagen.flow_from_directory("train"))
        """
    ) == []


def test_idg_quiet_when_the_model_is_loaded_or_not_built_here():
    loaded = """\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        from tensorflow.keras.models import load_model
        datagen = ImageDataGenerator()
        model = load_model("model.h5")
        model.fit(datagen.flow_from_directory("train"))
        """
    imported = """\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        from mymodels import build_model
        datagen = ImageDataGenerator()
        model = build_model()
        model.fit(datagen.flow_from_directory("train"))
        """
    assert where(loaded) == []
    assert where(imported) == []


def test_idg_fit_of_the_generator_statistics_is_not_training():
    # datagen.fit(X) computes featurewise statistics; no model.fit -> nothing
    assert where(
        """\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        datagen = ImageDataGenerator(rotation_range=10)
        datagen.fit(X_train)
        """
    ) == []


# --------------------------------------------------------------------------- CNL101, tf.data / image_dataset_from_directory


def test_image_dataset_from_directory_without_rescaling_layer():
    f = only(
        """\
        import tensorflow as tf
        from tensorflow.keras import layers

        train_ds = tf.keras.utils.image_dataset_from_directory("flowers", validation_split=0.2, subset="training",
                                                               seed=123, image_size=(180, 180))
        train_ds = train_ds.cache().shuffle(1000).prefetch(tf.data.AUTOTUNE)
        model = tf.keras.Sequential([
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(5),
        ])
        model.fit(train_ds, epochs=10)
        """
    )
    assert (f.code, f.line, f.column, f.end_line) == ("CNL101", 4, 12, 5)
    assert f.message == (
        "`tf.keras.utils.image_dataset_from_directory(...)` assigned to `train_ds` yields raw 0-255 pixels, and "
        "neither its `map` steps nor the model (no `Rescaling`/`Normalization` layer, no `preprocess_input`) "
        "scale them before `model.fit`"
    )
    assert "Rescaling(1./255)" in f.hint


def test_image_dataset_from_directory_subset_both_and_augmentation_map():
    f = only(
        """\
        import keras
        from keras import layers
        train_ds, val_ds = keras.utils.image_dataset_from_directory("pets", validation_split=0.2, subset="both",
                                                                    seed=1337, image_size=(180, 180))
        augment = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)])
        train_ds = train_ds.map(lambda img, label: (augment(img), label))
        inputs = keras.Input(shape=(180, 180, 3))
        x = layers.Conv2D(32, 3)(inputs)
        outputs = layers.Dense(1)(layers.Flatten()(x))
        model = keras.Model(inputs, outputs)
        model.fit(train_ds, epochs=25, validation_data=val_ds)
        """
    )
    assert (f.line, f.column) == (3, 20)
    assert "assigned to `train_ds, val_ds`" in f.message


def test_pretrained_model_without_preprocess_input_is_flagged():
    f = only(
        """\
        import tensorflow as tf
        train_ds = tf.keras.preprocessing.image_dataset_from_directory("data/train", image_size=(224, 224))
        base = tf.keras.applications.ResNet50(include_top=False, weights="imagenet", input_shape=(224, 224, 3))
        base.trainable = False
        model = tf.keras.Sequential([base, tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dense(3)])
        model.fit(train_ds, epochs=3)
        """
    )
    assert (f.line, f.column) == (2, 12)


@pytest.mark.parametrize(
    "model_code",
    [
        # a Rescaling layer defined after the dataset
        "model = keras.Sequential([layers.Rescaling(1./255), layers.Conv2D(16, 3), layers.Flatten(), layers.Dense(5)])",
        # the older experimental path
        "model = keras.Sequential([layers.experimental.preprocessing.Rescaling(1./255), layers.Dense(5)])",
        # a Normalization layer adapted on the data
        "norm = layers.Normalization()\nnorm.adapt(train_ds.map(lambda x, y: x))\nmodel = keras.Sequential([norm, layers.Dense(5)])",
        # EfficientNet and friends rescale inside the model
        "base = keras.applications.EfficientNetB0(include_top=False)\nmodel = keras.Sequential([base, layers.Dense(5)])",
        "base = keras.applications.ConvNeXtTiny(include_top=False)\nmodel = keras.Sequential([base, layers.Dense(5)])",
        "base = keras.applications.MobileNetV3Small(include_top=False)\nmodel = keras.Sequential([base, layers.Dense(5)])",
        "base = keras.applications.EfficientNetV2S(include_top=False)\nmodel = keras.Sequential([base, layers.Dense(5)])",
        "base = keras.applications.RegNetX002(include_top=False)\nmodel = keras.Sequential([base, layers.Dense(5)])",
        # preprocess_input in the functional model
        "inputs = keras.Input((224, 224, 3))\nx = keras.applications.mobilenet_v2.preprocess_input(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(5)(x))",
        # a division by the Input tensor in the functional model
        "inputs = keras.Input((224, 224, 3))\nx = inputs / 255.0\nmodel = keras.Model(inputs, layers.Dense(5)(x))",
        # a Lambda layer that scales
        "model = keras.Sequential([layers.Lambda(lambda t: t / 127.5 - 1), layers.Dense(5)])",
    ],
)
def test_image_dataset_from_directory_quiet_when_the_model_scales(model_code):
    code = (
        "import keras\nfrom keras import layers\n"
        "train_ds = keras.utils.image_dataset_from_directory('data', image_size=(224, 224))\n"
        + model_code
        + "\nmodel.fit(train_ds, epochs=3)\n"
    )
    assert where(code) == []


def test_mobilenetv3_without_its_preprocessing_is_flagged():
    assert where(
        "import keras\nfrom keras import layers\n"
        "train_ds = keras.utils.image_dataset_from_directory('data', image_size=(224, 224))\n"
        "base = keras.applications.MobileNetV3Small(include_top=False, include_preprocessing=False)\n"
        "model = keras.Sequential([base, layers.Dense(5)])\n"
        "model.fit(train_ds, epochs=3)\n"
    ) == [("CNL101", 3, 12)]


@pytest.mark.parametrize(
    "pipeline",
    [
        "train_ds = train_ds.map(lambda x, y: (x / 255, y))",
        "train_ds = train_ds.map(lambda x, y: (tf.cast(x, tf.float32) * (1. / 255), y))",
        "def preprocess(image, label):\n    return image / 255.0, label\ntrain_ds = train_ds.map(preprocess)",
        "def preprocess(image, label):\n    image = tf.cast(image, tf.float32)\n    return image, label\ntrain_ds = train_ds.map(preprocess)",
        "def prep(image, label):\n    return tf.keras.applications.resnet50.preprocess_input(image), label\n"
        "train_ds = train_ds.map(prep)",
        "train_ds = train_ds.map(lambda x, y: (tf.keras.applications.resnet50.preprocess_input(x), y))",
        "def inner(x):\n    return x / 255.\ndef outer(x, y):\n    return inner(x), y\ntrain_ds = train_ds.map(outer)",
        # a mapped function we cannot see: quiet
        "from myproject.data import preprocess\ntrain_ds = train_ds.map(preprocess)",
        "train_ds = train_ds.map(tf.image.per_image_standardization)",
    ],
)
def test_image_dataset_from_directory_quiet_when_a_map_scales(pipeline):
    code = (
        "import tensorflow as tf\n"
        "train_ds = tf.keras.utils.image_dataset_from_directory('data', image_size=(224, 224))\n"
        + pipeline
        + "\ntrain_ds = train_ds.prefetch(2)\n"
        "model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(5)])\n"
        "model.fit(train_ds, epochs=3)\n"
    )
    assert where(code) == []


def test_image_dataset_from_directory_flagged_when_the_mapped_function_only_augments():
    assert where(
        """\
        import tensorflow as tf
        ds = tf.keras.utils.image_dataset_from_directory("data", image_size=(128, 128))
        def augment(image, label):
            image = tf.image.random_flip_left_right(image)
            return image, label
        ds = ds.map(augment)
        model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(5)])
        model.fit(ds, epochs=3)
        """
    ) == [("CNL101", 2, 6)]


def test_image_dataset_from_directory_quiet_without_a_model_built_in_the_file():
    assert where(
        """\
        import tensorflow as tf
        from models import make_classifier
        ds = tf.keras.utils.image_dataset_from_directory("data", image_size=(128, 128))
        model = make_classifier()
        model.fit(ds, epochs=3)
        """
    ) == []
    # and when the dataset is never trained on
    assert where(
        "import tensorflow as tf\nds = tf.keras.utils.image_dataset_from_directory('data')\n"
        "for images, labels in ds.take(1):\n    print(images.shape)\n"
    ) == []


def test_tf_data_decode_pipeline_without_scaling():
    f = only(
        """\
        import tensorflow as tf

        def load_image(path, label):
            img = tf.io.read_file(path)
            img = tf.image.decode_jpeg(img, channels=3)
            img = tf.image.resize(img, [128, 128])
            return img, label

        ds = tf.data.Dataset.from_tensor_slices((paths, labels))
        ds = ds.map(load_image, num_parallel_calls=tf.data.AUTOTUNE).batch(32)
        model = tf.keras.Sequential([tf.keras.layers.Conv2D(8, 3), tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])
        model.fit(ds, epochs=5)
        """
    )
    assert (f.line, f.column) == (5, 11)
    assert f.message.startswith("`tf.image.decode_jpeg` in `load_image` yields 0-255 pixels")


def test_tf_data_decode_pipeline_with_convert_image_dtype_is_quiet():
    assert where(
        """\
        import tensorflow as tf
        def decode_img(img):
            img = tf.image.decode_jpeg(img, channels=3)
            img = tf.image.convert_image_dtype(img, tf.float32)
            return tf.image.resize(img, [299, 299])
        def process_path(filepath, label):
            img = tf.io.read_file(filepath)
            return decode_img(img), label
        ds = tf.data.Dataset.list_files("data/*/*.jpg").map(process_path).batch(32)
        model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])
        model.fit(ds)
        """
    ) == []


# --------------------------------------------------------------------------- CNL101, arrays


def test_keras_dataset_without_division_is_flagged():
    f = only(
        """\
        from tensorflow import keras
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        x_train = x_train.reshape(-1, 28, 28, 1)
        model = keras.Sequential([keras.layers.Conv2D(8, 3), keras.layers.Flatten(), keras.layers.Dense(10)])
        model.fit(x_train, y_train, epochs=3)
        """
    )
    assert (f.line, f.column) == (5, 11)
    assert f.message == (
        "`x_train` (`keras.datasets.mnist.load_data()`) reaches `model.fit` as raw 0-255 pixels: it is never "
        "divided, passed to preprocess_input or scaled by a model layer"
    )


@pytest.mark.parametrize(
    "scaling",
    [
        "x_train = x_train / 255.0",
        "x_train, x_test = x_train / 255.0, x_test / 255.0",
        "x_train = x_train.astype('float32')\nx_train /= 255",
        "x_train = tf.keras.utils.normalize(x_train, axis=1)",
        "x_train = (x_train - x_train.mean()) / x_train.std()",
    ],
)
def test_keras_dataset_scaled_is_quiet(scaling):
    code = (
        "import tensorflow as tf\n"
        "(x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()\n"
        + scaling
        + "\nmodel = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(10)])\n"
        "model.fit(x_train, y_train, epochs=3)\n"
    )
    assert where(code) == []


def test_loaded_array_without_division_raises_both_rules():
    fs = found(
        """\
        import os
        import cv2
        import numpy as np
        from sklearn.model_selection import train_test_split
        from tensorflow.keras.models import Sequential
        from tensorflow.keras.layers import Conv2D, Dense, Flatten

        X, y = [], []
        for label, folder in enumerate(os.listdir("data")):
            for f in os.listdir(os.path.join("data", folder)):
                img = cv2.imread(os.path.join("data", folder, f))
                X.append(cv2.resize(img, (64, 64)))
                y.append(label)
        X = np.array(X)
        X_train, X_test, y_train, y_test = train_test_split(X, np.array(y), test_size=0.2)
        model = Sequential([Conv2D(32, 3, input_shape=(64, 64, 3)), Flatten(), Dense(2)])
        model.fit(X_train, y_train, epochs=10, validation_data=(X_test, y_test))
        """
    )
    assert [(f.code, f.line, f.column) for f in fs] == [("CNL101", 17, 11), ("CNL102", 17, 11)]
    assert fs[0].message == (
        "`X_train` (images read by `cv2.imread` in the loop at line 10) reaches `model.fit` as raw 0-255 pixels: "
        "it is never divided, passed to preprocess_input or scaled by a model layer"
    )
    assert fs[0].hint == "divide the array by 255. (or call preprocess_input for a pretrained model) before fit"


@pytest.mark.parametrize(
    "step",
    [
        "img = img / 255.0",
        "img = tf.keras.applications.vgg16.preprocess_input(img)",
        "img = preprocess_input(img)",
        "img = cv2.normalize(img, None, 0, 1, cv2.NORM_MINMAX)",
    ],
)
def test_loaded_array_scaled_in_the_loop_is_not_cnl101(step):
    code = (
        "import cv2, glob\nimport numpy as np\nimport tensorflow as tf\n"
        "from tensorflow.keras.applications.vgg16 import preprocess_input\n"
        "X = []\nfor p in glob.glob('imgs/*.png'):\n    img = cv2.imread(p).astype('float32')\n"
        f"    {step}\n"
        "    X.append(img)\n"
        "X = np.array(X)\n"
        "model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])\n"
        "model.fit(X, y, epochs=2)\n"
    )
    assert [c for c, _, _ in where(code)] == ["CNL102"]


def test_matplotlib_imread_may_already_be_float_so_only_cnl102():
    assert [c for c, _, _ in where(
        """\
        import matplotlib.pyplot as plt
        import numpy as np
        import tensorflow as tf
        X = np.array([plt.imread(f) for f in files])
        model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])
        model.fit(X, y)
        """
    )] == ["CNL102"]


# --------------------------------------------------------------------------- CNL101, PyTorch


TORCH_LOOP = """
model = torchvision.models.resnet18(num_classes=2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for images, labels in loader:
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
"""


def test_compose_with_only_piltotensor_is_flagged():
    f = only(
        D("""\
        import torch
        import torchvision
        from torchvision import datasets, transforms
        train_tf = transforms.Compose([
            transforms.RandomResizedCrop(224),
            transforms.RandomHorizontalFlip(),
            transforms.PILToTensor(),
        ])
        train_set = datasets.ImageFolder("data/train", transform=train_tf)
        loader = torch.utils.data.DataLoader(train_set, batch_size=32, shuffle=True)
        """)
        + TORCH_LOOP
    )
    assert (f.code, f.line, f.column, f.end_line) == ("CNL101", 4, 12, 8)
    assert f.message == (
        "`transforms.Compose(...)` assigned to `train_tf` turns images into uint8 tensors with `PILToTensor` and "
        "has no `ToTensor`, `ConvertImageDtype`, `ToDtype(..., scale=True)` or `Normalize`; `datasets.ImageFolder` "
        "feeds these unscaled pixels to training"
    )
    assert "ConvertImageDtype" in f.hint


def test_v2_todtype_without_scale_is_flagged_and_with_scale_is_quiet():
    bad = D("""\
        import torch
        import torchvision
        from torchvision.transforms import v2
        tf = v2.Compose([v2.RandomResizedCrop(224), v2.ToImage(), v2.ToDtype(torch.float32)])
        train_set = torchvision.datasets.CIFAR10("data", train=True, transform=tf, download=True)
        loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
        """) + TORCH_LOOP
    f = only(bad)
    assert (f.line, f.column) == (4, 6)
    assert "casts to float with `ToDtype` but without scale=True" in f.message
    assert f.hint.startswith("pass scale=True")
    assert where(bad.replace("v2.ToDtype(torch.float32)", "v2.ToDtype(torch.float32, scale=True)")) == []
    # ToImage alone: still uint8
    assert where(bad.replace(", v2.ToDtype(torch.float32)", "")) == [("CNL101", 4, 6)]


@pytest.mark.parametrize(
    "steps",
    [
        "T.Resize(256), T.ToTensor()",
        "T.ToTensor(), T.Normalize((0.5,), (0.5,))",
        "T.PILToTensor(), T.ConvertImageDtype(torch.float)",
        "T.PILToTensor(), T.Lambda(lambda x: x / 255.)",
        "T.PILToTensor(), T.Lambda(lambda x: x.float().div(255))",
        "T.PILToTensor(), T.Normalize(mean, std)",
        # integer pixels on purpose (pixel-level models): not ours to judge
        "T.PILToTensor(), T.Lambda(lambda x: x.long())",
        # still PIL images at the end: converted somewhere we do not see
        "T.Resize(256), T.CenterCrop(224)",
        # a step we do not know
        "T.PILToTensor(), MyScale()",
        "T.PILToTensor(), *extra",
    ],
)
def test_compose_that_scales_or_is_unknowable_is_quiet(steps):
    code = (
        "import torch, torchvision\nimport torchvision.transforms as T\nfrom mylib import MyScale\n"
        f"tf = T.Compose([{steps}])\n"
        "train_set = torchvision.datasets.ImageFolder('data', tf)\n"
        "loader = torch.utils.data.DataLoader(train_set, shuffle=True)\n" + TORCH_LOOP
    )
    assert where(code) == []


def test_compose_quiet_when_scaled_in_the_training_loop_or_unused_for_training():
    base = """\
        import torch, torchvision
        from torchvision import transforms
        tf = transforms.Compose([transforms.Resize(64), transforms.PILToTensor()])
        train_set = torchvision.datasets.ImageFolder("data", transform=tf)
        loader = torch.utils.data.DataLoader(train_set, shuffle=True)
        """
    base = D(base)
    assert where(base + TORCH_LOOP.replace("model(images)", "model(images.float() / 255)")) == []
    # no training step in the file: inference or data preparation
    assert where(base) == []
    # a mask transform is not an image transform
    assert where(base.replace("transform=tf", "target_transform=tf") + TORCH_LOOP) == []
    # albumentations' Compose is not torchvision's
    assert where(
        "import torch\nimport albumentations as A\nimport torchvision\n"
        "tf = A.Compose([A.Resize(64, 64)])\n"
        "train_set = torchvision.datasets.ImageFolder('data', transform=tf)\n" + TORCH_LOOP
    ) == []


def test_compose_in_a_dict_of_transforms():
    assert where(
        D("""\
        import os, torch, torchvision
        from torchvision import datasets, transforms
        data_transforms = {
            "train": transforms.Compose([transforms.RandomResizedCrop(224), transforms.PILToTensor()]),
            "val": transforms.Compose([transforms.Resize(256), transforms.ToTensor()]),
        }
        image_datasets = {x: datasets.ImageFolder(os.path.join("data", x), data_transforms[x]) for x in ["train", "val"]}
        loader = torch.utils.data.DataLoader(image_datasets["train"], shuffle=True)
        """)
        + TORCH_LOOP
    ) == [("CNL101", 4, 14)]


def test_compose_given_to_a_dataset_class_defined_in_the_file():
    assert where(
        D("""\
        import torch, torchvision
        from PIL import Image
        from torch.utils.data import Dataset
        from torchvision import transforms

        class Leaves(Dataset):
            def __init__(self, paths, transform=None):
                self.paths, self.transform = paths, transform
            def __len__(self):
                return len(self.paths)
            def __getitem__(self, i):
                return self.transform(Image.open(self.paths[i])), 0

        tf = transforms.Compose([transforms.Resize(64), transforms.PILToTensor()])
        loader = torch.utils.data.DataLoader(Leaves(paths, transform=tf), shuffle=True)
        """)
        + TORCH_LOOP
    ) == [("CNL101", 14, 6)]


# --------------------------------------------------------------------------- CNL102


def test_cv2_loop_into_array_then_fit():
    f = only(
        """\
        import os
        import cv2
        import numpy as np
        from sklearn.model_selection import train_test_split
        import tensorflow as tf

        X = []
        y = []
        for label, folder in enumerate(os.listdir("data")):
            for name in os.listdir(os.path.join("data", folder)):
                img = cv2.imread(os.path.join("data", folder, name))
                img = cv2.resize(img, (64, 64))
                X.append(img)
                y.append(label)
        X = np.array(X) / 255.0
        y = np.array(y)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
        model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])
        model.fit(X_train, y_train, epochs=10)
        """,
        rule="CNL102",
    )
    assert (f.code, f.line, f.column, f.end_column) == ("CNL102", 19, 11, 18)
    assert f.message == (
        "`X_train` holds every image read by `cv2.imread` in the loop at line 10 and is passed whole to "
        "`model.fit`: the whole image set sits in memory at once"
    )
    assert f.hint == (
        "stream from disk: image_dataset_from_directory / tf.data / a Dataset with __getitem__ / flow_from_directory"
    )
    assert f.severity.value == "warning"


def test_sentdex_training_data_pairs():
    f = only(
        """\
        import os, random
        import cv2
        import numpy as np
        import tensorflow as tf
        DATADIR, CATEGORIES, IMG_SIZE = "PetImages", ["Dog", "Cat"], 50
        training_data = []

        def create_training_data():
            for category in CATEGORIES:
                path = os.path.join(DATADIR, category)
                class_num = CATEGORIES.index(category)
                for img in os.listdir(path):
                    try:
                        img_array = cv2.imread(os.path.join(path, img), cv2.IMREAD_GRAYSCALE)
                        new_array = cv2.resize(img_array, (IMG_SIZE, IMG_SIZE))
                        training_data.append([new_array, class_num])
                    except Exception:
                        pass

        create_training_data()
        random.shuffle(training_data)
        X = []
        y = []
        for features, label in training_data:
            X.append(features)
            y.append(label)
        X = np.array(X).reshape(-1, IMG_SIZE, IMG_SIZE, 1)
        X = X / 255.0
        model = tf.keras.Sequential([tf.keras.layers.Conv2D(64, (3, 3)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(1)])
        model.fit(X, np.array(y), batch_size=32, epochs=3, validation_split=0.3)
        """
    )
    assert (f.code, f.line, f.column) == ("CNL102", 30, 11)
    assert "read by `cv2.imread` in the loop at line 12" in f.message


def test_function_that_builds_and_returns_the_arrays():
    f = only(
        """\
        import os
        import numpy as np
        from PIL import Image
        from keras.models import Sequential
        from keras.layers import Dense, Flatten

        def load_data(folder):
            x, y = list(), list()
            for name in os.listdir(folder):
                img = Image.open(os.path.join(folder, name)).convert("RGB").resize((100, 100))
                x.append(np.array(img))
                y.append(name.split("_")[0])
            return np.array(x), np.array(y)

        X_train, Y_train = load_data("train")
        X_train = (X_train - X_train.mean()) / 255.0
        model = Sequential([Flatten(), Dense(5)])
        model.fit(X_train, Y_train, epochs=100)
        """
    )
    assert (f.code, f.line, f.column) == ("CNL102", 18, 11)
    assert "read by `Image.open` in the loop at line 9" in f.message


def test_comprehension_into_tensordataset():
    f = only(
        D("""\
        import glob
        import numpy as np
        import torch
        from PIL import Image
        from torch.utils.data import DataLoader, TensorDataset

        paths = sorted(glob.glob("data/*.png"))
        images = np.stack([np.asarray(Image.open(p).convert("L")) for p in paths]) / 255.0
        x = torch.tensor(images, dtype=torch.float32).unsqueeze(1)
        dataset = TensorDataset(x, torch.tensor(labels))
        loader = DataLoader(dataset, batch_size=64, shuffle=True)
        """) + TORCH_LOOP
    )
    assert (f.code, f.line, f.column) == ("CNL102", 10, 25)
    assert f.message == (
        "`x` holds every image read by `Image.open` in the comprehension at line 8 and is passed whole to "
        "`TensorDataset`: the whole image set sits in memory at once"
    )


def test_from_tensor_slices_with_load_img():
    f = only(
        """\
        import tensorflow as tf
        from tensorflow.keras.preprocessing.image import load_img, img_to_array
        images = []
        for path in df["path"]:
            images.append(img_to_array(load_img(path, target_size=(224, 224))) / 255.0)
        ds = tf.data.Dataset.from_tensor_slices((images, df["label"].values)).batch(32)
        """
    )
    assert (f.code, f.line, f.column) == ("CNL102", 6, 42)
    assert "read by `load_img` in the loop at line 4" in f.message
    assert "`tf.data.Dataset.from_tensor_slices`" in f.message


@pytest.mark.parametrize(
    "loading",
    [
        "X = np.zeros((len(paths), 64, 64, 3))\nfor i, p in enumerate(paths):\n    X[i] = imageio.imread(p)",
        "X = list(map(cv2.imread, paths))",
        "X = None\nfor p in paths:\n    img = skimage.io.imread(p)[None]\n    X = img if X is None else np.concatenate([X, img])",
        "X = []\ni = 0\nwhile i < len(paths):\n    X += [cv2.imread(paths[i])]\n    i += 1",
        "X = [img for p in paths if (img := cv2.imread(p)) is not None]",
        "X = np.array([tf.keras.utils.img_to_array(tf.keras.utils.load_img(p)) for p in paths])",
        "X = []\nfor p in paths:\n    X.append(torchvision.io.read_image(p))",
        "def read(p):\n    return cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)\nX = np.array([read(p) for p in paths])",
    ],
)
def test_loader_variants(loading):
    code = (
        "import cv2, imageio, skimage.io, torchvision\nimport numpy as np\nimport tensorflow as tf\n"
        + loading
        + "\nmodel = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])\n"
        "model.fit(np.asarray(X) / 255., y)\n"
    )
    fs = found(code, rule="CNL102")
    assert [f.code for f in fs] == ["CNL102"]
    assert fs[0].line == code.count("\n")


def test_sequence_subclass_given_the_whole_array():
    f = only(
        """\
        import numpy as np
        from PIL import Image
        from tensorflow.keras.utils import Sequence

        class Mixup(Sequence):
            def __init__(self, x, y, batch_size=32):
                self.x, self.y, self.batch_size = x, y, batch_size
            def __len__(self):
                return len(self.x) // self.batch_size
            def __getitem__(self, i):
                return self.x[i * 32:(i + 1) * 32], self.y[i * 32:(i + 1) * 32]

        X = np.array([np.array(Image.open(p)) for p in paths]) / 255.0
        gen = Mixup(X, y)
        """
    )
    assert (f.code, f.line, f.column) == ("CNL102", 14, 13)
    assert "`Mixup`" in f.message


def test_notebook_cells_see_earlier_definitions():
    fs = found(
        """\
        import cv2, glob
        import numpy as np
        # %%
        data = []
        for p in glob.glob("train/*.jpg"):
            data.append(cv2.resize(cv2.imread(p), (128, 128)))
        # %%
        import tensorflow as tf
        model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])
        # %%
        X = np.array(data)
        model.fit(X, labels, epochs=5)
        """,
        path="train.ipynb",
    )
    assert [(f.code, f.cell, f.line, f.column) for f in fs] == [("CNL101", 4, 2, 11), ("CNL102", 4, 2, 11)]
    assert "in the loop at cell 2, line 2" in fs[1].message


# ---- CNL102 negatives


@pytest.mark.parametrize(
    "code",
    [
        # built-in small datasets
        "import tensorflow as tf\n(x, y), _ = tf.keras.datasets.cifar10.load_data()\nmodel.fit(x / 255., y)\n",
        "import torch, torchvision\nds = torchvision.datasets.CIFAR10('data', download=True, transform=T.ToTensor())\n"
        "loader = torch.utils.data.DataLoader(ds)\n",
        # streaming from disk
        "import tensorflow as tf\ngen = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1/255.)\n"
        "model.fit(gen.flow_from_directory('train'))\n",
        "import tensorflow as tf\nds = tf.keras.utils.image_dataset_from_directory('train')\nmodel.fit(ds)\n",
        "import tensorflow as tf\ndef load(p):\n    return tf.image.decode_jpeg(tf.io.read_file(p)) / 255\n"
        "ds = tf.data.Dataset.list_files('train/*.jpg').map(load)\nmodel.fit(ds)\n",
        "import tensorflow as tf\ndef load(p):\n    return tf.image.decode_jpeg(tf.io.read_file(p)) / 255\n"
        "ds = tf.data.Dataset.from_tensor_slices(paths).map(load).batch(8)\nmodel.fit(ds)\n",
    ],
)
def test_streaming_and_builtin_datasets_are_not_cnl102(code):
    assert where(code, rule="CNL102") == []


def test_yield_generator_is_not_cnl102():
    assert where(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf

        def batches(paths, labels, bs=32):
            while True:
                for i in range(0, len(paths), bs):
                    x = [cv2.imread(p) / 255.0 for p in paths[i:i + bs]]
                    yield np.array(x), labels[i:i + bs]

        model.fit(batches(paths, labels), steps_per_epoch=len(paths) // 32)
        """
    ) == []


def test_sequence_and_dataset_loading_in_getitem_are_not_cnl102():
    assert where(
        """\
        import cv2
        import numpy as np
        import torch
        from tensorflow import keras
        from torch.utils.data import Dataset, DataLoader

        class Batches(keras.utils.Sequence):
            def __init__(self, paths, labels, batch_size=32):
                self.paths, self.labels, self.batch_size = paths, labels, batch_size
            def __len__(self):
                return len(self.paths) // self.batch_size
            def __getitem__(self, idx):
                batch = []
                for p in self.paths[idx * self.batch_size:(idx + 1) * self.batch_size]:
                    batch.append(cv2.imread(p) / 255.0)
                return np.array(batch), self.labels[idx * self.batch_size:(idx + 1) * self.batch_size]

        class Images(Dataset):
            def __init__(self, paths):
                self.paths = paths
            def __len__(self):
                return len(self.paths)
            def __getitem__(self, i):
                return torch.from_numpy(cv2.imread(self.paths[i])).float() / 255

        model.fit(Batches(paths, labels), epochs=3)
        loader = DataLoader(Images(paths), batch_size=16)
        """
    ) == []


def test_a_few_images_for_plotting_or_prediction_are_not_cnl102():
    assert where(
        """\
        import cv2, glob
        import numpy as np
        import matplotlib.pyplot as plt
        import tensorflow as tf
        samples = [cv2.imread(p) for p in glob.glob("test/*.jpg")[:9]]
        for i, img in enumerate(samples):
            plt.subplot(3, 3, i + 1)
            plt.imshow(img)
        test_images = np.array([cv2.resize(cv2.imread(p), (64, 64)) for p in glob.glob("test/*.jpg")]) / 255.
        predictions = model.predict(test_images)
        model.evaluate(test_images, test_labels)
        """
    ) == []


def test_chunked_training_loop_is_not_cnl102():
    assert where(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf

        def load_chunk(paths):
            return np.array([cv2.imread(p) for p in paths]) / 255.0

        for start in range(0, len(paths), 1000):
            X = load_chunk(paths[start:start + 1000])
            model.fit(X, labels[start:start + 1000], epochs=1)
        for start in range(0, len(paths), 1000):
            model.fit(np.array([cv2.imread(p) / 255. for p in paths[start:start + 1000]]), labels, epochs=1)
        """
    ) == []


def test_features_and_sklearn_are_not_cnl102():
    assert where(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf
        from sklearn.svm import SVC
        from skimage.feature import hog

        feats, pixels = [], []
        for p in paths:
            img = cv2.imread(p)
            feats.append(hog(img))
            pixels.append(img.flatten())
        clf = SVC()
        clf.fit(np.array(pixels), labels)
        head = tf.keras.Sequential([tf.keras.layers.Dense(2)])
        head.fit(np.array(feats), labels)
        embeddings = np.array([backbone.predict(cv2.imread(p)[None]) for p in paths])
        head.fit(embeddings, labels)
        """
    ) == []


def test_images_saved_to_npy_only_are_not_cnl102():
    assert where(
        """\
        import cv2, glob
        import numpy as np
        X = np.array([cv2.imread(p) for p in glob.glob("*.jpg")])
        np.save("X.npy", X)
        """
    ) == []


def test_one_finding_per_loading_loop():
    fs = found(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf
        X = np.array([cv2.imread(p) for p in paths]) / 255.0
        ds = tf.data.Dataset.from_tensor_slices((X, y))
        model.fit(X, y)
        model.fit(X, y, epochs=5)
        """,
        rule="CNL102",
    )
    assert [(f.line, f.column) for f in fs] == [(5, 42)]


def test_names_reused_for_unrelated_data_follow_the_latest_assignment():
    assert where(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf
        X = np.array([cv2.imread(p) for p in paths[:5]])
        print(X.shape)
        X = np.load("features.npy")
        model.fit(X, y)
        """
    ) == []


def test_suppression_comment():
    assert where(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf
        X = np.array([cv2.imread(p) for p in paths]) / 255.0
        model.fit(X, y)  # noqa: CNL102
        """
    ) == []


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "code",
    [
        "",
        "# only a comment\n",
        "import cv2\nf = lambda p: cv2.imread(p)\nX = [f(p) for p in ps]\nmodel.fit(X)\n",
        "import cv2\ndef g(*args, **kwargs):\n    return cv2.imread(*args, **kwargs)\nmodel.fit(*[g(p) for p in ps])\n",
        "import cv2\ndef outer():\n    def inner(p):\n        return cv2.imread(p)\n    return [inner(p) for p in ps]\nmodel.fit(outer())\n",
        "import cv2\nasync def main():\n    X = []\n    async for p in aiter_paths():\n        X.append(cv2.imread(p))\n    model.fit(X)\n",
        "import cv2\nwhile (img := cv2.imread(next(it))) is not None:\n    X.append(img)\n",
        "import cv2\nmatch cmd:\n    case [x, y]:\n        X = [cv2.imread(p) for p in x]\n    case _:\n        pass\nmodel.fit(X)\n",
        "import cv2\ndef rec(p):\n    return rec(p)\nX = [rec(p) for p in ps]\nmodel.fit(X)\n",
        "import cv2\ndef a(p):\n    return b(p)\ndef b(p):\n    return a(p) or cv2.imread(p)\nmodel.fit([a(p) for p in ps])\n",
        "import cv2\nclass K:\n    X = [cv2.imread(p) for p in ps]\n    def m(self):\n        model.fit(self.X)\n",
        "import cv2\nglobal X\nX = []\ndef add(p):\n    global X\n    X.append(cv2.imread(p))\nfor p in ps:\n    add(p)\nmodel.fit(X)\n",
        "import cv2\nX = [cv2.imread(p) for p in ps]\n" + "X = X + 1\n" * 300 + "model.fit(X)\n",
        "import cv2\nx = (" + "cv2.imread(p) + " * 400 + "0)\nmodel.fit(x)\n",
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\nImageDataGenerator().flow_from_directory()\n"
        "model.fit()\nmodel.fit(*args)\nmodel.fit(ImageDataGenerator(*a).flow())\n",
        "import torchvision\nfrom torchvision import transforms\nT = transforms.Compose()\n"
        "torchvision.datasets.ImageFolder(transform=transforms.Compose([]))\nloss.backward()\n",
        "import tensorflow as tf\nds = tf.data.Dataset.from_tensor_slices()\nds.map()\nmodel.fit(ds.map())\n",
    ],
)
def test_odd_code_does_not_crash(code):
    lint(code, "train.py", select=("CNL1",))
    lint(code, "train.ipynb", select=("CNL1",))


def test_unrelated_file_is_skipped_cheaply(monkeypatch):
    def no_index(self, ctx):
        raise AssertionError("the index was built for a file that mentions no pipeline API")

    monkeypatch.setattr(Scopes, "__init__", no_index)
    assert where("import numpy as np\nprint(np.zeros(3))\n") == []


def test_generators_returned_by_a_function_of_the_file():
    f = only(
        """\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        from tensorflow.keras import layers, models

        def make_generators(train_dir, val_dir):
            train_datagen = ImageDataGenerator(horizontal_flip=True, zoom_range=0.2)
            val_datagen = ImageDataGenerator()
            train_gen = train_datagen.flow_from_directory(train_dir, target_size=(224, 224))
            val_gen = val_datagen.flow_from_directory(val_dir, target_size=(224, 224))
            return train_gen, val_gen

        train_generator, validation_generator = make_generators("data/train", "data/val")
        model = models.Sequential([layers.Conv2D(8, 3, input_shape=(224, 224, 3)), layers.Flatten(), layers.Dense(3)])
        model.fit(train_generator, validation_data=validation_generator, epochs=10)
        """
    )
    assert (f.line, f.column) == (5, 21)
    assert "assigned to `train_datagen`" in f.message
    assert where(
        """\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        from tensorflow.keras import layers, models

        def make_generators(train_dir):
            datagen = ImageDataGenerator(rescale=1/255., validation_split=0.2)
            return (datagen.flow_from_directory(train_dir, subset="training"),
                    datagen.flow_from_directory(train_dir, subset="validation"))

        train_generator, validation_generator = make_generators("data/train")
        model = models.Sequential([layers.Flatten(), layers.Dense(3)])
        model.fit(train_generator, validation_data=validation_generator, epochs=10)
        """
    ) == []


def test_model_built_elsewhere_while_the_file_builds_an_augmentation_sequential():
    # the Sequential in the file is the augmentation block; the trained model is imported
    code = """\
        import tensorflow as tf
        from tensorflow.keras import layers
        from model import build_model
        augment = tf.keras.Sequential([layers.RandomFlip("horizontal")])
        ds = tf.keras.utils.image_dataset_from_directory("data")
        ds = ds.map(lambda x, y: (augment(x), y))
        model = build_model()
        model.fit(ds, epochs=3)
        """
    assert where(code) == []
    # a tuner's best model, a model from a method: not built here
    assert where(
        "import tensorflow as tf\nds = tf.keras.utils.image_dataset_from_directory('data')\n"
        "model = tuner.get_best_models(num_models=1)[0]\nmodel.fit(ds)\nself.model.fit(ds)\n"
    ) == []
    # a model from a function of the file and a keras.Model subclass are built here
    assert where(
        """\
        import tensorflow as tf
        def make_model(n):
            inputs = tf.keras.Input((64, 64, 3))
            return tf.keras.Model(inputs, tf.keras.layers.Dense(n)(tf.keras.layers.Flatten()(inputs)))
        class Net(tf.keras.Model):
            def call(self, x):
                return x
        ds = tf.keras.utils.image_dataset_from_directory("data")
        model = make_model(3)
        model.fit(ds)
        net = Net()
        net.fit(ds)
        """
    ) == [("CNL101", 8, 6)]


def test_tensordataset_without_training_in_the_file_is_quiet():
    # feature extraction / inference over a folder: no backward(), no fit()
    assert where(
        """\
        import glob
        import torch
        from PIL import Image
        from torch.utils.data import DataLoader, TensorDataset
        import torchvision.transforms as T
        tf = T.Compose([T.Resize(224), T.ToTensor()])
        x = torch.stack([tf(Image.open(p).convert("RGB")) for p in glob.glob("imgs/*.jpg")])
        loader = DataLoader(TensorDataset(x), batch_size=64)
        with torch.no_grad():
            feats = [backbone(b[0]) for b in loader]
        """
    ) == []


def test_torchvision_transform_objects_carry_the_images():
    f = only(
        D("""\
        import glob
        import torch
        import torchvision
        from PIL import Image
        from torch.utils.data import DataLoader, TensorDataset
        from torchvision import transforms
        tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])
        images = [tf(Image.open(p).convert("RGB")) for p in glob.glob("train/*/*.jpg")]
        X = torch.stack(images)
        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
        """) + TORCH_LOOP
    )
    assert (f.code, f.line, f.column) == ("CNL102", 10, 35)
    assert "read by `Image.open` in the comprehension at line 8" in f.message


def test_dataset_that_loads_everything_in_init():
    f = only(
        D("""\
        import glob
        import cv2
        import numpy as np
        import torch
        import torchvision
        from torch.utils.data import Dataset, DataLoader

        class MRI(Dataset):
            def __init__(self):
                tumor = []
                for f in glob.iglob("./data/yes/*.jpg"):
                    img = cv2.resize(cv2.imread(f), (128, 128))
                    tumor.append(img.transpose(2, 0, 1))
                self.images = np.array(tumor, dtype=np.float32) / 255.0
                self.labels = np.ones(len(tumor), dtype=np.float32)
                self.paths = sorted(glob.glob("./data/*/*.jpg"))

            def __len__(self):
                return self.images.shape[0]

            def __getitem__(self, index):
                return self.images[index], self.labels[index]

        loader = DataLoader(MRI(), batch_size=32, shuffle=True)
        """) + TORCH_LOOP
    )
    assert (f.code, f.line, f.column) == ("CNL102", 14, 9)
    assert f.message == (
        "`self.images` holds every image read by `cv2.imread` in the loop at line 11: `MRI` loads the whole image "
        "set when it is created instead of one image per `__getitem__`"
    )
    assert f.hint == "keep only the file paths in __init__ and read each image in __getitem__"
    # a plain class (not a Dataset) and a Dataset that keeps paths only are quiet
    assert where(
        """\
        import cv2
        from torch.utils.data import Dataset
        class Cache:
            def __init__(self, paths):
                self.images = [cv2.imread(p) for p in paths]
        class Lazy(Dataset):
            def __init__(self, paths):
                self.paths = list(paths)
                self.first = cv2.imread(self.paths[0])
            def __getitem__(self, i):
                return cv2.imread(self.paths[i])
        """
    ) == []


def test_array_scaled_in_place_by_a_helper_is_not_cnl101():
    base = """\
        import cv2, glob
        import numpy as np
        import tensorflow as tf
        {helper}
        X = np.array([cv2.imread(p) for p in glob.glob("*.png")], dtype="float32")
        {call}
        model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])
        model.fit(X, y)
        """
    scaled = base.format(helper="def normalize(a):\n            a /= 255.0", call="normalize(X)")
    assert [c for c, _, _ in where(scaled)] == ["CNL102"]
    # a helper that does not scale, or printing, leaves the finding
    shown = base.format(helper="def show(a):\n            print(a.shape)", call="show(X)\n        print(X)")
    assert [c for c, _, _ in where(shown)] == ["CNL101", "CNL102"]


def test_helper_calls_on_generators_and_models_do_not_hide_findings():
    assert where(
        """\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        from tensorflow.keras import layers, models
        from tensorflow.keras.utils import plot_model
        datagen = ImageDataGenerator(horizontal_flip=True)
        train_gen = datagen.flow_from_directory("train")
        show_batch(train_gen)
        model = models.Sequential([layers.Flatten(), layers.Dense(2)])
        plot_model(model)
        model.fit(train_gen)
        """
    ) == [("CNL101", 4, 11)]


def test_tf_io_read_file_in_a_python_loop():
    f = only(
        """\
        import tensorflow as tf
        images = []
        for path in paths:
            raw = tf.io.read_file(path)
            img = tf.image.decode_jpeg(raw, channels=3)
            images.append(tf.image.resize(img, (224, 224)) / 255.0)
        ds = tf.data.Dataset.from_tensor_slices((tf.stack(images), labels)).batch(32)
        """
    )
    assert (f.code, f.line, f.column) == ("CNL102", 7, 51)
    assert "read by `tf.io.read_file` in the loop at line 3" in f.message


def test_pydataset_loading_in_getitem_is_not_cnl102():
    assert where(
        """\
        import keras
        import numpy as np
        class Frames(keras.utils.PyDataset):
            def __init__(self, paths, **kwargs):
                super().__init__(**kwargs)
                self.paths = paths
            def __len__(self):
                return len(self.paths) // 16
            def __getitem__(self, i):
                batch = [keras.utils.img_to_array(keras.utils.load_img(p)) / 255. for p in self.paths[i * 16:(i + 1) * 16]]
                return np.stack(batch), np.zeros(16)
        model.fit(Frames(paths), epochs=2)
        """
    ) == []


def test_kfold_over_an_array_loaded_once_is_still_cnl102():
    assert where(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf
        from sklearn.model_selection import KFold
        X = np.array([cv2.imread(p) for p in paths]) / 255.0
        for train_idx, val_idx in KFold(5).split(X):
            X_tr = X[train_idx]
            model.fit(X_tr, y[train_idx], epochs=3)
        """
    ) == [("CNL102", 8, 15)]


def test_cs50_traffic_functions_defined_after_main():
    fs = found(
        """\
        import cv2, os, sys
        import numpy as np
        import tensorflow as tf
        from sklearn.model_selection import train_test_split

        def main():
            images, labels = load_data(sys.argv[1])
            labels = tf.keras.utils.to_categorical(labels)
            x_train, x_test, y_train, y_test = train_test_split(np.array(images), np.array(labels), test_size=0.4)
            model = get_model()
            model.fit(x_train, y_train, epochs=10)
            model.evaluate(x_test, y_test, verbose=2)

        def load_data(data_dir):
            images, labels = [], []
            for folder in os.listdir(data_dir):
                for name in os.listdir(os.path.join(data_dir, folder)):
                    img = cv2.imread(os.path.join(data_dir, folder, name))
                    images.append(cv2.resize(img, (30, 30)))
                    labels.append(int(folder))
            return (images, labels)

        def get_model():
            model = tf.keras.models.Sequential()
            model.add(tf.keras.layers.Conv2D(16, (3, 3), activation="relu", input_shape=(30, 30, 3)))
            model.add(tf.keras.layers.Flatten())
            model.add(tf.keras.layers.Dense(43, activation="softmax"))
            model.compile(optimizer="adam", loss="categorical_crossentropy")
            return model

        if __name__ == "__main__":
            main()
        """
    )
    assert [(f.code, f.line, f.column) for f in fs] == [("CNL101", 11, 15), ("CNL102", 11, 15)]
    assert "in the loop at line 17" in fs[1].message


def test_function_aliases_and_import_aliases():
    # a preprocess_input alias scales (no CNL101); the images are still all in memory (CNL102)
    assert where(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf
        from skimage.io import imread as read
        preprocess = tf.keras.applications.vgg16.preprocess_input
        X = np.array([cv2.resize(read(p), (224, 224)) for p in paths], dtype="float32")
        X = preprocess(X)
        model = tf.keras.Sequential([tf.keras.applications.VGG16(include_top=False), tf.keras.layers.Dense(2)])
        model.fit(X, y)
        """
    ) == [("CNL102", 9, 11)]


def test_standalone_keras_preprocessing_package():
    assert where(
        "from keras_preprocessing.image import ImageDataGenerator\nfrom keras.models import Sequential\n"
        "from keras.layers import Dense\ngen = ImageDataGenerator(zoom_range=0.2)\n"
        "model = Sequential([Dense(2)])\nmodel.fit(gen.flow_from_directory('train'))\n"
    ) == [("CNL101", 4, 7)]


# --------------------------------------------------------------------------- real-world sweep


def test_module_list_filled_and_returned_by_a_function():
    # `X = []` at module level, appended to inside a function that returns it: the
    # function's free `X` is read as it is where the function is called
    fs = found(
        """\
        import cv2
        import numpy as np
        from tensorflow.keras import layers, models

        X = []
        def create_training_data():
            for image in images:
                X.append(cv2.resize(cv2.imread(image), (90, 90)))
            return X

        X = create_training_data()
        X = np.array(X).reshape(-1, 90, 90, 3)
        model = models.Sequential([layers.Flatten(), layers.Dense(10)])
        model.fit(X, y, epochs=20)
        """
    )
    assert [(f.code, f.line, f.column) for f in fs] == [("CNL101", 14, 11), ("CNL102", 14, 11)]
    assert fs[1].message == (
        "`X` holds every image read by `cv2.imread` in the loop at line 7 and is passed whole to "
        "`model.fit`: the whole image set sits in memory at once"
    )


def test_module_list_returned_by_a_function_then_normalized():
    # the same shape of code with keras.utils.normalize: the pixels are scaled, only CNL102 remains
    assert where(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf

        X = []
        def load():
            for image in images:
                X.append(cv2.imread(image, cv2.IMREAD_GRAYSCALE))
            return X

        X = np.array(load())
        X = tf.keras.utils.normalize(X, axis=1)
        model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(10)])
        model.fit(X, y)
        """
    ) == [("CNL102", 14, 11)]


def test_function_returning_a_module_name_bound_only_later_is_not_an_image_set():
    # at the call, the module-level `images` holds file names; it becomes pixels afterwards
    assert where(
        """\
        import cv2
        import numpy as np
        import tensorflow as tf

        images = sorted(glob.glob("data/*.png"))
        def names():
            return images

        paths = names()
        images = np.array([cv2.imread(p) for p in paths]) / 255.0
        ds = tf.data.Dataset.from_tensor_slices(paths)
        """
    ) == []


def test_dataset_that_appends_every_image_to_self_in_init():
    f = only(
        """\
        from PIL import Image
        import torch

        class Birds(torch.utils.data.Dataset):
            def __init__(self, listing, transform=None):
                self.transform = transform
                self.imgs = []
                self.labels = []
                with open(listing) as f:
                    for line in f:
                        name, label = line.split(",")
                        self.imgs.append(Image.open("train/" + name).convert("RGB"))
                        self.labels.append(int(label))

            def __len__(self):
                return len(self.imgs)

            def __getitem__(self, idx):
                return self.transform(self.imgs[idx]), self.labels[idx]
        """
    )
    assert (f.code, f.line, f.column) == ("CNL102", 12, 17)
    assert f.message == (
        "`self.imgs` holds every image read by `Image.open` in the loop at line 10: `Birds` loads the whole image "
        "set when it is created instead of one image per `__getitem__`"
    )


def test_dataset_preloading_in_two_branches_is_reported_once():
    assert where(
        """\
        import cv2
        from torch.utils.data import Dataset

        class Faces(Dataset):
            def __init__(self, paths, train):
                self.images = []
                if train:
                    for p in paths:
                        self.images.append(cv2.imread(p))
                else:
                    for p in sorted(paths):
                        self.images.append(cv2.imread(p, 0))

            def __getitem__(self, i):
                return self.images[i]
        """
    ) == [("CNL102", 9, 17)]


def test_optional_preload_cache_with_a_disk_fallback_is_quiet():
    # `preload=True` fills a cache; `__getitem__` still reads from disk otherwise: the author chose
    assert where(
        """\
        from PIL import Image
        import torch.utils.data as data

        class Actions(data.Dataset):
            def __init__(self, paths, preload=False):
                self.paths = list(paths)
                self.imgs = []
                if preload:
                    for p in self.paths:
                        self.imgs.append(Image.open(p).convert("RGB"))
                self.cached = [Image.open(p).convert("RGB") for p in self.paths] if preload else []

            def __getitem__(self, i):
                if self.imgs:
                    return self.imgs[i]
                return Image.open(self.paths[i]).convert("RGB")
        """
    ) == []


def test_appending_paths_or_labels_to_self_is_not_preloading():
    assert where(
        """\
        import os
        import cv2
        from torch.utils.data import Dataset

        class Lazy(Dataset):
            def __init__(self, root):
                self.paths, self.sizes = [], []
                for name in os.listdir(root):
                    self.paths.append(os.path.join(root, name))
                    self.sizes.append(cv2.imread(os.path.join(root, name)).shape)

            def __getitem__(self, i):
                return cv2.imread(self.paths[i])
        """
    ) == []


@pytest.mark.parametrize(
    "model",
    [
        # Sequential with BatchNormalization(input_shape=...) as its first layer
        "model = Sequential()\nmodel.add(BatchNormalization(input_shape=(64, 64, 3)))\n"
        "model.add(Conv2D(16, 3, activation='relu'))\nmodel.add(Flatten())\nmodel.add(Dense(2))\n",
        # the first layer after the Input of a Sequential list
        "model = Sequential([Input(shape=(64, 64, 3)), BatchNormalization(), Conv2D(16, 3), Flatten(), Dense(2)])\n",
        # functional: BatchNormalization()(inputs)
        "inputs = Input(shape=(64, 64, 3))\nx = BatchNormalization()(inputs)\nx = Flatten()(Conv2D(16, 3)(x))\n"
        "model = Model(inputs, Dense(2)(x))\n",
    ],
)
def test_batch_normalization_on_the_input_counts_as_normalization(model):
    code = (
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "from tensorflow.keras.models import Sequential, Model\n"
        "from tensorflow.keras.layers import Input, BatchNormalization, Conv2D, Flatten, Dense\n"
        "gen = ImageDataGenerator(horizontal_flip=True)\n"
        "train = gen.flow_from_directory('data/train', target_size=(64, 64))\n"
        + model
        + "model.compile('adam', 'categorical_crossentropy')\nmodel.fit(train, epochs=5)\n"
    )
    assert where(code) == []


def test_batch_normalization_deeper_in_the_model_does_not_count():
    # BatchNormalization after the first convolution normalizes activations, not pixels
    assert where(
        """\
        import tensorflow as tf
        from tensorflow.keras import layers
        train_ds = tf.keras.utils.image_dataset_from_directory("data", image_size=(128, 128))
        x = inputs = tf.keras.Input(shape=(128, 128, 3))
        x = layers.Conv2D(16, 3)(x)
        x = layers.BatchNormalization()(x)
        model = tf.keras.Model(inputs, layers.Dense(3)(layers.GlobalAveragePooling2D()(x)))
        seq = tf.keras.Sequential([layers.Conv2D(16, 3, input_shape=(128, 128, 3)), layers.BatchNormalization()])
        model.fit(train_ds, epochs=3)
        """
    ) == [("CNL101", 3, 12)]


LOADED_AFTER = """\
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.models import Sequential, load_model
from tensorflow.keras.layers import Conv2D, Flatten, Dense
gen = ImageDataGenerator()
train = gen.flow_from_directory("flowers/train", target_size=(224, 224))
{before}model = Sequential([Conv2D(16, 3, input_shape=(224, 224, 3)), Flatten(), Dense(5, activation="softmax")])
model.compile("adam", "categorical_crossentropy")
hist = model.fit_generator(steps_per_epoch=50, generator=train, epochs=10)
saved = load_model("vgg16_1.h5")
print(saved.predict(img))
"""


def test_model_loaded_after_training_for_inference_does_not_hide_the_finding():
    f = only(LOADED_AFTER.format(before=""))
    assert (f.code, f.line, f.column) == ("CNL101", 4, 7)
    assert f.message.startswith("`ImageDataGenerator()` assigned to `gen` has no rescale")


def test_model_loaded_before_training_or_inside_a_function_keeps_the_rule_quiet():
    # the loaded model may be part of what is trained (a saved base with its own Rescaling)
    assert where(LOADED_AFTER.format(before='base = load_model("base.h5")\n')) == []
    in_function = LOADED_AFTER.format(before="").replace(
        'saved = load_model("vgg16_1.h5")\nprint(saved.predict(img))\n',
        'def reload():\n    return load_model("vgg16_1.h5")\n',
    )
    assert where(in_function) == []


# ---- places and labels kept exactly as they were on libcst (issue 13: the move to CPython's ast)

_PORT_HEAD = """\
import cv2, glob
import numpy as np
from tensorflow.keras import layers, models
model = models.Sequential([layers.Conv2D(8, 3, input_shape=(64, 64, 3)), layers.Flatten(), layers.Dense(2)])
model.compile("adam", "mse")
paths = glob.glob("data/*.jpg")
"""


def _port_findings(tail):
    return [(f.code, f.line, f.column, f.message) for f in lint(_PORT_HEAD + tail, "train.py", select=("CNL1",))]


def test_label_keeps_the_parentheses_written_around_the_argument():
    found_ = _port_findings("images = []\nfor p in paths:\n    images.append(cv2.imread(p))\nmodel.fit(( np.array(images) ), np.zeros(3))\n")
    assert found_[0][:3] == ("CNL101", 10, 13)
    assert found_[0][3].startswith("`( np.array(images) )` (images read by `cv2.imread` in the loop at line 8)")
    assert found_[1][:3] == ("CNL102", 10, 22)


def test_generator_given_to_a_call_is_placed_at_its_element():
    found_ = _port_findings("X = np.array(list(\n    cv2.imread(p)\n    for p in paths\n))\nmodel.fit(X, np.zeros(3))\n")
    assert [f[:3] for f in found_] == [("CNL101", 11, 11), ("CNL102", 11, 11)]
    assert "in the comprehension at line 8 " in found_[1][3]


def test_one_index_with_a_trailing_comma_is_one_image():
    assert _port_findings("images = []\nfor p in paths:\n    images.append(cv2.imread(p))\nX = np.array(images)\nmodel.fit(X[0,], np.zeros(3))\n") == []


def test_attribute_named_like_the_image_list_is_where_the_blame_goes_first():
    found_ = _port_findings(
        "class D: pass\ndata = D()\nimages = []\nfor p in paths:\n    images.append(cv2.imread(p))\n"
        "model.fit(np.concatenate([data.images, images]), np.zeros(3))\n"
    )
    assert [f[:3] for f in found_] == [("CNL101", 12, 11), ("CNL102", 12, 32)]
    assert found_[1][3].startswith("`images` holds every image read by `cv2.imread` in the loop at line 10 ")
