"""course_utils.data: loading, verification, splits, batching, and the error messages."""

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_tiny_dataset, write_idx

from course_utils import data as D
from course_utils import datafiles as F


def test_loads_tiny_dataset_normalized_and_split(tiny_data):
    assert tiny_data.train_x.shape == (100, 1, 28, 28)
    assert tiny_data.val_x.shape == (20, 1, 28, 28)
    assert tiny_data.test_x.shape == (40, 1, 28, 28)
    assert tiny_data.train_x.dtype == torch.float32 and tiny_data.train_y.dtype == torch.int64
    # statistics come from the training samples used, so those are standardized exactly
    assert abs(tiny_data.train_x.mean().item()) < 1e-4
    assert abs(tiny_data.train_x.std().item() - 1) < 1e-3


def test_split_is_seeded_and_disjoint():
    a_train, a_val = D.split_indices(100, 10, seed=3)
    b_train, b_val = D.split_indices(100, 10, seed=3)
    c_train, _ = D.split_indices(100, 10, seed=4)
    assert torch.equal(a_train, b_train) and torch.equal(a_val, b_val)
    assert not torch.equal(a_train, c_train)
    assert set(a_train.tolist()).isdisjoint(a_val.tolist())
    assert len(set(a_train.tolist()) | set(a_val.tolist())) == 100


def test_train_size_subset(tiny_root):
    data = D.load_data("mnist", val_size=20, train_size=30, root=tiny_root, download=False)
    assert len(data.train_y) == 30 and len(data.val_y) == 20 and len(data.test_y) == 40


@pytest.mark.parametrize("bad", [0, -5, 101, 10**6])
def test_train_size_out_of_range_is_explained(tiny_root, bad):
    with pytest.raises(ValueError, match=r"train_size must be between 1 and 100"):
        D.load_data("mnist", val_size=20, train_size=bad, root=tiny_root, download=False)


def test_train_size_wrong_type(tiny_root):
    with pytest.raises(TypeError, match="whole number"):
        D.load_data("mnist", val_size=20, train_size="100", root=tiny_root, download=False)


def test_unknown_dataset_lists_choices(tiny_root):
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'.*fashion_mnist.*mnist"):
        D.load_data("cifar", root=tiny_root)


def test_missing_data_without_network_names_the_fix(tmp_path, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(F.DataError) as err:
        D.load_split("mnist", True, root=tmp_path / "empty", download=True)
    message = str(err.value)
    assert "COURSE_DATA_DIR" in message and "download" in message and "network is unreachable" in message


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_a_download_without_network_names_mirrors_files_checksums_and_the_offline_fix(tmp_path, no_network, dataset):
    """torchvision's real download, every mirror refused: the error says what was tried and what to do."""
    import torchvision

    source = getattr(torchvision.datasets, F.dataset_folder(dataset))
    with pytest.raises(F.DataError) as err:
        D.load_split(dataset, True, root=tmp_path, download=True)
    message = str(err.value)
    assert all(mirror in message for mirror in source.mirrors)
    for gz, md5 in source.resources:  # every file, with both checksums
        extracted = gz.removesuffix(".gz")
        assert f"{gz} (MD5 {md5})" in message
        assert f"{extracted} (SHA-256 {F.KNOWN_SHA256[source.__name__][extracted]})" in message
    assert "COURSE_DATA_DIR" in message and str(tmp_path / source.__name__ / "raw") in message


def test_two_loaders_at_once_download_only_once(tmp_path, monkeypatch):
    """Two notebooks (or test workers) that start together must not download over each other."""
    import threading
    import time

    import torchvision

    downloads = []

    def fake_download(self):  # slow enough that the second loader arrives while it runs
        downloads.append(threading.current_thread().name)
        time.sleep(0.3)
        make_tiny_dataset(Path(self.root))

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fake_download)
    root = tmp_path / "data"
    errors = []

    def load():
        try:
            F.ensure_split("mnist", True, root=root, download=True)
        except Exception as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(downloads) == 1


def test_missing_data_with_download_off(tmp_path):
    with pytest.raises(F.DataError, match=r"(?s)missing file.*COURSE_DATA_DIR"):
        D.load_split("mnist", True, root=tmp_path, download=False)


def test_truncated_file_is_named(tiny_root):
    path = tiny_root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(F.DataError, match=r"train-images-idx3-ubyte is truncated.*size mismatch"):
        D.load_split("mnist", True, root=tiny_root, download=False)


def test_not_an_idx_file(tiny_root):
    (tiny_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_text("<html>404</html>")
    with pytest.raises(F.DataError, match="bad magic number"):
        D.load_split("mnist", False, root=tiny_root, download=False)


def test_full_size_file_with_wrong_bytes_fails_checksum(tmp_path):
    # a full-size label file (10,000 labels) whose content is not the official one
    write_idx(tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", torch.zeros(10_000).numpy())
    write_idx(tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte", torch.zeros(3, 28, 28).numpy())
    problems = F.verify_split("mnist", False, tmp_path)
    assert any("checksum mismatch" in p for p in problems)


@pytest.mark.parametrize(
    "name, array, message",
    [
        ("t10k-labels-idx1-ubyte", np.zeros((40, 2)), r"shape \[40, 2\]: it is not a mnist file"),
        ("t10k-images-idx3-ubyte", np.zeros((40, 28, 27)), r"shape \[40, 28, 27\]"),
        ("t10k-images-idx3-ubyte", np.zeros(()), r"shape \[\]"),
        ("t10k-labels-idx1-ubyte", np.zeros(39), r"40 images but 39 labels; the two files must match"),
    ],
)
def test_a_file_of_the_wrong_shape_or_count_is_named(tiny_root, name, array, message):
    """The loader reads the IDX files itself, so these checks stand where torchvision's asserts stood."""
    write_idx(tiny_root / "MNIST" / "raw" / name, array)
    with pytest.raises(F.DataError, match=message):
        D.load_split("mnist", False, root=tiny_root, download=False)


def test_data_root_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert F.data_root() == tmp_path
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert F.data_root() == F.repo_root() / "data"


def test_iterate_batches_covers_everything_once():
    x, y = torch.arange(10).float().unsqueeze(1), torch.arange(10)
    batches = list(D.iterate_batches(x, y, 4, shuffle=True, generator=torch.Generator().manual_seed(0)))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat([b[1] for b in batches]).tolist()) == list(range(10))
    assert all(torch.equal(bx.squeeze(1).long(), by) for bx, by in batches)


def test_dataloader_path_matches_fast_path(tiny_root):
    images, labels = D.load_split("mnist", False, root=tiny_root, download=False)
    mean, std = D.normalization_stats(images)
    loader = D.make_dataloader("mnist", train=False, batch_size=8, mean=mean, std=std, root=tiny_root)
    xb, yb = next(iter(loader))
    assert torch.allclose(xb, D.normalize(images[:8], mean, std), atol=1e-5)
    assert torch.equal(yb, labels[:8])


def test_fashion_mnist_classes(tmp_path):
    root = make_tiny_dataset(tmp_path, folder="FashionMNIST")
    data = D.load_data("fashion_mnist", val_size=10, root=root, download=False)
    assert data.classes[9] == "Ankle boot"


def test_real_mnist_verifies_and_has_the_documented_class_counts(mnist_root):
    assert F.verify_split("mnist", True) == [] and F.verify_split("mnist", False) == []
    _, labels = D.load_split("mnist", True, download=False)
    assert torch.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_random_shift_rotate_moves_images_but_keeps_background():
    x = torch.full((4, 1, 28, 28), -0.42)
    x[:, :, 10:18, 12:16] = 2.8
    g = torch.Generator().manual_seed(0)
    moved = D.random_shift_rotate(x, max_shift=2, max_degrees=10, generator=g)
    assert moved.shape == x.shape
    assert not torch.allclose(moved, x)
    assert torch.allclose(moved[:, :, 0, :], torch.full((4, 28), -0.42), atol=1e-5)  # border stays background
    same = D.random_shift_rotate(x, max_shift=0, max_degrees=0)
    assert torch.allclose(same, x, atol=1e-5)
    again = D.random_shift_rotate(x, 2, 10, torch.Generator().manual_seed(0))
    assert torch.equal(moved, again)


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
@pytest.mark.parametrize("train", [True, False])
def test_read_idx_gives_what_torchvision_reads(dataset, train):
    """load_split reads the IDX files itself (torchvision's import costs a second at every start);
    the tensors must be exactly torchvision's, on the real files."""
    import torchvision
    from conftest import verified_data_root

    root = verified_data_root(dataset)
    images, labels = D.load_split(dataset, train, root=root, download=False)
    reference = getattr(torchvision.datasets, F.dataset_folder(dataset))(root=str(root), train=train, download=False)
    assert images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert torch.equal(images, reference.data) and torch.equal(labels, reference.targets)
