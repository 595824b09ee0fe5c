"""course_utils: the small helper package every lesson of *CNNs on MNIST* imports.

Modules, each short enough to read on one screen:

- `data`      load MNIST / Fashion-MNIST into memory, checked, normalized, split
- `models`    the two-conv-layer network and its variants
- `shapes`    conv/pool output-size arithmetic and a layer-by-layer shape table
- `training`  `fit`, `evaluate`, `predict`
- `plots`     digit grids, learning curves, confusion matrices, filters, feature maps
- `checks`    self-checks with helpful hints, used by the exercises
- `repro`     `set_seed`, `get_device`
- `notebook`  `record` headline metrics, `check_claim` for numbers quoted in the prose
- `gradcheck` numerical gradients and relative errors, for checking hand-written backward passes

The most used names are importable from the package itself: ``from course_utils import fit``.
"""

from .data import DataError, data_root, iterate_batches, load_data, load_split, make_dataloader
from .models import ConvNet, count_parameters, load_model, save_model
from .notebook import check_claim, matches_reference, record
from .repro import get_device, set_seed
from .shapes import conv_output_size, layer_table, pool_output_size, receptive_fields
from .training import evaluate, fit, predict, train_model, training_speed

__version__ = "0.1.0"
