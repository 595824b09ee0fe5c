"""`course doctor`: versions, device and whether the datasets were found and verified."""

from conftest import make_tiny_dataset

from course_tools import cli


def test_doctor_reports_missing_data_and_fails(tmp_path, monkeypatch, capsys, no_network):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "torch" in out and "Using device" in out and str(tmp_path) in out
    assert "mnist          train missing, and no mirror answers" in out and "not usable" in out
    assert "offline fix: set COURSE_DATA_DIR" in out


def test_doctor_says_missing_data_is_downloadable_when_a_mirror_answers(tmp_path, monkeypatch, capsys):
    from course_utils import datafiles

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(datafiles, "can_download", lambda dataset: f"https://mirror.example/{dataset}/")
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert (
        "mnist          train downloadable: not here yet; torchvision fetches it from https://mirror.example/mnist/"
        in out
    )
    assert "all good" in out


def test_doctor_names_a_corrupt_file(tmp_path, monkeypatch, capsys):
    root = make_tiny_dataset(tmp_path)
    labels = root / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-3])
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    assert cli.main(["doctor"]) == 1
    assert "train BAD" in capsys.readouterr().out


def test_doctor_finds_the_data(mnist_root, capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    from course_utils.datafiles import DATASETS, verify_split

    sound = [(d, train) for d in DATASETS for train in (True, False) if not verify_split(d, train)]
    assert ("mnist", True) in sound and ("mnist", False) in sound
    assert out.count("found and verified") == len(sound) and "all good" in out


def test_can_download_finds_no_mirror_without_network(no_network):
    from course_utils.datafiles import can_download

    assert can_download("mnist", timeout=1) is None
