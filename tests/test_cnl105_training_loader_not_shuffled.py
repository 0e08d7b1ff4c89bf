"""CNL105 training-loader-not-shuffled: exact findings on small snippets (the page's examples are checked by test_rule_pages)."""

import pytest

from conftest import lint_text

HEAD = (
    "import torch\nfrom torch.utils.data import DataLoader\nfrom torchvision import datasets, transforms\n"
    "train_set = datasets.CIFAR10('data', train=True, transform=transforms.ToTensor())\n"
    "test_set = datasets.CIFAR10('data', train=False, transform=transforms.ToTensor())\n"
)  # 5 lines

STEP = (
    "        optimizer.zero_grad()\n"
    "        loss = criterion(model(x), y)\n"
    "        loss.backward()\n"
    "        optimizer.step()\n"
)

TRAIN = "for epoch in range(10):\n    for x, y in train_loader:\n" + STEP


def _found(text):
    return [(f.code, f.line, f.column) for f in lint_text(text, select=["CNL105"])]


def test_default_shuffle_feeding_the_training_loop():
    code = HEAD + "train_loader = DataLoader(train_set, batch_size=64)\n" \
        "test_loader = DataLoader(test_set, batch_size=64, shuffle=False)\n" + TRAIN
    (f,) = lint_text(code, select=["CNL105"])
    assert (f.code, f.line, f.column) == ("CNL105", 6, 16)
    assert f.message == (
        "the training loader `train_loader` is built without `shuffle=True` (the DataLoader default is False) and "
        "no sampler: every epoch visits the samples in the same order (a dataset stored class by class gives whole "
        "batches of one class), so the gradient steps are correlated and the model learns the order"
    )
    assert f.hint == (
        "pass `shuffle=True` (or a `sampler=`, e.g. `RandomSampler`, `WeightedRandomSampler` or `DistributedSampler`)"
    )


def test_shuffle_false_passed_to_a_training_function_of_the_file():
    code = HEAD + "loader = torch.utils.data.DataLoader(train_set, 64, False)\n" \
        "def fit_one(net, data, optimizer):\n    for i, (x, y) in enumerate(data):\n" + STEP + \
        "for epoch in range(3):\n    fit_one(model, loader, optimizer)\n"
    (f,) = lint_text(code, select=["CNL105"])
    assert (f.line, f.column) == (6, 10)
    assert f.message.startswith("the training loader `loader` is built with `shuffle=False` and no sampler")


def test_lightning_train_dataloader_and_trainer_fit():
    code = (
        "import torch\nimport pytorch_lightning as pl\nfrom torch.utils.data import DataLoader\n"
        "class Lit(pl.LightningModule):\n"
        "    def train_dataloader(self):\n        return DataLoader(self.train_ds, batch_size=32, num_workers=4)\n"
        "    def val_dataloader(self):\n        return DataLoader(self.val_ds, batch_size=32)\n"
        "trainer = pl.Trainer()\ntrainer.fit(Lit(), DataLoader(ds, batch_size=8))\n"
        "trainer.fit(Lit(), train_dataloaders=DataLoader(ds, batch_size=8, shuffle=False))\n"
    )
    assert _found(code) == [("CNL105", 6, 16), ("CNL105", 10, 20), ("CNL105", 11, 38)]


def test_dict_of_loaders():
    code = HEAD + "dataloaders = {'train': DataLoader(train_set, batch_size=4), 'val': DataLoader(test_set)}\n" \
        "for epoch in range(3):\n    for x, y in dataloaders['train']:\n" + STEP
    assert _found(code) == [("CNL105", 6, 25)]


def test_named_train_in_a_file_that_trains_elsewhere():
    code = HEAD + "train_loader = DataLoader(train_set, batch_size=64, shuffle=False)\n" \
        "engine.run(model, train_loader)\nloss.backward()\n"
    assert _found(code) == [("CNL105", 6, 16)]


@pytest.mark.parametrize("code", [
    # validation and test loaders keep their order
    HEAD + "val_loader = DataLoader(test_set, batch_size=64)\n" + TRAIN.replace("train_loader", "val_loader"),
    # a loader over the training set iterated only for statistics (mean/std) or features
    HEAD + "train_loader = DataLoader(train_set, batch_size=256)\nmean = 0.\n"
    "for x, _ in train_loader:\n    mean += x.mean()\nloss.backward()\n",
    # evaluation on the training set: the name says so
    HEAD + "train_eval_loader = DataLoader(train_set, batch_size=256, shuffle=False)\n"
    "for x, y in train_eval_loader:\n    optimizer.step()\n",
    # a sampler decides the order
    HEAD + "sampler = torch.utils.data.distributed.DistributedSampler(train_set)\n"
    "train_loader = DataLoader(train_set, batch_size=64, sampler=sampler)\n" + TRAIN,
    HEAD + "train_loader = DataLoader(train_set, batch_size=64, batch_sampler=bs)\n" + TRAIN,
    # shuffle decided at run time
    HEAD + "train_loader = DataLoader(train_set, batch_size=64, shuffle=(sampler is None))\n" + TRAIN,
    HEAD + "train_loader = DataLoader(train_set, 64, args.shuffle)\n" + TRAIN,
    HEAD + "train_loader = DataLoader(train_set, **loader_kwargs)\n" + TRAIN,
    # an iterable dataset cannot be shuffled by the loader (shuffle=True raises)
    HEAD + "class Stream(torch.utils.data.IterableDataset):\n    pass\n"
    "train_loader = DataLoader(Stream(), batch_size=64)\n" + TRAIN,
    # named train, but nothing in the file trains
    HEAD + "train_loader = DataLoader(train_set, batch_size=64)\nshow_batch(next(iter(train_loader)))\n",
    # shuffled
    HEAD + "train_loader = DataLoader(train_set, batch_size=64, shuffle=True)\n" + TRAIN,
])
def test_negatives(code):
    assert _found(code) == []


# the loader's keyword arguments are a dict of the file that gets `shuffle=True` only on one path
# (pytorch/examples mnist: the accelerator's extras carry the shuffle, the CPU run has none)
SPLIT_KWARGS = HEAD + (
    "def main(on_gpu):\n"
    "    loader_args = {'batch_size': 64}\n"
    "    gpu_args = {'num_workers': 2, 'pin_memory': True, 'shuffle': True}\n"
    "    if on_gpu:\n"
    "        loader_args.update(gpu_args)\n"
    "    train_loader = DataLoader(train_set, **loader_args)\n"
    "    for epoch in range(10):\n"
    "        for x, y in train_loader:\n"
) + STEP.replace("        ", "            ")  # the loader is line 11


def test_shuffle_only_in_a_dict_merged_under_a_condition():
    (f,) = lint_text(SPLIT_KWARGS, select=["CNL105"])
    assert (f.code, f.line, f.column) == ("CNL105", 11, 20)
    assert f.message.startswith(
        "the training loader `train_loader` is built with `shuffle=True` only from `gpu_args`, merged into "
        "`loader_args` under `if on_gpu:`, otherwise without it and no sampler: every epoch"
    )


def test_shuffle_only_in_an_update_literal_under_a_condition():
    code = SPLIT_KWARGS.replace("loader_args.update(gpu_args)", "loader_args.update({'shuffle': True})")
    assert _found(code) == [("CNL105", 11, 20)]


@pytest.mark.parametrize("change", [
    # merged on every path: the loader shuffles
    ("    if on_gpu:\n        loader_args.update(gpu_args)\n", "    loader_args.update(gpu_args)\n"),
    # the other branch shuffles too
    ("        loader_args.update(gpu_args)\n",
     "        loader_args.update(gpu_args)\n    else:\n        loader_args.update({'shuffle': True})\n"),
    # the base dict shuffles already
    ("{'batch_size': 64}", "{'batch_size': 64, 'shuffle': True}"),
    # the dict is written elsewhere too: what it holds is not known here
    ("    if on_gpu:\n", "    loader_args['shuffle'] = True\n    if on_gpu:\n"),
    ("    if on_gpu:\n", "    configure(loader_args)\n    if on_gpu:\n"),
    # the dict is built by a call, not a literal
    ("{'batch_size': 64}", "dict(batch_size=64)"),
    # the extras bring a sampler
    ("'shuffle': True}", "'sampler': RandomSampler(train_set)}"),
    # the loader is built inside the same condition
    ("    train_loader = DataLoader(train_set, **loader_args)\n",
     "        train_loader = DataLoader(train_set, **loader_args)\n    else:\n"
     "        train_loader = DataLoader(train_set, shuffle=True, **loader_args)\n"),
])
def test_kwargs_dict_negatives(change):
    old, new = change
    assert old in SPLIT_KWARGS
    assert _found(SPLIT_KWARGS.replace(old, new)) == []
