"""Names of the library calls the image data flow knows: loaders, and calls that carry pixels
along or scale them. Used by cnnlint.lint.index.flow and the input-pipeline rules."""

from __future__ import annotations

from typing import Optional

LOADERS = {
    "cv2.imread", "cv2.imdecode", "PIL.Image.open", "Image.open", "imageio.imread",
    "imageio.v2.imread", "imageio.v3.imread", "matplotlib.pyplot.imread",
    "matplotlib.image.imread", "plt.imread", "mpimg.imread", "skimage.io.imread",
    "tensorflow.io.read_file", "tf.io.read_file", "torchvision.io.read_image",
    "scipy.misc.imread", "scipy.ndimage.imread", "tifffile.imread", "imread",
}
# loaders whose result may already be float in [0, 1] (PNG through matplotlib, TIFF)
FLOAT_LOADERS = {
    "matplotlib.pyplot.imread", "matplotlib.image.imread", "plt.imread", "mpimg.imread",
    "tifffile.imread",
}
KERAS_IMAGE_DATASETS = {"mnist", "fashion_mnist", "cifar10", "cifar100"}

NP_CARRY = {
    "array", "asarray", "asanyarray", "stack", "vstack", "hstack", "dstack", "concatenate",
    "expand_dims", "reshape", "squeeze", "transpose", "float32", "float64", "float16", "uint8",
    "moveaxis", "rollaxis", "swapaxes", "flip", "fliplr", "flipud", "copy", "ascontiguousarray",
    "append", "rot90", "clip", "array_split", "split", "take", "repeat", "tile", "pad",
}
CV2_NOT_IMAGE = {
    "imwrite", "imshow", "waitKey", "destroyAllWindows", "findContours", "boundingRect",
    "countNonZero", "mean", "minMaxLoc", "calcHist", "moments", "contourArea", "imencode",
    "compareHist", "HuMoments", "arcLength", "matchTemplate", "namedWindow", "putText",
    "rectangle", "circle", "line", "drawContours",
}
TORCH_CARRY = {
    "tensor", "from_numpy", "as_tensor", "stack", "cat", "concat", "Tensor", "FloatTensor",
    "ByteTensor", "permute", "unsqueeze", "reshape", "squeeze", "flip",
}
TF_CARRY = {
    "convert_to_tensor", "constant", "stack", "concat", "cast", "expand_dims", "reshape",
    "transpose", "squeeze", "resize", "resize_with_pad", "resize_with_crop_or_pad",
    "rgb_to_grayscale", "grayscale_to_rgb", "decode_jpeg", "decode_png", "decode_image",
    "decode_bmp", "decode_gif", "flip_left_right", "img_to_array", "smart_resize",
    "central_crop", "Variable",
}
# calls that return their (image) argument scaled or centred
SCALING_CALLS = {
    "preprocess_input", "convert_image_dtype", "per_image_standardization", "normalize",
    "img_as_float", "img_as_float32", "img_as_float64", "rescale_intensity", "rgb2gray",
    "standardize", "scale", "minmax_scale", "robust_scale",
}
SKIMAGE_CARRY = {
    "resize", "rescale", "rotate", "resize_local_mean", "warp", "img_as_ubyte", "equalize_hist",
    "adjust_gamma", "gray2rgb", "rgba2rgb", "crop", "pad",
}
BUILTIN_CARRY = {"list", "tuple", "zip", "sorted", "reversed"}
METHOD_CARRY = {
    "reshape", "astype", "copy", "transpose", "squeeze", "unsqueeze", "resize", "convert",
    "crop", "rotate", "flatten", "ravel", "numpy", "float", "double", "half", "cuda", "cpu",
    "to", "permute", "view", "contiguous", "swapaxes", "tolist", "clip", "repeat", "type",
    "__array__", "filter", "transpose_", "thumbnail",
}
METHOD_SCALE = {"div", "div_", "true_divide", "sub", "sub_", "fit_transform", "transform", "normalize"}
# builtins that never change an array in place
BUILTIN_NAMES = {
    "len", "int", "float", "str", "tuple", "list", "dict", "range", "print", "min", "max", "abs",
    "round", "zip", "enumerate", "isinstance", "bool", "sorted",
}
KNOWN_LIBS = {
    "tensorflow", "tf", "keras", "numpy", "np", "math", "random", "os", "cv2", "PIL",
    "torch", "torchvision", "tf_keras", "tensorflow_addons", "skimage", "scipy",
}


def is_loader(q: Optional[str]) -> bool:
    """A call (by qualified name) that reads one image from a file."""
    if not q:
        return False
    if q in LOADERS:
        return True
    tail = q.rsplit(".", 1)[-1]
    if tail == "load_img":
        return True
    if tail == "imread" and q.split(".")[0] in ("cv2", "imageio", "matplotlib", "skimage", "scipy", "tifffile"):
        return True
    return False


def is_keras_image_dataset(q: Optional[str]) -> bool:
    """`keras.datasets.mnist.load_data` and the other image sets Keras downloads."""
    if not q or not q.endswith(".load_data"):
        return False
    parts = q.split(".")
    return len(parts) >= 2 and parts[-2] in KERAS_IMAGE_DATASETS and (
        "keras" in parts or "tensorflow" in parts or len(parts) == 2
    )
