"""CNL303: ImageNet weights loaded from Keras' own weight file, `preprocess_input` that never touches
the training data, and `rescale=` applied after `preprocessing_function=preprocess_input`."""

import textwrap

from conftest import lint

HEAD = """\
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.preprocessing.image import ImageDataGenerator
"""


def found(code, path="train.py"):
    return [(f.line, f.column) for f in lint(HEAD + textwrap.dedent(code), path, ("CNL303",))]


# ---------------------------------------------------------------- weights=None, then Keras' weight file

FROM_FILE = """\
    from tensorflow.keras.applications.xception import Xception
    weights_path = "/data/xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    backbone = Xception(include_top=False, weights=None, input_shape=(299, 299, 3))
    backbone.load_weights(weights_path)
    head = layers.Dense(4, activation="softmax")(layers.GlobalAveragePooling2D()(backbone.output))
    net = keras.Model(backbone.input, head)
    flow = ImageDataGenerator(rescale=1/255.).flow_from_directory("photos/train")
    net.compile(loss="categorical_crossentropy")
    net.fit(flow, epochs=3)
"""


def test_weights_loaded_from_the_keras_imagenet_file_count_as_pretrained():
    (f,) = lint(HEAD + textwrap.dedent(FROM_FILE), "train.py", ("CNL303",))
    assert (f.line, f.column) == (10, 27)
    assert f.message.startswith("`rescale=1/255.` scales pixels to [0, 1], but the pretrained `Xception` expects "
                                "inputs scaled to [-1, 1]")


def test_weights_path_given_directly_counts_too():
    code = FROM_FILE.replace("weights=None", "weights=weights_path").replace("    backbone.load_weights(weights_path)\n", "")
    assert found(code) == [(9, 27)]


def test_weights_loaded_from_a_checkpoint_of_ones_own_are_not_imagenet():
    code = FROM_FILE.replace("xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "my_run/best.h5")
    assert found(code) == []


def test_weights_none_and_never_loaded_is_training_from_scratch():
    code = FROM_FILE.replace("    backbone.load_weights(weights_path)\n", "")
    assert found(code) == []


# ---------------------------------------------------------------- preprocess_input that never shapes training

PREDICT_ONLY = """\
    from tensorflow.keras.applications.vgg16 import VGG16, preprocess_input
    conv = VGG16(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
    out = layers.Dense(2, activation="softmax")(layers.Flatten()(conv.output))
    clf = keras.Model(conv.input, out)
    source = ImageDataGenerator(rescale=1./255, zoom_range=0.1)
    batches = source.flow_from_directory("cells/train")
    clf.compile(loss="categorical_crossentropy")
    clf.fit(batches, epochs=2)
    single = preprocess_input(sample[None])
    print(clf.predict(single))
"""


def test_preprocess_input_used_only_after_training_does_not_silence_the_rule():
    assert found(PREDICT_ONLY) == [(8, 29)]


def test_preprocess_input_imported_and_never_used_does_not_silence_the_rule():
    code = PREDICT_ONLY.replace("    single = preprocess_input(sample[None])\n", "    single = sample[None]\n")
    assert found(code) == [(8, 29)]


def test_preprocess_input_used_before_training_silences_the_rule():
    code = PREDICT_ONLY.replace("    clf.fit(batches, epochs=2)\n    single = preprocess_input(sample[None])\n",
                                "    arrays = preprocess_input(arrays)\n    clf.fit(batches, epochs=2)\n"
                                "    single = sample[None]\n")
    assert found(code) == []


def test_preprocess_input_in_a_function_defined_after_training_silences_the_rule():
    # a function may be called from anywhere: its use is not known to be prediction only
    code = PREDICT_ONLY.replace("    single = preprocess_input(sample[None])\n",
                                "    def prep(a):\n        return preprocess_input(a)\n    single = sample\n")
    assert found(code) == []


# ---------------------------------------------------------------- rescale after preprocessing_function

ORDER = """\
    from tensorflow.keras.applications.resnet50 import ResNet50, preprocess_input
    trunk = ResNet50(weights="imagenet", include_top=False, pooling="avg")
    clf = keras.Sequential([trunk, layers.Dense(3, activation="softmax")])
    gen = ImageDataGenerator(preprocessing_function=preprocess_input, rescale=1.0 / 255)
    clf.compile(loss="categorical_crossentropy")
    clf.fit(gen.flow_from_directory("leaves"), epochs=4)
"""


def test_rescale_after_the_applications_preprocess_input():
    (f,) = lint(HEAD + textwrap.dedent(ORDER), "train.py", ("CNL303",))
    assert (f.line, f.column) == (7, 67)
    assert f.message == (
        "`rescale=1.0 / 255` is applied after `preprocessing_function=preprocess_input`: the generator divides "
        "the pixels the pretrained weights' own preprocessing (resnet50) just prepared by 255, so the model sees "
        "values near 0 instead of the scale it was trained on"
    )
    assert f.hint == "drop rescale=: the preprocessing function already scales the pixels"


def test_preprocessing_function_of_ones_own_with_rescale_is_left_alone():
    code = ORDER.replace(", preprocess_input\n", "\n").replace("preprocessing_function=preprocess_input",
                                                               "preprocessing_function=add_noise")
    assert found(code) == []


def test_preprocess_input_with_rescale_that_is_not_one_over_255_is_left_alone():
    code = ORDER.replace("rescale=1.0 / 255", "rescale=None")
    assert found(code) == []
