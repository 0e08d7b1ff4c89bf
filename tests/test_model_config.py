"""CNL301-CNL304: output activation vs loss, loss vs labels, pretrained preprocessing, learning rate."""

import textwrap

import pytest

from conftest import lint

KERAS = """\
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
"""
TORCH = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
"""


def run(code, path="train.py"):
    return lint(textwrap.dedent(code), path, select=("CNL3",))


def spots(code, path="train.py"):
    return [(f.code, f.line, f.column) for f in run(code, path)]


def quiet(code, path="train.py"):
    found = run(code, path)
    assert found == [], [f"{f.code} {f.line}:{f.column} {f.message}" for f in found]


# ============================================================================ CNL301 Keras


def test_301_softmax_with_from_logits_true():
    code = KERAS + textwrap.dedent("""\
        model = keras.Sequential([
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam",
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL301", 9, 63)]
    f = found[0]
    assert f.message == (
        '`model` ends in `layers.Dense(10, activation="softmax")`, which outputs probabilities, but '
        "`keras.losses.SparseCategoricalCrossentropy(from_logits=True)` treats its input as logits and applies "
        "softmax again: the loss is computed on squashed values and training stalls"
    )
    assert f.hint == "remove from_logits=True (or drop the softmax from the last layer and keep from_logits=True)"
    assert f.severity.value == "error"


def test_301_sigmoid_with_binary_from_logits_true_via_loss_variable():
    code = KERAS + textwrap.dedent("""\
        model = keras.Sequential()
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(1, activation="sigmoid"))
        loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        model.compile(optimizer="adam", loss=loss_fn)
    """)
    assert spots(code) == [("CNL301", 7, 43)]


def test_301_linear_output_with_string_loss():
    code = KERAS + textwrap.dedent("""\
        model = keras.Sequential([layers.Flatten(), layers.Dense(10)])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL301", 5, 38)]
    assert found[0].message == (
        "`model` ends in `layers.Dense(10)` with no activation (raw logits), but "
        '`"sparse_categorical_crossentropy"` expects probabilities (from_logits=False): the loss is computed '
        "on unnormalised scores and training goes wrong"
    )
    assert found[0].hint == (
        "use loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), "
        'or add activation="softmax" to the last Dense layer'
    )


def test_301_linear_output_with_default_from_logits_class():
    code = KERAS + textwrap.dedent("""\
        inputs = keras.Input((32,))
        x = layers.Dense(64, activation="relu")(inputs)
        outputs = layers.Dense(1)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy())
    """)
    assert spots(code) == [("CNL301", 8, 38)]


def test_301_single_unit_softmax():
    code = KERAS + textwrap.dedent("""\
        model = keras.Sequential([layers.Flatten(), layers.Dense(1, activation="softmax")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL301", 4, 45)]
    assert found[0].message == (
        '`layers.Dense(1, activation="softmax")` always outputs 1.0: a softmax over a single unit normalises '
        "it to one, so the loss is constant and the model cannot learn"
    )


def test_301_single_unit_softmax_as_activation_layer():
    code = KERAS + textwrap.dedent("""\
        model = keras.Sequential()
        model.add(layers.Dense(1))
        model.add(layers.Activation("softmax"))
        model.compile(optimizer="adam", loss="binary_crossentropy")
    """)
    found = run(code)
    assert [(f.code, f.line) for f in found] == [("CNL301", 6)]
    assert found[0].message.startswith('`layers.Dense(1)` followed by `layers.Activation("softmax")` always outputs 1.0')


KERAS_NEGATIVES = {
    "from_logits_true_with_linear_output": """
        model = keras.Sequential([layers.Rescaling(1./255), layers.Flatten(), layers.Dense(5)])
        model.compile(optimizer="adam",
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
    """,
    "activation_layer_after_linear_dense": """
        model = keras.Sequential([layers.Flatten(), layers.Dense(10), layers.Activation("softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    """,
    "softmax_layer_after_linear_dense": """
        model = keras.Sequential([layers.Flatten(), layers.Dense(10), layers.Softmax()])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    """,
    "functional_softmax": """
        inputs = keras.Input((28, 28, 1))
        x = layers.Flatten()(inputs)
        x = layers.Dense(128, activation="relu")(x)
        x = layers.Dense(10)(x)
        outputs = layers.Softmax()(x)
        model = keras.Model(inputs=inputs, outputs=outputs)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    """,
    "tf_nn_softmax_callable": """
        model = keras.Sequential([layers.Flatten(), layers.Dense(10, activation=tf.nn.softmax)])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    """,
    "keras_activations_softmax_callable": """
        model = keras.Sequential([layers.Flatten(), layers.Dense(10, activation=keras.activations.softmax)])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    """,
    "model_from_other_module": """
        from models import build_model
        model = build_model(num_classes=10)
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    """,
    "applications_base_with_head": """
        base = keras.applications.MobileNetV2(include_top=False, weights="imagenet", input_shape=(160, 160, 3))
        base.trainable = False
        model = keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    """,
    "tf_transfer_learning_tutorial": """
        preprocess_input = tf.keras.applications.mobilenet_v2.preprocess_input
        base_model = tf.keras.applications.MobileNetV2(input_shape=(160, 160, 3), include_top=False, weights="imagenet")
        global_average_layer = tf.keras.layers.GlobalAveragePooling2D()
        prediction_layer = tf.keras.layers.Dense(1)
        inputs = tf.keras.Input(shape=(160, 160, 3))
        x = preprocess_input(inputs)
        x = base_model(x, training=False)
        x = global_average_layer(x)
        outputs = prediction_layer(x)
        model = tf.keras.Model(inputs, outputs)
        model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.0001),
                      loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                      metrics=[tf.keras.metrics.BinaryAccuracy(threshold=0.5, name="accuracy")])
    """,
    "model_bound_conditionally": """
        if use_logits:
            model = keras.Sequential([layers.Dense(10)])
        else:
            model = keras.Sequential([layers.Dense(10, activation="softmax")])
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    """,
    "sigmoid_multi_label_with_bce": """
        model = keras.Sequential([layers.Flatten(), layers.Dense(5, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
    """,
    "from_logits_variable": """
        model = keras.Sequential([layers.Flatten(), layers.Dense(10, activation="softmax")])
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=LOGITS))
    """,
    "last_layer_is_dropout": """
        model = keras.Sequential([layers.Dense(10), layers.Dropout(0.2)])
        model.compile(loss="categorical_crossentropy")
    """,
    "sequential_list_from_variable": """
        model = keras.Sequential(my_layers)
        model.add(layers.Dense(10))
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    """,
    "conditional_add": """
        model = keras.Sequential([layers.Flatten(), layers.Dense(10)])
        if probabilities:
            model.add(layers.Softmax())
        model.compile(loss="sparse_categorical_crossentropy")
    """,
    "dense_one_sigmoid": """
        model = keras.Sequential([layers.Flatten(), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    """,
}


@pytest.mark.parametrize("name", sorted(KERAS_NEGATIVES))
def test_301_keras_negatives(name):
    quiet(KERAS + textwrap.dedent(KERAS_NEGATIVES[name]))


def test_301_keras_io_image_classification_from_scratch_shape():
    quiet(KERAS + textwrap.dedent("""\
        def make_model(input_shape, num_classes):
            inputs = keras.Input(shape=input_shape)
            x = layers.Rescaling(1.0 / 255)(inputs)
            x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
            x = layers.GlobalAveragePooling2D()(x)
            if num_classes == 2:
                units = 1
            else:
                units = num_classes
            x = layers.Dropout(0.25)(x)
            outputs = layers.Dense(units, activation=None)(x)
            return keras.Model(inputs, outputs)

        model = make_model(input_shape=(180, 180) + (3,), num_classes=2)
        model.compile(
            optimizer=keras.optimizers.Adam(3e-4),
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=[keras.metrics.BinaryAccuracy(name="acc")],
        )
    """))


def test_301_compile_inside_builder_function():
    code = KERAS + textwrap.dedent("""\
        def build():
            model = keras.Sequential([layers.Flatten(), layers.Dense(10)])
            model.compile(optimizer="adam", loss="categorical_crossentropy")
            return model
    """)
    assert spots(code) == [("CNL301", 6, 42)]


def test_301_notebook_cells():
    code = KERAS + textwrap.dedent("""\
        model = keras.Sequential([layers.Flatten(), layers.Dense(10, activation="softmax")])
        # %%
        model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    """)
    found = run(code, "nb.ipynb")
    assert [(f.code, f.cell, f.line) for f in found] == [("CNL301", 2, 1)]


# ============================================================================ CNL301 PyTorch

NET_SOFTMAX = TORCH + """\

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.softmax(x, dim=1)

model = Net().to("cuda")
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
"""


def test_301_torch_softmax_before_cross_entropy():
    code = NET_SOFTMAX + textwrap.dedent("""\
        for images, labels in loader:
            outputs = model(images)
            loss = criterion(outputs, labels)
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL301", 14, 16)]
    assert found[0].message == (
        "the model's output goes through `F.softmax(x, dim=1)` before `nn.CrossEntropyLoss()`, which expects raw "
        "logits (it applies log_softmax itself): the loss is computed on probabilities, gradients nearly vanish "
        "and training stalls"
    )
    assert found[0].hint == "return the raw output of the last Linear layer (apply softmax only for predictions)"


def test_301_torch_training_function_with_parameters():
    code = NET_SOFTMAX + textwrap.dedent("""\
        def train(model, loader, criterion, optimizer):
            model.train()
            for images, labels in loader:
                optimizer.zero_grad()
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()

        train(model, loader, criterion, optimizer)
    """)
    assert spots(code) == [("CNL301", 14, 16)]


def test_301_torch_sequential_softmax_module():
    code = TORCH + textwrap.dedent("""\
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.Softmax(dim=1))
        loss_fn = nn.CrossEntropyLoss()
        for x, y in loader:
            loss = loss_fn(model(x), y)
    """)
    assert spots(code) == [("CNL301", 4, 57)]


def test_301_torch_sigmoid_before_bce_with_logits():
    code = TORCH + textwrap.dedent("""\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.head = nn.Sequential(nn.Linear(512, 1), nn.Sigmoid())

            def forward(self, x):
                return self.head(x)

        model = Net()
        criterion = nn.BCEWithLogitsLoss()
        for x, y in loader:
            loss = criterion(model(x), y)
    """)
    found = run(code)
    assert [(f.code, f.line) for f in found] == [("CNL301", 7)]
    assert "applies the sigmoid itself" in found[0].message


def test_301_torch_bce_on_raw_logits():
    code = TORCH + textwrap.dedent("""\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(512, 1)

            def forward(self, x):
                return self.fc(x)

        model = Net()
        criterion = nn.BCELoss()
        for x, y in loader:
            loss = criterion(model(x), y)
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL301", 13, 13)]
    assert found[0].hint == "use BCEWithLogitsLoss (numerically stable, applies the sigmoid itself)"


def test_301_lightning_self_call_with_functional_loss():
    code = TORCH + textwrap.dedent("""\
        import lightning as L

        class Classifier(L.LightningModule):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

            def forward(self, x):
                return torch.softmax(self.net(x), dim=-1)

            def training_step(self, batch, batch_idx):
                x, y = batch
                logits = self(x)
                return F.cross_entropy(logits, y)
    """)
    assert spots(code) == [("CNL301", 12, 16)]


TORCH_NEGATIVES = {
    "log_softmax_with_nll": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(9216, 10)

            def forward(self, x):
                x = self.fc(x)
                output = F.log_softmax(x, dim=1)
                return output

        model = Net()
        for data, target in loader:
            output = model(data)
            loss = F.nll_loss(output, target)
    """,
    "linear_with_cross_entropy": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(512, 10)

            def forward(self, x):
                return self.fc(x)

        model = Net()
        criterion = nn.CrossEntropyLoss()
        for x, y in loader:
            outputs = model(x)
            loss = criterion(outputs, y)
            probs = F.softmax(outputs, dim=1)
    """,
    "softmax_only_in_predict": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(512, 10)

            def forward(self, x):
                return self.fc(x)

            def predict(self, x):
                return F.softmax(self.forward(x), dim=1)

        model = Net()
        criterion = nn.CrossEntropyLoss()
        loss = criterion(model(x), y)
    """,
    "timm_model": """
        import timm
        model = timm.create_model("resnet50", pretrained=True, num_classes=10)
        criterion = nn.CrossEntropyLoss()
        for x, y in loader:
            loss = criterion(model(x), y)
    """,
    "torchvision_model_replaced_head": """
        import torchvision
        model = torchvision.models.resnet18(weights=None)
        model.fc = nn.Linear(model.fc.in_features, 2)
        criterion = nn.CrossEntropyLoss()
        for x, y in loader:
            loss = criterion(model(x), y)
    """,
    "sigmoid_with_bce": """
        model = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())
        criterion = nn.BCELoss()
        for x, y in loader:
            loss = criterion(model(x), y)
    """,
    "two_model_classes_and_parameter": """
        class A(nn.Module):
            def forward(self, x):
                return F.softmax(x, dim=1)

        class B(nn.Module):
            def forward(self, x):
                return x

        a, b = A(), B()

        def train(model, criterion):
            for x, y in loader:
                loss = criterion(model(x), y)

        train(b, nn.CrossEntropyLoss())
    """,
    "forward_returns_conditionally": """
        class Net(nn.Module):
            def forward(self, x):
                if self.training:
                    return x
                return F.softmax(x, dim=1)

        model = Net()
        criterion = nn.CrossEntropyLoss()
        loss = criterion(model(x), y)
    """,
}


@pytest.mark.parametrize("name", sorted(TORCH_NEGATIVES))
def test_301_torch_negatives(name):
    quiet(TORCH + textwrap.dedent(TORCH_NEGATIVES[name]))


# ============================================================================ CNL302


def test_302_sparse_loss_with_default_categorical_flow():
    code = KERAS + textwrap.dedent("""\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        datagen = ImageDataGenerator(rescale=1./255)
        train_gen = datagen.flow_from_directory("data/train", target_size=(224, 224), batch_size=32)
        model = keras.Sequential([layers.Flatten(), layers.Dense(5, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(train_gen, epochs=10)
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL302", 8, 38)]
    assert found[0].message == (
        '`"sparse_categorical_crossentropy"` expects integer class indices, but '
        '`datagen.flow_from_directory(...)` (class_mode defaults to "categorical") gives one-hot vectors'
    )
    assert found[0].hint == "use categorical_crossentropy for one-hot labels (or keep integer labels)"


def test_302_categorical_loss_with_sparse_class_mode():
    code = KERAS + textwrap.dedent("""\
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train", class_mode="sparse")
        model = keras.Sequential([layers.Flatten(), layers.Dense(5, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        history = model.fit(gen, epochs=3)
    """)
    found = run(code)
    assert [(f.code, f.line) for f in found] == [("CNL302", 7)]
    assert found[0].message == (
        '`"categorical_crossentropy"` expects one-hot labels, but `flow_from_directory(..., class_mode="sparse")` '
        "gives integer class indices"
    )


def test_302_categorical_loss_with_load_data_labels():
    code = KERAS + textwrap.dedent("""\
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        x_train = x_train / 255.0
        model = keras.Sequential([layers.Flatten(), layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(x_train, y_train, epochs=5)
    """)
    found = run(code)
    assert [(f.code, f.line) for f in found] == [("CNL302", 7)]
    assert "`y_train` (integer labels from `keras.datasets.mnist.load_data()`)" in found[0].message


def test_302_sparse_loss_with_to_categorical():
    code = KERAS + textwrap.dedent("""\
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
        y_train = keras.utils.to_categorical(y_train, 10)
        model = keras.Sequential([layers.Flatten(), layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy())
        model.fit(x_train / 255.0, y_train, epochs=5)
    """)
    assert spots(code) == [("CNL302", 7, 38)]


def test_302_sparse_loss_with_categorical_label_mode():
    code = KERAS + textwrap.dedent("""\
        train_ds = keras.utils.image_dataset_from_directory("data", label_mode="categorical", image_size=(180, 180))
        train_ds = train_ds.map(lambda x, y: (x / 255.0, y)).prefetch(2)
        model = keras.Sequential([layers.Flatten(), layers.Dense(4, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(train_ds, epochs=5)
    """)
    assert spots(code) == [("CNL302", 7, 38)]


def test_302_binary_crossentropy_with_multi_unit_softmax():
    code = KERAS + textwrap.dedent("""\
        model = keras.Sequential([layers.Flatten(), layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL302", 5, 38)]
    assert found[0].message == (
        '`"binary_crossentropy"` scores each output unit as an independent yes/no, but `model` ends in '
        '`layers.Dense(3, activation="softmax")`, whose 3 outputs compete and sum to 1'
    )


def test_302_units_differ_from_stated_classes():
    code = KERAS + textwrap.dedent("""\
        num_classes = 10
        (x_train, y_train), _ = keras.datasets.mnist.load_data()
        y_train = keras.utils.to_categorical(y_train, num_classes)
        model = keras.Sequential([layers.Flatten(), layers.Dense(5, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL302", 7, 58)]
    assert found[0].message == (
        "the output layer has 5 units, but `num_classes` says there are 10 classes: the model predicts over 5 classes"
    )


def test_302_units_differ_from_literal_class_names():
    code = KERAS + textwrap.dedent("""\
        class_names = ["cat", "dog", "bird"]
        NUM_CLASSES = len(class_names)
        model = keras.Sequential([layers.Flatten(), layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    """)
    assert spots(code) == [("CNL302", 6, 58)]


KERAS_302_NEGATIVES = {
    "int_label_mode_with_sparse": """
        train_ds = tf.keras.utils.image_dataset_from_directory("data", label_mode="int", image_size=(180, 180))
        model = keras.Sequential([layers.Rescaling(1./255), layers.Flatten(), layers.Dense(5)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train_ds, epochs=10)
    """,
    "default_label_mode_with_sparse": """
        train_ds = tf.keras.utils.image_dataset_from_directory("data", image_size=(180, 180), batch_size=32)
        class_names = train_ds.class_names
        num_classes = len(class_names)
        model = keras.Sequential([layers.Rescaling(1./255), layers.Flatten(), layers.Dense(num_classes)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train_ds, epochs=10)
    """,
    "categorical_class_mode_with_categorical": """
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        train_gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train", class_mode="categorical")
        model = keras.Sequential([layers.Flatten(), layers.Dense(5, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train_gen, epochs=10)
    """,
    "to_categorical_then_categorical": """
        num_classes = 10
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        y_train = keras.utils.to_categorical(y_train, num_classes)
        y_test = keras.utils.to_categorical(y_test, num_classes)
        model = keras.Sequential([layers.Flatten(), layers.Dense(num_classes, activation="softmax")])
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        model.fit(x_train / 255.0, y_train, batch_size=128, epochs=15, validation_split=0.1)
    """,
    "binary_class_mode_dense_one_sigmoid": """
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        train_gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train", class_mode="binary")
        model = keras.Sequential([layers.Flatten(), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train_gen, epochs=10)
    """,
    "multi_label_sigmoid": """
        model = keras.Sequential([layers.Flatten(), layers.Dense(6, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x, y_multi_hot, epochs=10)
    """,
    "map_one_hot_labels": """
        train_ds = tf.keras.utils.image_dataset_from_directory("data")
        train_ds = train_ds.map(lambda x, y: (x, tf.one_hot(y, 5)))
        model = keras.Sequential([layers.Flatten(), layers.Dense(5, activation="softmax")])
        model.compile(loss="categorical_crossentropy")
        model.fit(train_ds)
    """,
    "class_mode_variable": """
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train", class_mode=MODE)
        model = keras.Sequential([layers.Flatten(), layers.Dense(5, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy")
        model.fit(gen)
    """,
    "units_from_num_classes": """
        NUM_CLASSES = 10
        model = keras.Sequential([layers.Flatten(), layers.Dense(NUM_CLASSES, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy")
    """,
    "two_models_different_heads": """
        num_classes = 10
        a = keras.Sequential([layers.Flatten(), layers.Dense(num_classes, activation="softmax")])
        a.compile(loss="sparse_categorical_crossentropy")
        b = keras.Sequential([layers.Flatten(), layers.Dense(2, activation="softmax")])
        b.compile(loss="sparse_categorical_crossentropy")
    """,
    "num_classes_conditional": """
        if dataset == "cifar100":
            num_classes = 100
        else:
            num_classes = 10
        model = keras.Sequential([layers.Flatten(), layers.Dense(10, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy")
    """,
    "labels_from_unknown_function": """
        x_train, y_train = load_my_data()
        model = keras.Sequential([layers.Flatten(), layers.Dense(10, activation="softmax")])
        model.compile(loss="categorical_crossentropy")
        model.fit(x_train, y_train)
    """,
}


@pytest.mark.parametrize("name", sorted(KERAS_302_NEGATIVES))
def test_302_negatives(name):
    quiet(KERAS + textwrap.dedent(KERAS_302_NEGATIVES[name]))


# ============================================================================ CNL303


def test_303_vgg16_with_rescale():
    code = KERAS + textwrap.dedent("""\
        from tensorflow.keras.applications import VGG16
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        base = VGG16(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
        model = keras.Sequential([base, layers.Flatten(), layers.Dense(5, activation="softmax")])
        train_datagen = ImageDataGenerator(rescale=1./255, horizontal_flip=True)
        train_gen = train_datagen.flow_from_directory("train", target_size=(224, 224))
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train_gen, epochs=5)
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL303", 8, 36)]
    assert found[0].message == (
        "`rescale=1./255` scales pixels to [0, 1], but the pretrained `VGG16` expects its own preprocess_input "
        '("caffe" mode: BGR channels with the ImageNet mean subtracted, values around -124..152): the pretrained '
        "features see inputs they were never trained on"
    )
    assert found[0].hint == (
        "replace rescale=1./255 with preprocessing_function=keras.applications.vgg16.preprocess_input"
    )


def test_303_efficientnet_with_rescaling_layer():
    code = KERAS + textwrap.dedent("""\
        base = keras.applications.EfficientNetB0(include_top=False, weights="imagenet")
        inputs = keras.Input((224, 224, 3))
        x = layers.Rescaling(1./255)(inputs)
        x = base(x, training=False)
        x = layers.GlobalAveragePooling2D()(x)
        outputs = layers.Dense(3, activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train_ds, epochs=5)
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL303", 6, 5)]
    assert found[0].message.startswith(
        "`layers.Rescaling(1./255)` scales pixels to [0, 1] before the pretrained `EfficientNetB0`, which rescales "
        "0-255 pixels itself"
    )


def test_303_resnet50_default_weights_sequential_rescaling_is_caffe_mismatch():
    # ResNet50's default weights are ImageNet's, trained on caffe-style inputs: Rescaling(1./255) is a mismatch
    code = KERAS + textwrap.dedent("""\
        base = keras.applications.ResNet50(include_top=False)
        model = keras.Sequential([layers.Rescaling(1./255), base, layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train_ds, epochs=5)
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL303", 5, 27)]
    assert found[0].message == (
        "`layers.Rescaling(1./255)` scales pixels to [0, 1] before the pretrained `ResNet50`, which expects its own "
        'preprocess_input ("caffe" mode: BGR channels with the ImageNet mean subtracted, values around -124..152): '
        "the pretrained features see inputs they were never trained on"
    )
    assert found[0].hint == (
        "remove the Rescaling layer and apply keras.applications.resnet.preprocess_input to the 0-255 pixels"
    )


def test_303_convnext_in_sequential_with_rescaling():
    code = KERAS + textwrap.dedent("""\
        base = keras.applications.ConvNeXtTiny(include_top=False)
        model = keras.Sequential([layers.Rescaling(1./255), base, layers.GlobalAveragePooling2D(), layers.Dense(3)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train_ds, epochs=5)
    """)
    assert spots(code) == [("CNL303", 5, 27)]


def test_303_torchvision_pretrained_without_normalize():
    code = TORCH + textwrap.dedent("""\
        from torchvision import datasets, models, transforms
        tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor()])
        train_set = datasets.ImageFolder("data/train", transform=tf)
        model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
        model.fc = nn.Linear(model.fc.in_features, 2)
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL303", 5, 6)]
    assert found[0].message == (
        "`transforms.Compose(...)` has no `Normalize`, but `models.resnet18` loads ImageNet weights trained on "
        "inputs normalised with the ImageNet mean and std: the pretrained features see shifted inputs"
    )


def test_303_torchvision_legacy_pretrained_true():
    code = TORCH + textwrap.dedent("""\
        import torchvision
        import torchvision.transforms as T
        transform = T.Compose([T.RandomResizedCrop(224), T.ToTensor()])
        model = torchvision.models.vgg16(pretrained=True)
    """)
    assert spots(code) == [("CNL303", 6, 13)]


CNL303_NEGATIVES = {
    "weights_none": (KERAS, """
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        base = keras.applications.VGG16(weights=None, include_top=False)
        model = keras.Sequential([base, layers.Flatten(), layers.Dense(5, activation="softmax")])
        gen = ImageDataGenerator(rescale=1./255).flow_from_directory("train")
        model.compile(loss="categorical_crossentropy")
        model.fit(gen)
    """),
    "preprocessing_function": (KERAS, """
        from tensorflow.keras.applications.vgg16 import VGG16, preprocess_input
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        base = VGG16(weights="imagenet", include_top=False)
        model = keras.Sequential([base, layers.Flatten(), layers.Dense(5, activation="softmax")])
        gen = ImageDataGenerator(preprocessing_function=preprocess_input).flow_from_directory("train")
        model.compile(loss="categorical_crossentropy")
        model.fit(gen)
    """),
    "mobilenetv2_tf_mode_rescaling": (KERAS, """
        base = keras.applications.MobileNetV2(include_top=False, weights="imagenet")
        model = keras.Sequential([layers.Rescaling(1./127.5, offset=-1), base, layers.Dense(3)])
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train_ds)
    """),
    "efficientnetv2_without_include_preprocessing": (KERAS, """
        base = keras.applications.EfficientNetV2B0(include_top=False, include_preprocessing=False)
        model = keras.Sequential([layers.Rescaling(1./255), base, layers.Dense(3)])
        model.fit(train_ds)
    """),
    "rescaling_in_other_model": (KERAS, """
        scratch = keras.Sequential([layers.Rescaling(1./255), layers.Conv2D(16, 3), layers.Flatten(), layers.Dense(3)])
        base = keras.applications.EfficientNetB0(include_top=False)
        transfer = keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(3)])
        scratch.fit(train_ds)
        transfer.fit(train_ds)
    """),
    "tv_weights_transforms": (TORCH, """
        from torchvision import datasets, models
        from torchvision.models import ResNet50_Weights
        weights = ResNet50_Weights.DEFAULT
        model = models.resnet50(weights=weights)
        preprocess = weights.transforms()
        train_set = datasets.ImageFolder("data/train", transform=preprocess)
    """),
    "tv_weights_default_transforms": (TORCH, """
        from torchvision import models, transforms
        from torchvision.models import ResNet50_Weights
        model = models.resnet50(weights=ResNet50_Weights.DEFAULT)
        tf = transforms.Compose([transforms.Resize(256), transforms.ToTensor(), ResNet50_Weights.DEFAULT.transforms()])
    """),
    "tv_normalize": (TORCH, """
        from torchvision import models, transforms
        tf = transforms.Compose([
            transforms.Resize(256),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ])
        model = models.resnet50(weights="IMAGENET1K_V2")
    """),
    "tv_from_scratch": (TORCH, """
        from torchvision import models, transforms
        tf = transforms.Compose([transforms.ToTensor()])
        model = models.resnet18(weights=None, num_classes=10)
    """),
    "tv_pretrained_false": (TORCH, """
        import torchvision
        from torchvision import transforms
        tf = transforms.Compose([transforms.ToTensor()])
        model = torchvision.models.resnet18(pretrained=False)
    """),
    "tv_detection_model_normalises_itself": (TORCH, """
        import torchvision
        from torchvision import transforms
        tf = transforms.Compose([transforms.ToTensor()])
        model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights="DEFAULT")
    """),
    "timm_model": (TORCH, """
        import timm
        from torchvision import transforms
        tf = transforms.Compose([transforms.ToTensor()])
        model = timm.create_model("resnet50", pretrained=True)
    """),
    "tv_pipeline_elsewhere": (TORCH, """
        from torchvision import models
        from data import make_loaders
        train_loader, val_loader = make_loaders("data")
        model = models.resnet18(weights="DEFAULT")
    """),
}


@pytest.mark.parametrize("name", sorted(CNL303_NEGATIVES))
def test_303_negatives(name):
    prefix, code = CNL303_NEGATIVES[name]
    quiet(prefix + textwrap.dedent(code))


# ============================================================================ CNL304


def test_304_sgd_lr_too_high_through_constant():
    code = TORCH + textwrap.dedent("""\
        LR = 10
        model = nn.Linear(4, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL304", 6, 52)]
    assert found[0].message == (
        "learning rate `LR` = 10 for `SGD` is far too high (typical range 0.001-0.1): the first updates blow "
        "the weights up and the loss becomes NaN or never falls"
    )
    assert found[0].hint == "start from 0.01-0.1 and tune from there"
    assert found[0].severity.value == "warning"


def test_304_adam_keras_positional():
    code = KERAS + textwrap.dedent("""\
        opt = keras.optimizers.Adam(0.5)
    """)
    found = run(code)
    assert [(f.code, f.line, f.column) for f in found] == [("CNL304", 4, 29)]
    assert found[0].message.startswith("learning rate 0.5 for `Adam` is far too high (typical range 1e-5-1e-2)")


def test_304_too_small():
    code = TORCH + textwrap.dedent("""\
        model = nn.Linear(4, 2)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-9)
    """)
    found = run(code)
    assert [(f.code, f.line) for f in found] == [("CNL304", 5)]
    assert found[0].message == (
        "learning rate 1e-9 for `AdamW` is so small that the weights barely move: training runs but the "
        "model does not learn"
    )


def test_304_keras_schedule():
    code = KERAS + textwrap.dedent("""\
        schedule = keras.optimizers.schedules.ExponentialDecay(initial_learning_rate=0.5, decay_steps=1000, decay_rate=0.9)
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=schedule), loss="mse")
    """)
    found = run(code)
    assert [(f.code, f.line) for f in found] == [("CNL304", 4)]
    assert found[0].message.startswith("`ExponentialDecay` learning rate 0.5 for `RMSprop` is far too high")


def test_304_one_cycle_adam():
    code = TORCH + textwrap.dedent("""\
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=1000)
    """)
    assert spots(code) == [("CNL304", 5, 67)]


LR_NEGATIVES = {
    "sgd_0_1": (TORCH, "optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)\n"),
    "fine_tune_1e_5": (KERAS, "opt = keras.optimizers.Adam(learning_rate=1e-5)\n"),
    "adadelta_1": (TORCH, "optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)\n"),
    "adagrad_0_1": (TORCH, "optimizer = torch.optim.Adagrad(model.parameters(), lr=0.1)\n"),
    "keras_adadelta_1": (KERAS, "opt = keras.optimizers.Adadelta(learning_rate=1.0)\n"),
    "lbfgs_default_like": (TORCH, "optimizer = torch.optim.LBFGS(model.parameters(), lr=1)\n"),
    "string_optimizer": (KERAS, 'opt = "SGD"\nmodel.compile(optimizer=opt, loss="mse")\n'),
    "cosine_eta_min_zero": (TORCH, """
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100, eta_min=0)
    """),
    "linear_lr_start_factor": (TORCH, """
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
        warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1e-8, total_iters=500)
    """),
    "reduce_on_plateau_min_lr": (KERAS, """
        opt = keras.optimizers.Adam(learning_rate=1e-3)
        reduce = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, min_lr=1e-7)
    """),
    "torch_reduce_on_plateau_min_lr": (TORCH, """
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, min_lr=0)
    """),
    "argparse_lr": (TORCH, """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=10.0)
        args = parser.parse_args()
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    """),
    "lr_reassigned": (TORCH, """
        LR = 10
        LR = 0.01
        optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    """),
    "lr_zero_with_manual_warmup": (TORCH, """
        optimizer = torch.optim.AdamW(model.parameters(), lr=0.0)
        for step in range(1000):
            for g in optimizer.param_groups:
                g["lr"] = 3e-4 * min(1.0, step / 100)
    """),
    "one_cycle_overrides_optimizer_lr": (TORCH, """
        optimizer = torch.optim.Adam(model.parameters(), lr=0.0)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=1000)
    """),
    "one_cycle_sgd_super_convergence": (TORCH, """
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3.0, total_steps=1000)
    """),
    "cosine_decay_warmup_from_zero": (KERAS, """
        sched = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=1000, warmup_target=1e-3, warmup_steps=100)
        opt = keras.optimizers.AdamW(learning_rate=sched)
    """),
    "other_library_adam": ("import bitsandbytes as bnb\n", "optimizer = bnb.optim.Adam8bit(params, lr=0.5)\n"),
}


@pytest.mark.parametrize("name", sorted(LR_NEGATIVES))
def test_304_negatives(name):
    prefix, code = LR_NEGATIVES[name]
    quiet(prefix + textwrap.dedent(code))


# ============================================================================ robustness


@pytest.mark.parametrize("code", [
    KERAS + "model = keras.Sequential([])\nmodel.compile(loss='categorical_crossentropy')\n",
    KERAS + "model = keras.Sequential()\nmodel.add()\nmodel.compile(optimizer=keras.optimizers.Adam(), "
            "loss=keras.losses.CategoricalCrossentropy())\n",
    KERAS + "keras.layers.Dense()\nkeras.optimizers.Adam(learning_rate=1/0)\n",
    TORCH + "nn.Sequential()\ncriterion = nn.CrossEntropyLoss()\ncriterion()\n",
    TORCH + "class N(nn.Module):\n    def forward(self):\n        return\nN()\nnn.CrossEntropyLoss()(N()(1), 2)\n",
])
def test_odd_code_does_not_crash(code):
    assert [f.code for f in run(code) if f.code == "CNL001"] == []


# ============================================================================ notebooks and frameworks


def test_301_kaggle_notebook_torch_cells():
    code = TORCH + textwrap.dedent("""\
        class CNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
                self.classifier = nn.Sequential(nn.Linear(16, 4), nn.Softmax(dim=1))

            def forward(self, x):
                return self.classifier(self.features(x))
        # %%
        model = CNN()
        criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        # %%
        for epoch in range(10):
            for images, labels in train_loader:
                optimizer.zero_grad()
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
    """)
    found = run(code, "kaggle.ipynb")
    assert [(f.code, f.cell, f.line) for f in found] == [("CNL301", 1, 8)]
    assert "`nn.Softmax(dim=1)` before `nn.CrossEntropyLoss()`" in found[0].message


def test_301_parameter_fallback_needs_a_single_model():
    quiet(TORCH + textwrap.dedent("""\
        class Net(nn.Module):
            def forward(self, x):
                return F.softmax(x, dim=1)

        probe = Net()
        baseline = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

        def train(model, loader, criterion):
            for x, y in loader:
                loss = criterion(model(x), y)

        train(baseline, loader, nn.CrossEntropyLoss())
    """))


def test_301_lightning_logits_negative():
    quiet(TORCH + textwrap.dedent("""\
        import pytorch_lightning as pl
        import torchvision

        class LitModel(pl.LightningModule):
            def __init__(self, num_classes):
                super().__init__()
                self.model = torchvision.models.resnet18(num_classes=num_classes)
                self.loss_fn = nn.CrossEntropyLoss()

            def forward(self, x):
                return self.model(x)

            def training_step(self, batch, batch_idx):
                x, y = batch
                logits = self(x)
                loss = self.loss_fn(logits, y)
                preds = torch.softmax(logits, dim=1)
                return loss

            def configure_optimizers(self):
                return torch.optim.Adam(self.parameters(), lr=1e-3)
    """))


def test_304_keras_legacy_lr_keyword_in_notebook():
    code = KERAS + textwrap.dedent("""\
        INIT_LR = 1e-3
        # %%
        opt = keras.optimizers.SGD(lr=5, momentum=0.9)
    """)
    found = run(code, "nb.ipynb")
    assert [(f.code, f.cell, f.line, f.column) for f in found] == [("CNL304", 2, 1, 31)]
