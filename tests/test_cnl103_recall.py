"""CNL103 on PyTorch pipelines real code writes: albumentations, torchvision transforms.v2, and
validation sets split off a dataset that carries random transforms."""

import pytest

from conftest import lint

ALBU = "import albumentations as A\nfrom albumentations.pytorch import ToTensorV2\n"  # 2 lines

SPLIT_HEAD = (
    "import torch\nfrom torch.utils.data import random_split, DataLoader, Subset, SubsetRandomSampler\n"
    "from torchvision import datasets, transforms\n"
    "train_tf = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.RandomRotation(10), "
    "transforms.ToTensor()])\n"
    "val_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])\n"
    "full = datasets.ImageFolder('data', transform=train_tf)\n"
)  # 6 lines


def found(code):
    return [(f.code, f.line, f.column) for f in lint(code, "train.py", ("CNL103",))]


# ------------------------------------------------------------ albumentations

def test_albumentations_pipeline_from_a_function_on_validation_data():
    code = ALBU + (
        "def get_valid_transforms():\n"
        "    return A.Compose([A.Resize(256, 256), A.HorizontalFlip(p=0.5), A.RandomBrightnessContrast(p=0.2),\n"
        "                      A.Normalize(), ToTensorV2()])\n"
        "valid_dataset = LeafDataset(valid_df, transforms=get_valid_transforms())\n"
    )
    (f,) = lint(code, "train.py", ("CNL103",))
    assert (f.line, f.column) == (6, 50)
    assert f.message == (
        "the transform of `LeafDataset(...)` applies random augmentation (HorizontalFlip, RandomBrightnessContrast) "
        "to validation or test data (it reads `valid_df`), so the scores measured on it are pessimistic and change "
        "from run to run"
    )


def test_albumentations_default_p_and_one_of():
    code = ALBU + "val_tf = A.Compose([A.Resize(224, 224), A.OneOf([A.MotionBlur(), A.GaussianBlur()], p=0.3)])\n" \
        "val_ds = CellDataset(val_paths, transform=val_tf)\n"
    (f,) = lint(code, "train.py", ("CNL103",))
    assert (f.line, f.column) == (4, 43)
    assert "(OneOf, MotionBlur, GaussianBlur)" in f.message


@pytest.mark.parametrize("pipeline", [
    "A.Compose([A.Resize(256, 256), A.Normalize(), ToTensorV2()])",  # deterministic only
    "A.Compose([A.Resize(256, 256), A.HorizontalFlip(p=0), A.RandomBrightnessContrast(p=0.0), ToTensorV2()])",
    "A.Compose([A.Resize(256, 256), A.ToGray(p=1.0), A.HorizontalFlip(p=1), ToTensorV2()])",  # always: deterministic
    "A.Compose([A.Resize(256, 256), A.HorizontalFlip(p=cfg.flip_p), ToTensorV2()])",  # p not shown here
    "A.Compose([A.OneOf([A.MotionBlur(), A.GaussianBlur()], p=0), A.Normalize()])",
])
def test_albumentations_negatives(pipeline):
    code = ALBU + f"val_tf = {pipeline}\nval_ds = CellDataset(val_paths, transform=val_tf)\n"
    assert found(code) == []


def test_albumentations_on_training_data_is_fine():
    code = ALBU + "tf = A.Compose([A.HorizontalFlip(p=0.5)])\ntrain_ds = CellDataset(train_paths, transform=tf)\n"
    assert found(code) == []


# ------------------------------------------------------------ torchvision transforms.v2

def test_transforms_v2_on_validation_folder():
    code = (
        "import torch\nfrom torchvision.transforms import v2\nfrom torchvision import datasets\n"
        "tf = v2.Compose([v2.RandomResizedCrop(224), v2.RandomHorizontalFlip(), v2.ToImage(),\n"
        "                 v2.ToDtype(torch.float32, scale=True)])\n"
        "val_ds = datasets.ImageFolder('data/val', transform=tf)\n"
    )
    assert found(code) == [("CNL103", 6, 53)]


def test_random_transform_with_p_zero_is_not_random():
    code = (
        "from torchvision import datasets, transforms\n"
        "tf = transforms.Compose([transforms.RandomHorizontalFlip(p=0.0), transforms.ToTensor()])\n"
        "val_ds = datasets.ImageFolder('data/val', transform=tf)\n"
    )
    assert found(code) == []


# ------------------------------------------------------------ splits of an augmenting dataset

def test_random_split_of_an_augmenting_dataset():
    (f,) = lint(SPLIT_HEAD + "train_ds, val_ds = random_split(full, [800, 200])\n", "train.py", ("CNL103",))
    assert (f.line, f.column) == (7, 20)
    assert f.message == (
        "`random_split(full, [800, 200])` makes the validation data `val_ds` from `full`, whose transform applies "
        "random augmentation (RandomHorizontalFlip, RandomRotation): a split keeps its dataset's transform, so the "
        "validation images are randomly altered and the scores measured on them are pessimistic and change from "
        "run to run"
    )
    assert f.hint.startswith("split the indices, and build the validation subset from a second dataset")


def test_subset_sampler_and_train_test_split_of_an_augmenting_dataset():
    code = SPLIT_HEAD + (
        "val_sub = Subset(full, val_idx)\n"
        "val_loader = DataLoader(full, batch_size=32, sampler=SubsetRandomSampler(val_idx))\n"
        "from sklearn.model_selection import train_test_split\n"
        "tr, val_set = train_test_split(full, test_size=0.2)\n"
    )
    assert found(code) == [("CNL103", 7, 11), ("CNL103", 8, 14), ("CNL103", 10, 15)]


OWN_DATASET = (
    "from torch.utils.data import Dataset\n"
    "class Folder(Dataset):\n"
    "    def __init__(self, root, transform=None):\n"
    "        self.transform = transform\n"
    "        self.inner = datasets.ImageFolder(root, transform=self.transform)\n"
    "    def __len__(self):\n"
    "        return len(self.inner)\n"
    "    def __getitem__(self, i):\n"
    "        return self.inner[i]\n"
)


def test_split_of_a_dataset_class_that_stores_its_transform():
    """`self.transform = transform` in the dataset's own class swaps nothing after the split."""
    code = SPLIT_HEAD + OWN_DATASET + (
        "ds = Folder('data', transform=train_tf)\n"
        "train_ds, test_ds, val_ds = random_split(ds, [800, 100, 100])\n"
    )
    assert found(code) == [("CNL103", 17, 29)]


@pytest.mark.parametrize("swap", [
    "val_ds.dataset.transform = val_tf\n",
    "val_ds.dataset.transforms = val_tf\n",
    "ds.transform = val_tf\n",
])
def test_split_of_a_dataset_class_then_a_swapped_transform(swap):
    code = SPLIT_HEAD + OWN_DATASET + (
        "ds = Folder('data', transform=train_tf)\n"
        "train_ds, val_ds = random_split(ds, [800, 200])\n"
    ) + swap
    assert found(code) == []


def test_split_that_rebinds_the_name_it_splits():
    """`train_ds, val_ds = random_split(train_ds, ...)`: the argument is the dataset bound before."""
    code = SPLIT_HEAD + "train_ds = datasets.ImageFolder('data', transform=train_tf)\n" + (
        "train_ds, val_ds = random_split(dataset=train_ds, lengths=[800, 200])\n")
    assert found(code) == [("CNL103", 8, 20)]


@pytest.mark.parametrize("before", [
    # the dataset split was built with the deterministic transform
    "train_ds = datasets.ImageFolder('data', transform=val_tf)\n",
    # one of its bindings is not known (a loop target)
    "train_ds = datasets.ImageFolder('data', transform=train_tf)\nfor train_ds in parts:\n    pass\n",
    # another binding holds a dataset without augmentation
    "train_ds = datasets.ImageFolder('data', transform=train_tf)\n"
    "if plain:\n    train_ds = datasets.ImageFolder('data', transform=val_tf)\n",
])
def test_split_that_rebinds_the_name_negatives(before):
    code = SPLIT_HEAD + before + "train_ds, val_ds = random_split(train_ds, [800, 200])\n"
    assert found(code) == []


@pytest.mark.parametrize("tail", [
    # the right way: indices split, the validation subset over a dataset with the deterministic transform
    "train_idx, val_idx = train_test_split(list(range(len(full))), test_size=0.2)\n"
    "val_ds = Subset(datasets.ImageFolder('data', transform=val_tf), val_idx)\n",
    # the split's parts do not say which one validates
    "part_a, part_b = random_split(full, [800, 200])\n",
    # the file swaps the transform after the split
    "train_ds, val_ds = random_split(full, [800, 200])\nval_ds.dataset.transform = val_tf\n",
    # a sampler over training indices
    "train_loader = DataLoader(full, batch_size=32, sampler=SubsetRandomSampler(train_idx))\n",
    # a split of a deterministic dataset
    "plain = datasets.ImageFolder('data', transform=val_tf)\ntrain_ds, val_ds = random_split(plain, [800, 200])\n",
])
def test_split_negatives(tail):
    assert found(SPLIT_HEAD + tail) == []
