"""CNL101 for albumentations pipelines: `A.Compose([..., ToTensorV2()])` keeps the 0-255 values of
images read with cv2/PIL, unlike torchvision's ToTensor."""

from conftest import lint

SCRIPT = """\
import cv2
import torch
import albumentations as A
from albumentations.pytorch import ToTensorV2
from torch.utils.data import Dataset, DataLoader

augment = A.Compose([A.HorizontalFlip(p=0.5), A.OneOf([A.Blur(), A.GaussNoise()], p=0.3), ToTensorV2()])


class Tiles(Dataset):
    def __init__(self, files, labels, transform=None):
        self.files, self.labels, self.transform = files, labels, transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        img = cv2.imread(self.files[i])
        return self.transform(image=img)["image"].float(), self.labels[i]


loader = DataLoader(Tiles(FILES, LABELS, transform=augment), batch_size=8, shuffle=True)
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(net(x), y).backward()
    optimizer.step()
"""


def found(code):
    return [(f.line, f.column, f.message) for f in lint(code, "tiles.py", ("CNL101",))]


def test_totensorv2_without_normalize_on_cv2_images():
    ((line, col, message),) = found(SCRIPT)
    assert (line, col) == (7, 11)
    assert message == (
        "`A.Compose(...)` assigned to `augment` turns images into tensors with `ToTensorV2`, which keeps the 0-255 "
        "values of the images read in this file, and has no `A.Normalize` or `A.ToFloat`; `Tiles` feeds these "
        "unscaled pixels to training"
    )
    (f,) = lint(SCRIPT, "tiles.py", ("CNL101",))
    assert f.hint.startswith("add A.Normalize()")


def test_a_normalize_step_is_scaling():
    assert found(SCRIPT.replace("ToTensorV2()])", "A.Normalize(), ToTensorV2()])")) == []


def test_a_to_float_step_is_scaling():
    assert found(SCRIPT.replace("ToTensorV2()])", "A.ToFloat(max_value=255), ToTensorV2()])")) == []


def test_normalize_inside_one_of_makes_the_scale_unknown():
    assert found(SCRIPT.replace("A.OneOf([A.Blur(), A.GaussNoise()]", "A.OneOf([A.Blur(), A.Normalize()]")) == []


def test_division_in_the_dataset_is_scaling():
    assert found(SCRIPT.replace('["image"].float()', '["image"].float() / 255.0')) == []


def test_arrays_not_read_as_8bit_images_are_left_alone():
    # np.load may hold floats already in [0, 1]: the scale is not known
    code = SCRIPT.replace("import cv2\n", "import numpy as np\n").replace("cv2.imread(self.files[i])",
                                                                         "np.load(self.files[i])")
    assert found(code) == []
