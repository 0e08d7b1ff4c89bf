"""CNL101/CNL102 on TensorFlow 1 graphs: `sess.run(train_op, feed_dict={x: images})` and
`train_op.run(feed_dict=...)` train on what they feed, when `train_op` is an optimizer's
`minimize(...)` (issue 14; georgesha's chest X-ray script in the corpus, whose images come from a
helper module: issue 19)."""

import pytest

from conftest import lint

HEAD = (
    "import os\nimport cv2\nimport numpy as np\nimport tensorflow as tf\n"
    "images = []\n"
    "for name in os.listdir('data/train'):\n"
    "    images.append(cv2.imread(os.path.join('data/train', name)))\n"
    "X = np.array(images)\n"
    "x = tf.placeholder(tf.float32, [None, 64, 64, 3])\n"
    "y = tf.placeholder(tf.float32, [None, 2])\n"
    "logits = tf.layers.dense(tf.layers.flatten(x), 2)\n"
    "loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))\n"
    "train_step = tf.train.AdamOptimizer(1e-4).minimize(loss)\n"
)  # 13 lines


def found(code):
    return [(f.code, f.line, f.column) for f in lint(code, select=("CNL101", "CNL102"))]


def test_session_run_of_the_training_op_feeds_raw_images():
    code = HEAD + (
        "with tf.Session() as sess:\n"
        "    for epoch in range(10):\n"
        "        sess.run(train_step, feed_dict={x: X, y: labels})\n"
    )
    assert found(code) == [("CNL101", 16, 44), ("CNL102", 16, 44)]
    (f101,) = [f for f in lint(code, select=("CNL101",))]
    assert f101.message.startswith("`X` (images read by `cv2.imread`")
    assert "reaches `sess.run` as raw 0-255 pixels" in f101.message
    assert f101.hint == "divide the array by 255. before feeding it (or scale the input placeholder in the graph)"


def test_the_training_op_run_by_itself_and_in_a_fetch_list():
    code = HEAD + (
        "for epoch in range(10):\n"
        "    train_step.run(feed_dict={x: X, y: labels})\n"
        "    _, cost = sess.run([train_step, loss], feed_dict={x: X, y: labels})\n"
    )
    # CNL101 at each feed; CNL102 once for the image set
    assert found(code) == [("CNL101", 15, 34), ("CNL102", 15, 34), ("CNL101", 16, 58)]


@pytest.mark.parametrize("tail", [
    # evaluation: the fetched op is not an optimizer's minimize()
    "acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1)), tf.float32))\n"
    "print(sess.run(acc, feed_dict={x: X, y: labels}))\n",
    # a run without feed_dict, or with a feed built elsewhere
    "sess.run(train_step)\n",
    "sess.run(train_step, feed_dict=feeds)\n",
    # the op is not known to be a training op on every path
    "if tune:\n    train_step = tf.reduce_mean(logits)\nsess.run(train_step, feed_dict={x: X, y: labels})\n",
])
def test_not_a_training_feed(tail):
    assert found(HEAD + tail) == []


@pytest.mark.parametrize("scaling", [
    "X = X / 255.0\n",
    "x_scaled = tf.image.per_image_standardization(x)\n",
])
def test_scaled_pixels_are_not_cnl101(scaling):
    code = HEAD + scaling + "sess.run(train_step, feed_dict={x: X, y: labels})\n"
    assert [c for c, _, _ in found(code)] == ["CNL102"]


def test_images_from_a_helper_module(tmp_path):
    (tmp_path / "setup.py").write_text("")
    (tmp_path / "image.py").write_text(
        "import os\nimport cv2\n\n\ndef read_images(path):\n    images = []\n"
        "    for name in os.listdir(path):\n        images.append(cv2.imread(os.path.join(path, name), 0))\n"
        "    return images\n"
    )
    code = (
        "import tensorflow as tf\nimport image\n"
        "train = image.read_images('data/train')\n"
        "x = tf.placeholder(tf.float32, [None, 65536])\n"
        "loss = tf.reduce_mean(tf.layers.dense(x, 1))\n"
        "train_step = tf.train.AdamOptimizer(1e-4).minimize(loss)\n"
        "with tf.Session() as sess:\n"
        "    for i in range(100):\n"
        "        sess.run(train_step, feed_dict={x: train})\n"
    )
    script = tmp_path / "train.py"
    script.write_text(code)
    findings = lint(code, str(script), select=("CNL101", "CNL102"))
    assert [(f.code, f.line) for f in findings] == [("CNL101", 9), ("CNL102", 9)]
    assert "`image.py:5 read_images()`" in findings[1].message
