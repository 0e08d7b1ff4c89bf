"""CNL302: the integer class labels of scikit-learn's sample generators (`make_classification`,
`make_blobs`, ...) fit with categorical cross-entropy, which wants one-hot rows."""

from conftest import lint

BLOBS = """\
from sklearn.datasets import make_blobs
from tensorflow import keras

points, groups = make_blobs(n_samples=300, centers=4, n_features=2)
net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"),
                        keras.layers.Dense(4, activation="softmax")])
net.compile(optimizer="sgd", loss="categorical_crossentropy")
net.fit(points, groups, epochs=20)
"""


def found(code):
    return [(f.line, f.column, f.message) for f in lint(code, "toy.py", ("CNL302",))]


def test_make_blobs_labels_with_categorical_crossentropy():
    assert found(BLOBS) == [(
        7, 35,
        '`"categorical_crossentropy"` expects one-hot labels, but `groups` (integer labels from `make_blobs()`) '
        "gives integer class indices",
    )]


def test_make_classification_through_the_module_attribute():
    code = BLOBS.replace("from sklearn.datasets import make_blobs\n", "from sklearn import datasets\n").replace(
        "make_blobs(n_samples=300, centers=4, n_features=2)",
        "datasets.make_classification(300, 2, n_classes=4, n_informative=2, n_redundant=0)")
    assert [(line, col) for line, col, _ in found(code)] == [(7, 35)]


def test_labels_one_hot_encoded_before_fit_are_fine():
    code = BLOBS.replace("net.fit(points, groups", "groups = keras.utils.to_categorical(groups, 4)\nnet.fit(points, groups")
    assert found(code) == []


def test_sparse_loss_on_generator_labels_is_fine():
    assert found(BLOBS.replace('"categorical_crossentropy"', '"sparse_categorical_crossentropy"')) == []


def test_multilabel_generator_gives_indicator_rows_not_indices():
    code = BLOBS.replace("make_blobs", "make_multilabel_classification").replace(
        "(n_samples=300, centers=4, n_features=2)", "(n_samples=300, n_features=2, n_classes=4)")
    assert found(code) == []
