"""course_utils: the small helper package every lesson of *CNNs on MNIST* imports.

Modules, each short enough to read on one screen:

- `data`      load MNIST / Fashion-MNIST into memory, normalized and split
- `datafiles` where the dataset files live, and checks that they are complete and uncorrupted
- `models`    the two-conv-layer network and its variants
- `shapes`    conv/pool output-size arithmetic and a layer-by-layer shape table
- `training`  the training loop: `train_epoch`, `fit`, `evaluate`, `predict`
- `experiments` one call per experiment: `train_model`, `load_or_train` a saved model, `training_speed`;
              lesson 4's recipe, `LESSON4_RECIPE`, and the settings it saves its model with
- `comparisons` runs over seeds and settings: one table of histories, mean and range, a learning-rate sweep
- `plots`     digit grids, learning curves, confusion matrices, filters, feature maps
- `style`     the course's colour-blind-safe palette, set once, and a second cue (hatches) for bars
- `plots_basics` lesson 1's and 2's figures: how MNIST was made, PCA / t-SNE maps, optimizer paths
- `plots_probabilities` lesson 2's figures: softmax, the loss, gradient descent, training curves, weights
- `plots_shapes` lesson 3's figures: a convolution by numbers, strides in 1-D, receptive fields, edges
- `plots_numpy` lesson 7's figures: im2col's windows and matrix, where a NumPy network's time goes
- `plots_training` lessons 5, 8, 9's figures: accuracy vs size, learning curves, early stopping, augmentations, the gap
- `plots_beyond` lesson 10's figures: confusion matrices side by side, rows of example images
- `plots_inside` lesson 11's figures: hidden units and logits, a receptive field, saliency and occlusion maps
- `plots_digits` lesson 12's figures: preprocessing steps, a photo's threshold, a digit and its probabilities
- `plots_speed` lesson 13's figures and tables: speeds as bars, the batch-size curve, every measurement
- `checks`    self-checks with helpful hints, used by the exercises
- `repro`     `set_seed`, `get_device`
- `notebook`  `lesson_checks`: hidden check cells that record metrics and assert the prose's numbers
- `gradcheck` numerical gradients and relative errors, for checking hand-written backward passes
- `timing`    lesson 13's helpers around its timer: a clock per pipeline stage, jobs side by side, compiling
- `validate`  `whole_number`, the one check for arguments that must be whole numbers
- `digits`    MNIST's preprocessing for your own digits (`to_mnist`), photos of paper, made-up digits
- `drawpad`   `DrawingPad`: a widget to draw a digit on and see the network's probabilities
- `figure_alt` in JupyterLab, a figure re-drawn by a lesson cell keeps its description for screen readers

The most used names are importable from the package itself: ``from course_utils import fit``.
Each loads its module on first use, so a tool that needs one light module (``course params``,
the grader) starts without importing PyTorch.
"""

import importlib
import sys

if "ipykernel" in sys.modules:  # in a Jupyter kernel: figures a cell draws again keep their descriptions
    from .figure_alt import install as _describe_figures

    _describe_figures()

_HOMES = {
    "data": ["iterate_batches", "load_data", "load_split", "make_dataloader"],
    "datafiles": ["DataError", "data_root"],
    "experiments": [
        "checkpoint_path",
        "lesson4_settings",
        "load_model",
        "load_or_train",
        "save_model",
        "saved_info",
        "train_model",
        "training_speed",
    ],
    "models": ["ConvNet", "count_parameters", "to_convnet"],
    "notebook": ["lesson_checks"],
    "repro": ["get_device", "set_seed"],
    "shapes": ["conv_output_size", "layer_table", "pool_output_size", "receptive_fields"],
    "training": ["evaluate", "fit", "predict", "train_epoch"],
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_MODULE_OF)
__version__ = "0.1.0"


MODULES = (  # every module of the package: ``cu.<module>`` loads it on first use
    "checks",
    "comparisons",
    "data",
    "datafiles",
    "digits",
    "drawpad",
    "experiments",
    "figure_alt",
    "gradcheck",
    "models",
    "notebook",
    "plots",
    "plots_basics",
    "plots_beyond",
    "plots_digits",
    "plots_inside",
    "plots_numpy",
    "plots_probabilities",
    "plots_shapes",
    "plots_speed",
    "plots_training",
    "repro",
    "shapes",
    "style",
    "timing",
    "training",
    "validate",
)


def __getattr__(name):
    from .style import apply_if_plotting

    apply_if_plotting()  # the course's colour-blind-safe colours, once the lesson has imported matplotlib
    if name in MODULES:  # ``cu.datafiles.data_root()`` works without importing the module first
        return importlib.import_module(f".{name}", __name__)
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value  # the next use is an ordinary lookup
    return value


def __dir__():
    return sorted(set(globals()) | set(_MODULE_OF) | set(MODULES))
