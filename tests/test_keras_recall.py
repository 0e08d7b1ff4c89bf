"""Recall on real Keras code (issue 14): the patterns of CNL101, CNL102, CNL301, CNL302 and CNL303 that
real training scripts use and the rules used to miss, each with the near-misses they must leave alone."""

import textwrap

import pytest

from conftest import lint

KERAS = """\
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.preprocessing.image import ImageDataGenerator
"""


def run(code, select):
    return lint(KERAS + textwrap.dedent(code), "train.py", select=(select,))


def one(code, select, line, column):
    """The one finding of `code`, checked to be `select`'s at (line, column)."""
    found = run(code, select)
    assert [(f.code, f.line, f.column) for f in found] == [(select, line, column)]
    return found[0]


def quiet(code, select):
    found = run(code, select)
    assert found == [], [f"{f.code} {f.line}:{f.column} {f.message}" for f in found]


# ============================================================================ CNL303: [-1, 1] ("tf" mode) models

_MNV2_GENERATOR = """\
    base = keras.applications.MobileNetV2(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
    base.trainable = False
    model = keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(5, activation="softmax")])
    train_datagen = ImageDataGenerator(rescale=1./255, horizontal_flip=True)
    train_gen = train_datagen.flow_from_directory("train", target_size=(224, 224))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(train_gen, epochs=5)
"""


def test_303_mobilenetv2_fed_rescale_one_over_255():
    found = one(_MNV2_GENERATOR, "CNL303", 8, 36)
    assert found.message == (
        "`rescale=1./255` scales pixels to [0, 1], but the pretrained `MobileNetV2` expects inputs scaled to "
        "[-1, 1] (its preprocess_input: x / 127.5 - 1): the pretrained features see inputs they were never "
        "trained on"
    )
    assert found.hint == (
        "replace rescale=1./255 with preprocessing_function=keras.applications.mobilenet_v2.preprocess_input"
    )


def test_303_inceptionv3_fed_rescale_one_over_255():
    code = """\
        from tensorflow.keras.applications import InceptionV3
        base = InceptionV3(include_top=False, weights="imagenet")
        model = keras.Sequential([base, layers.Flatten(), layers.Dense(5, activation="softmax")])
        gen = ImageDataGenerator(rescale=1/255.0).flow_from_directory("train")
        model.compile(loss="categorical_crossentropy")
        model.fit(gen)
    """
    found = one(code, "CNL303", 8, 26)
    assert found.message.startswith("`rescale=1/255.0` scales pixels to [0, 1], but the pretrained `InceptionV3` "
                                       "expects inputs scaled to [-1, 1]")
    assert found.hint.endswith("keras.applications.inception_v3.preprocess_input")


def test_303_pretrained_model_used_through_its_output():
    code = """\
        base = keras.applications.ResNet50V2(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
        base.trainable = False
        x = layers.GlobalAveragePooling2D()(base.output)
        model = keras.Model(inputs=base.input, outputs=layers.Dense(3, activation="softmax")(x))
        gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train")
        model.compile(loss="categorical_crossentropy")
        model.fit(gen)
    """
    found = one(code, "CNL303", 9, 26)
    assert found.hint.endswith("keras.applications.resnet_v2.preprocess_input")


def test_303_xception_behind_a_rescaling_layer():
    code = """\
        base = keras.applications.Xception(weights="imagenet", include_top=False)
        inputs = keras.Input((299, 299, 3))
        x = layers.Rescaling(1./255)(inputs)
        x = base(x, training=False)
        outputs = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling2D()(x))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train_ds, epochs=5)
    """
    found = one(code, "CNL303", 7, 5)
    assert found.message == (
        "`layers.Rescaling(1./255)` scales pixels to [0, 1] before the pretrained `Xception`, which expects inputs "
        "scaled to [-1, 1] (its preprocess_input: x / 127.5 - 1): the pretrained features see inputs they were "
        "never trained on"
    )
    assert found.hint == (
        "use layers.Rescaling(1./127.5, offset=-1) (scales to [-1, 1]) or keras.applications.xception.preprocess_input"
    )


_TRANSFER_TUTORIAL = """\
    train_ds = keras.utils.image_dataset_from_directory("train", image_size=(160, 160))
    data_augmentation = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.2)])
    rescale = layers.Rescaling({scale})
    base_model = keras.applications.MobileNetV2(input_shape=(160, 160, 3), include_top=False, weights="imagenet")
    base_model.trainable = False
    inputs = keras.Input(shape=(160, 160, 3))
    x = data_augmentation(inputs)
    x = rescale(x)
    x = {middle}(x)
    x = base_model(x, training=False)
    outputs = layers.Dense(1)(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(train_ds, epochs=10)
"""


def test_303_named_rescaling_layer_then_augmentation_before_mobilenetv2():
    code = _TRANSFER_TUTORIAL.format(scale="1./255", middle="layers.RandomZoom(0.1)")
    found = one(code, "CNL303", 7, 11)
    assert found.message.startswith(
        "`layers.Rescaling(1./255)` scales pixels to [0, 1] before the pretrained `MobileNetV2`, which expects inputs "
        "scaled to [-1, 1]"
    )


def test_303_named_rescaling_layer_minus_one_one_is_right():
    quiet(_TRANSFER_TUTORIAL.format(scale="1./127.5, offset=-1", middle="layers.RandomZoom(0.1)"), "CNL303")


def test_303_rescaling_then_an_unknown_block_is_not_followed():
    quiet(_TRANSFER_TUTORIAL.format(scale="1./255", middle="stem_block"), "CNL303")


CNL303_NEGATIVES = {
    "preprocess_input_in_a_map": """\
        base = keras.applications.MobileNetV2(weights="imagenet", include_top=False)
        preprocess = keras.applications.mobilenet_v2.preprocess_input
        train_ds = keras.utils.image_dataset_from_directory("train").map(lambda x, y: (preprocess(x), y))
        model = keras.Sequential([layers.Rescaling(1./255), base, layers.Dense(3)])
        model.fit(train_ds)
    """,
    "weights_none_trains_from_scratch": """\
        base = keras.applications.MobileNetV2(weights=None, include_top=False)
        model = keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(5, activation="softmax")])
        gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train")
        model.compile(loss="categorical_crossentropy")
        model.fit(gen)
    """,
    "efficientnet_fed_0_255": """\
        base = keras.applications.EfficientNetB0(weights="imagenet", include_top=False)
        model = keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(5, activation="softmax")])
        gen = ImageDataGenerator(rotation_range=20).flow_from_directory("train")
        scratch = keras.Sequential([layers.Rescaling(1./255), layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(5)])
        model.compile(loss="categorical_crossentropy")
        model.fit(gen)
    """,
    "mobilenetv2_rescaled_to_minus_one_one": """\
        base = keras.applications.MobileNetV2(weights="imagenet", include_top=False)
        inputs = keras.Input((224, 224, 3))
        x = layers.Rescaling(scale=1./127.5, offset=-1)(inputs)
        model = keras.Model(inputs, layers.Dense(3)(base(x)))
        model.fit(train_ds)
    """,
    "densenet_torch_mode_not_judged": """\
        base = keras.applications.DenseNet121(weights="imagenet", include_top=False)
        model = keras.Sequential([base, layers.Flatten(), layers.Dense(5, activation="softmax")])
        gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train")
        model.fit(gen)
    """,
    "two_families_with_different_modes": """\
        a = keras.applications.MobileNetV2(weights="imagenet", include_top=False)
        b = keras.applications.VGG16(weights="imagenet", include_top=False)
        gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train")
        model = keras.Sequential([a, layers.Flatten(), layers.Dense(5, activation="softmax")])
        model.fit(gen)
    """,
    "pretrained_model_built_but_never_used": """\
        gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train")
        scratch = keras.Sequential([layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(5, activation="softmax")])
        scratch.fit(gen)
        base = keras.applications.MobileNetV2(weights="imagenet", include_top=False)
        base.trainable = False
        base.summary()
    """,
    "rescale_generator_for_a_scratch_model_only": """\
        base = keras.applications.InceptionV3(weights="imagenet", include_top=False)
        features = base.predict(images)
        gen = ImageDataGenerator(rescale=1./255)
        scratch = keras.Sequential([layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(5, activation="softmax")])
        scratch.fit(x_train, y_train)
    """,
}


@pytest.mark.parametrize("name", sorted(CNL303_NEGATIVES))
def test_303_tf_mode_negatives(name):
    quiet(CNL303_NEGATIVES[name], "CNL303")


# ============================================================================ CNL301: sigmoid under categorical loss


def test_301_one_sigmoid_unit_with_categorical_crossentropy():
    code = """\
        model = keras.Sequential([
            layers.Conv2D(16, 3, activation="relu", input_shape=(150, 150, 3)),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(train_gen, epochs=5)
    """
    found = one(code, "CNL301", 8, 5)
    assert found.message == (
        '`model` ends in `layers.Dense(1, activation="sigmoid")`, a single sigmoid unit, but '
        '`"categorical_crossentropy"` divides the outputs by their sum over the units: one unit always becomes '
        "1.0, the loss is always 0 and the model learns nothing"
    )
    assert found.hint == 'use loss="binary_crossentropy" with one sigmoid unit'


def test_301_sigmoid_units_with_categorical_loss_class():
    code = """\
        inputs = keras.Input((64, 64, 3))
        x = layers.Flatten()(layers.Conv2D(8, 3)(inputs))
        x = layers.Dense(10)(x)
        outputs = layers.Activation("sigmoid")(x)
        net = keras.Model(inputs, outputs)
        net.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy())
        net.fit(x_train, y_train)
    """
    found = one(code, "CNL301", 8, 11)
    assert found.message == (
        "`net` ends in `layers.Dense(10)` followed by `layers.Activation(\"sigmoid\")`, whose units are independent "
        "yes/no probabilities, but `keras.losses.CategoricalCrossentropy()` expects one distribution over the "
        "classes (a softmax): the sigmoid outputs do not sum to 1 and do not compete, so training optimises the "
        "wrong objective"
    )
    assert found.hint == 'use activation="softmax" for one label per image (binary_crossentropy for multi-label)'


CNL301_NEGATIVES = {
    "sigmoid_with_binary_crossentropy": """\
        model = keras.Sequential([layers.Flatten(input_shape=(64, 64, 3)), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x, y)
    """,
    "sigmoid_hidden_softmax_last": """\
        model = keras.Sequential([
            layers.Flatten(input_shape=(64, 64, 3)),
            layers.Dense(64, activation="sigmoid"),
            layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(x, y)
    """,
    "sigmoid_model_and_categorical_model_apart": """\
        detector = keras.Sequential([layers.Flatten(input_shape=(64, 64, 3)), layers.Dense(1, activation="sigmoid")])
        detector.compile(optimizer="adam", loss="binary_crossentropy")
        classifier = keras.Sequential([layers.Flatten(input_shape=(64, 64, 3)), layers.Dense(5, activation="softmax")])
        classifier.compile(optimizer="adam", loss="categorical_crossentropy")
    """,
    "sigmoid_with_sparse_loss_not_judged": """\
        model = keras.Sequential([layers.Flatten(input_shape=(64, 64, 3)), layers.Dense(5, activation="sigmoid")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    """,
    "activation_from_a_variable": """\
        act = "sigmoid" if multi_label else "softmax"
        model = keras.Sequential([layers.Flatten(input_shape=(64, 64, 3)), layers.Dense(5, activation=act)])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    """,
}


@pytest.mark.parametrize("name", sorted(CNL301_NEGATIVES))
def test_301_sigmoid_negatives(name):
    quiet(CNL301_NEGATIVES[name], "CNL301")


# ============================================================================ CNL302: labels scaled like pixels, fit_generator

_MNIST = """\
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(10, activation="softmax")])
"""


def test_302_labels_divided_by_255_before_sparse_loss():
    code = _MNIST + """\
    x_train = x_train / 255.
    y_train = y_train / 255.
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5)
    """
    found = one(code, "CNL302", 8, 11)
    assert found.message == (
        '`y_train` is the integer class labels divided by 255 like pixels, but `"sparse_categorical_crossentropy"` '
        "expects integer class indices: it casts the fractions back to integers, so every label becomes class 0"
    )
    assert found.hint == "scale only the images (x / 255.); keep the labels as the integers they are"


def test_302_labels_scaled_in_a_pair_assignment():
    code = _MNIST + """\
    x_train, y_train = x_train / 255.0, y_train / 255.0
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy())
    model.fit(x_train, y_train, epochs=5)
    """
    one(code, "CNL302", 7, 37)


def test_302_labels_multiplied_by_one_over_255_in_the_fit_call():
    code = _MNIST + """\
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train / 255, y_train * (1 / 255), epochs=5)
    """
    found = one(code, "CNL302", 8, 26)
    assert found.message.startswith("`y_train * (1 / 255)` is the integer class labels divided by 255")


def test_302_fit_generator_with_binary_class_mode_and_categorical_loss():
    code = """\
        model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(150, 150, 3)), layers.Flatten(), layers.Dense(2)])
        model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
        train_generator = ImageDataGenerator(rescale=1. / 255).flow_from_directory("data/train", class_mode="binary")
        model.fit_generator(train_generator, steps_per_epoch=100, epochs=50)
    """
    found = one(code, "CNL302", 6, 20)
    assert found.message == (
        '`"categorical_crossentropy"` expects one-hot labels, but `flow_from_directory(..., class_mode="binary")` '
        "gives a single 0/1 value per image"
    )


_BUILDER = """\
    def build_model():
        model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(150, 150, 3)), layers.Flatten(), layers.Dense(2)])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    datagen = ImageDataGenerator(rescale=1./255)
    train_generator = datagen.flow_from_directory("data/train", target_size=(150, 150), class_mode="binary")
"""


def test_302_model_compiled_in_a_builder_function():
    code = _BUILDER + """    model = build_model()
    model.fit(train_generator, epochs=5)
    """
    found = one(code, "CNL302", 7, 42)
    assert found.message == (
        '`"categorical_crossentropy"` expects one-hot labels, but `flow_from_directory(..., class_mode="binary")` '
        "gives a single 0/1 value per image"
    )


CNL302_NEGATIVES = {
    "builder_model_compiled_again": _BUILDER + """    model = build_model()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(train_generator, epochs=5)
    """,
    "builder_models_fit_on_two_encodings": _BUILDER + """    a = build_model()
    a.fit(train_generator, epochs=5)
    b = build_model()
    b.fit(datagen.flow_from_directory("data/train"), epochs=5)
    """,
    "builder_returns_something_else": """    def build_model():
        model = keras.Sequential([layers.Flatten(input_shape=(150, 150, 3)), layers.Dense(2)])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        return model, model.count_params()

    model, n = build_model()
    gen = ImageDataGenerator(rescale=1./255).flow_from_directory("data/train", class_mode="binary")
    model.fit(gen)
    """,
    "only_the_images_scaled": _MNIST + """\
    x_train, x_test = x_train / 255.0, x_test / 255.0
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train, epochs=5)
    """,
    "segmentation_masks_from_files_scaled": """\
    import numpy as np
    import cv2
    masks = np.array([cv2.imread(p, 0) for p in mask_paths]) / 255
    model = keras.Sequential([layers.Conv2D(2, 1, activation="softmax", input_shape=(128, 128, 3))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(images, masks)
    """,
    "scaled_labels_with_a_regression_loss": _MNIST + """\
    y_train = y_train / 255.
    model.compile(optimizer="adam", loss="mse")
    model.fit(x_train, y_train)
    """,
    "labels_scaled_under_a_condition": _MNIST + """\
    if normalise_targets:
        y_train = y_train / 255.
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train)
    """,
    "divided_by_another_number": _MNIST + """\
    y_train = y_train / 1
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train / 255., y_train)
    """,
    "fit_generator_binary_with_binary_loss": """\
    model = keras.Sequential([
        layers.Conv2D(8, 3, input_shape=(150, 150, 3)), layers.Flatten(), layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="rmsprop")
    train_generator = ImageDataGenerator(rescale=1. / 255).flow_from_directory("data/train", class_mode="binary")
    model.fit_generator(train_generator, steps_per_epoch=100, epochs=50)
    """,
}


@pytest.mark.parametrize("name", sorted(CNL302_NEGATIVES))
def test_302_scaled_labels_negatives(name):
    quiet(CNL302_NEGATIVES[name], "CNL302")


# ============================================================================ CNL102: batches cut from an in-memory set

_READ_ALL = """\
    import os
    import cv2
    import numpy as np
    images, labels = [], []
    for name in os.listdir("data/train"):
        images.append(cv2.resize(cv2.imread(os.path.join("data/train", name)), (64, 64)))
        labels.append(int(name[0]))
    X = np.array(images, dtype="float32") / 255.0
    y = np.array(labels)
    model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(64, 64, 3)), layers.Flatten(), layers.Dense(2)])
"""


def test_102_train_on_batch_on_slices():
    code = _READ_ALL + """\
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    for epoch in range(10):
        for i in range(0, len(X), 32):
            model.train_on_batch(X[i:i + 32], y[i:i + 32])
    """
    found = one(code, "CNL102", 18, 30)
    assert found.message == (
        "`X` holds every image read by `cv2.imread` in the loop at line 9 and is fed to `model.train_on_batch` in "
        "slices: the whole image set sits in memory at once"
    )


def test_102_fit_on_slices_in_a_loop():
    code = _READ_ALL + """\
    for start in range(0, len(X), 256):
        xs, ys = X[start:start + 256], y[start:start + 256]
        model.fit(xs, ys, epochs=1)
    """
    found = one(code, "CNL102", 17, 15)
    assert found.message == (
        "`X` holds every image read by `cv2.imread` in the loop at line 9 and is fed to `model.fit` in slices: "
        "the whole image set sits in memory at once"
    )


def test_102_custom_gradient_tape_step_on_slices():
    code = _READ_ALL + """\
    optimizer = keras.optimizers.Adam()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True), from_logits=True)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))

    for epoch in range(10):
        for i in range(0, len(X), 32):
            train_step(X[i:i + 32], y[i:i + 32])
    """
    found = one(code, "CNL102", 26, 20)
    assert found.message.endswith("is fed to `train_step` in slices: the whole image set sits in memory at once")


_TAPE_LOOP = """\
    optimizer = keras.optimizers.Adam()
    for epoch in range(10):
        for i in range(0, len(X), 32):
            with tf.GradientTape() as tape:
                logits = model(X[i:i + 32], training={training})
                loss = keras.losses.sparse_categorical_crossentropy(y[i:i + 32], logits, from_logits=True)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
"""


def test_102_inline_gradient_tape_loop_on_slices():
    found = one(_READ_ALL + _TAPE_LOOP.format(training="True"), "CNL102", 19, 28)
    assert found.message == (
        "`X` holds every image read by `cv2.imread` in the loop at line 9 and is fed to `model` in slices: "
        "the whole image set sits in memory at once"
    )


CNL102_NEGATIVES = {
    "tape_loop_forward_pass_not_in_training_mode": _READ_ALL + _TAPE_LOOP.format(training="False"),
    "training_mode_call_without_a_gradient_tape": _READ_ALL + """\
    for i in range(0, len(X), 32):
        samples = [model(X[i:i + 32], training=True) for _ in range(20)]  # Monte Carlo dropout
    """,
    "each_batch_read_inside_the_loop": """\
    import cv2
    import numpy as np
    model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(64, 64, 3)), layers.Flatten(), layers.Dense(2)])
    for epoch in range(10):
        for i in range(0, len(paths), 32):
            xb = np.array([cv2.imread(p) for p in paths[i:i + 32]]) / 255.0
            model.train_on_batch(xb, labels[i:i + 32])
    """,
    "train_on_batch_from_a_directory_generator": """\
    model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(64, 64, 3)), layers.Flatten(), layers.Dense(2)])
    gen = ImageDataGenerator(rescale=1. / 255).flow_from_directory("data/train", target_size=(64, 64))
    for step in range(1000):
        xb, yb = next(gen)
        model.train_on_batch(xb, yb)
    """,
    "gan_train_on_batch_on_noise_and_a_builtin_set": """\
    import numpy as np
    (x_train, _), _ = keras.datasets.mnist.load_data()
    x_train = x_train / 127.5 - 1
    discriminator = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(1, activation="sigmoid")])
    for step in range(1000):
        real = x_train[np.random.randint(0, len(x_train), 64)]
        noise = np.random.normal(0, 1, (64, 100))
        discriminator.train_on_batch(real, np.ones((64, 1)))
    """,
    "helper_without_a_gradient_step": _READ_ALL + """\
    def show(batch, title):
        print(title, batch.shape)

    model.fit(train_generator, epochs=3)
    for i in range(0, len(X), 32):
        show(X[i:i + 32], "batch")
    """,
}


@pytest.mark.parametrize("name", sorted(CNL102_NEGATIVES))
def test_102_batches_negatives(name):
    quiet(CNL102_NEGATIVES[name], "CNL102")


# ============================================================================ CNL101: helpers and maps that do not scale

_TRAIN_HELPER = """\
    def build_model(num_classes):
        model = keras.Sequential([layers.Conv2D(8, 3, activation="relu"), layers.Flatten(), layers.Dense(num_classes)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    def train(model, train_data, val_data, epochs=10):
        return model.fit(train_data, validation_data=val_data, epochs=epochs)

"""


def test_101_pixels_reach_fit_through_a_training_helper():
    code = _TRAIN_HELPER + """\
    train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(180, 180))
    val_ds = keras.utils.image_dataset_from_directory("data/val", image_size=(180, 180))
    model = build_model(5)
    history = train(model, train_ds, val_data=val_ds)
    """
    found = one(code, "CNL101", 13, 12)
    assert found.message == (
        "`keras.utils.image_dataset_from_directory(...)` assigned to `train_ds` yields raw 0-255 pixels, and "
        "neither its `map` steps nor the model (no `Rescaling`/`Normalization` layer, no `preprocess_input`) "
        "scale them before `model.fit` in `train()`"
    )


def test_101_helper_given_data_by_keyword_with_the_model_built_inside():
    code = """\
    import numpy as np
    import cv2

    def fit_model(epochs, images=None, labels=None):
        net = keras.Sequential([layers.Conv2D(8, 3, input_shape=(64, 64, 3)), layers.Flatten(), layers.Dense(2)])
        net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        net.fit(images, labels, epochs=epochs)

    X = np.array([cv2.resize(cv2.imread(p), (64, 64)) for p in paths])
    fit_model(5, images=X, labels=y)
    """
    found = one(code, "CNL101", 14, 21)
    assert found.message == (
        "`X` (images read by `cv2.imread` in the comprehension at line 13) reaches `net.fit` in `fit_model()` as "
        "raw 0-255 pixels: it is never divided, passed to preprocess_input or scaled by a model layer"
    )


def test_101_map_that_only_augments():
    code = """\
    train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(180, 180))
    data_augmentation = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)])
    train_ds = train_ds.map(lambda x, y: (data_augmentation(x, training=True), y)).prefetch(tf.data.AUTOTUNE)
    model = keras.Sequential([layers.Conv2D(8, 3, activation="relu"), layers.Flatten(), layers.Dense(5)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(train_ds, epochs=5)
    """
    one(code, "CNL101", 5, 12)


CNL101_NEGATIVES = {
    "helper_called_with_scaled_data": _TRAIN_HELPER + """\
    train_ds = keras.utils.image_dataset_from_directory("data/train").map(lambda x, y: (x / 255., y))
    val_ds = keras.utils.image_dataset_from_directory("data/val").map(lambda x, y: (x / 255., y))
    train(build_model(5), train_ds, val_ds)
    """,
    "helper_called_once_scaled_once_from_elsewhere": _TRAIN_HELPER + """\
    from data import load_split
    raw = keras.utils.image_dataset_from_directory("data/train")
    train(build_model(5), raw.map(lambda x, y: (x / 255., y)), None)
    train(build_model(5), load_split("extra"), None)
    """,
    "helper_scales_inside": """\
    def train(model, data):
        data = data.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y))
        model.fit(data, epochs=3)

    model = keras.Sequential([layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(5)])
    train(model, keras.utils.image_dataset_from_directory("data/train"))
    """,
    "helper_model_has_a_rescaling_layer": """\
    def train(model, data):
        model.fit(data, epochs=3)

    model = keras.Sequential([layers.Rescaling(1./255), layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(5)])
    train(model, keras.utils.image_dataset_from_directory("data/train"))
    """,
    "helper_model_is_efficientnet": """\
    def train(model, data):
        model.fit(data, epochs=3)

    base = keras.applications.EfficientNetB0(include_top=False, weights="imagenet")
    model = keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(5)])
    train(model, keras.utils.image_dataset_from_directory("data/train"))
    """,
    "helper_model_comes_from_another_module": """\
    from models import make_model

    def train(model, data):
        model.fit(data, epochs=3)

    train(make_model(), keras.utils.image_dataset_from_directory("data/train"))
    """,
    "helper_passed_on_with_star_args": """\
    def train(model, data):
        model.fit(data, epochs=3)

    model = keras.Sequential([layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(5)])
    args = (model, keras.utils.image_dataset_from_directory("data/train"))
    train(*args)
    """,
    "map_with_preprocess_input": """\
    from tensorflow.keras.applications.mobilenet_v2 import preprocess_input
    train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224))
    train_ds = train_ds.map(lambda x, y: (preprocess_input(x), y))
    model = keras.Sequential([layers.Conv2D(8, 3, activation="relu"), layers.Flatten(), layers.Dense(5)])
    model.fit(train_ds, epochs=5)
    """,
    "augmentation_model_rescales": """\
    train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(180, 180))
    prep = keras.Sequential([layers.Rescaling(1./255), layers.RandomFlip("horizontal")])
    train_ds = train_ds.map(lambda x, y: (prep(x), y))
    model = keras.Sequential([layers.Conv2D(8, 3, activation="relu"), layers.Flatten(), layers.Dense(5)])
    model.fit(train_ds, epochs=5)
    """,
}


@pytest.mark.parametrize("name", sorted(CNL101_NEGATIVES))
def test_101_helper_and_map_negatives(name):
    quiet(CNL101_NEGATIVES[name], "CNL101")


# ---------------------------------------------------------------- a helper given a model factory

_FACTORY_HELPER = """\
    import numpy as np
    from tensorflow.keras.preprocessing.image import load_img, img_to_array

    images = np.array([img_to_array(load_img(p, target_size=(30, 30))) for p in paths])

    def train_and_evaluate(make_model):
        model = make_model()
        model.compile(loss="categorical_crossentropy", optimizer="adam")
        model.fit(images, labels, epochs=30)

"""

_CONV_FACTORY = """\
    def create_model():
        model = keras.Sequential()
        model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.Flatten())
        model.add(layers.Dense(43, activation="softmax"))
        return model

"""


def test_101_model_from_a_factory_passed_to_the_training_helper():
    code = _FACTORY_HELPER + _CONV_FACTORY + """\
    def create_stub_model():
        # exercise: build your own model here
        return model

    train_and_evaluate(create_stub_model)
    train_and_evaluate(create_model)
    """
    found = one(code, "CNL101", 13, 15)
    assert found.message == (
        "`images` (images read by `load_img` in the comprehension at line 8) reaches `model.fit` as raw 0-255 "
        "pixels: it is never divided, passed to preprocess_input or scaled by a model layer"
    )


CNL101_FACTORY_NEGATIVES = {
    # the factory comes from another module: what it builds is not known here
    "imported_factory": _FACTORY_HELPER + _CONV_FACTORY + """\
    from models import resnet_factory
    train_and_evaluate(create_model)
    train_and_evaluate(resnet_factory)
    """,
    # a lambda, not one of the file's functions
    "lambda_factory": _FACTORY_HELPER + """\
    train_and_evaluate(lambda: keras.Sequential([layers.Flatten(), layers.Dense(43)]))
    """,
    # the only factory loads a saved model
    "loading_factory": _FACTORY_HELPER + """\
    def restore():
        return keras.models.load_model("best.keras")

    train_and_evaluate(restore)
    """,
    # the file's factory builds a model that scales its input
    "factory_model_rescales": _FACTORY_HELPER + _CONV_FACTORY.replace(
        "model = keras.Sequential()", "model = keras.Sequential([layers.Rescaling(1./255)])") + """\
    train_and_evaluate(create_model)
    """,
    # every factory is a stub: no model of the file is known to be trained
    "only_stubs": _FACTORY_HELPER + """\
    def create_stub_model():
        return model

    train_and_evaluate(create_stub_model)
    """,
    # the factory parameter is rebound before the call
    "parameter_rebound": _FACTORY_HELPER.replace(
        "        model = make_model()\n", "        make_model = pick_factory()\n        model = make_model()\n")
    + _CONV_FACTORY + """\
    train_and_evaluate(create_model)
    """,
    # the pixels are scaled before the helper trains on them
    "scaled_pixels": _FACTORY_HELPER.replace("for p in paths])", "for p in paths]) / 255.0") + _CONV_FACTORY + """\
    train_and_evaluate(create_model)
    """,
}


@pytest.mark.parametrize("name", sorted(CNL101_FACTORY_NEGATIVES))
def test_101_factory_negatives(name):
    quiet(CNL101_FACTORY_NEGATIVES[name], "CNL101")
