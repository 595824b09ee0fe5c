"""course sweep and course grade on a real Dask cluster: a scheduler and two workers started here.

The cluster (module fixture) is a ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1 (random ports, one thread each), as an instructor would start them on other machines.
A 3-run sweep of a toy notebook (a parameters cell, a check that the kernel sees MNIST, a 2-second
pause, a metric set by the seed) goes through its address while one worker process (not its
nanny) is killed mid-run: every run still ends in results.csv once, ok, and no kernel survives. The local
default (no address) gives the same rows (it re-runs one of the runs, resuming). A lesson would
prove no more here and costs 12 s a run (four runs: 48 s); a lesson is swept in test_lesson_reruns.
Four submissions (full, empty, endless loop, corrupt) are graded through the address.
Every process started here is killed at the end.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import psutil
import pytest

from course_tools import cli
from course_tools.cluster import ClusterError, check_workers

REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "notebooks" / "03_shape_arithmetic.ipynb"  # the cheapest lesson to run
EXERCISE = "03_shape_arithmetic_exercises.ipynb"
DASK = str(Path(sys.executable).with_name("dask"))
SWEEP = ["-p", "seed", "0", "1", "2", "--quick"]
TOY_CELLS = [  # a run of about 3 s (kernel start, 2 s of work), long enough to be killed mid-run
    "seed: int = 0  # which number is recorded\nquick: bool = False  # a sweep's flag, unused here",
    "import time\n\nimport numpy as np\n\nfrom course_utils.datafiles import verify_split\n"
    "from course_utils.notebook import lesson_checks\n\n"
    "assert verify_split('mnist', False) == []  # the worker's kernel sees the data, as a lesson's would\n"
    "time.sleep(2)",
    "with lesson_checks() as checks:\n    checks.record('draw', int(np.random.default_rng(seed).integers(10**6)))",
]


def toy_notebook(folder: Path) -> Path:
    """A notebook a sweep can run: seed and quick parameters, a data check, a pause, a metric set by the seed."""
    cells = [nbformat.v4.new_code_cell(source) for source in TOY_CELLS]
    cells[0].metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "toy_sweep.ipynb"
    nbformat.write(notebook, path)
    return path


def kill_tree(process: subprocess.Popen) -> None:
    """Kill a process we started and every process below it."""
    try:
        tree = psutil.Process(process.pid).children(recursive=True) + [psutil.Process(process.pid)]
    except psutil.NoSuchProcess:
        tree = []
    for member in tree:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    process.wait(timeout=10)
    wait_until_gone([member.pid for member in tree], seconds=10)  # a zombie counts as gone


def kernels_below(pids) -> set[int]:
    """The Jupyter kernels running below these processes."""
    found = set()
    for pid in pids:
        try:
            below = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        for process in below:
            try:
                if "ipykernel_launcher" in " ".join(process.cmdline()):
                    found.add(process.pid)
            except psutil.NoSuchProcess:
                pass
    return found


def alive(pids) -> list[int]:
    living = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                living.append(pid)
        except psutil.NoSuchProcess:
            pass
    return living


def wait_until_gone(pids, seconds: float = 15) -> list[int]:
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, mnist_root):
    """A scheduler and two one-thread workers on 127.0.0.1; every process killed afterwards."""
    from distributed import Client

    tmp = tmp_path_factory.mktemp("dask")
    scheduler_file = tmp / "scheduler.json"
    env = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COURSE_DATA_DIR": str(mnist_root)}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": tmp}
    started = []
    try:
        started.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
                + ["--scheduler-file", str(scheduler_file)],
                **quiet,
            )
        )
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(2):
            worker = [DASK, "worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1"]
            worker += ["--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--memory-limit", "0"]
            started.append(subprocess.Popen(worker, **quiet))
        client = Client(scheduler_file=str(scheduler_file), timeout=60)
        client.wait_for_workers(2, timeout=60)
        yield {"client": client, "address": client.scheduler.address, "tmp": tmp}
        client.close()
    finally:
        for process in reversed(started):
            kill_tree(process)


def worker_pids(client) -> dict[str, int]:
    """Worker address -> the pid of the worker process itself (the nanny's child)."""
    return client.run(os.getpid)


@pytest.mark.kernel
def test_a_sweep_survives_a_killed_worker_and_matches_the_local_default(cluster, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    client, out, toy = cluster["client"], tmp_path / "remote", toy_notebook(tmp_path)
    pids = worker_pids(client)
    argv = ["sweep", str(toy), *SWEEP, "--out", str(out), "--scheduler", cluster["address"]]
    done = []
    sweep = threading.Thread(target=lambda: done.append(cli.main(argv)))
    sweep.start()
    seen, victim = set(), None
    while sweep.is_alive():
        running = {pid: kernels_below([pid]) for pid in pids.values()}
        seen |= set().union(*running.values())
        if victim is None:
            victim = next((pid for pid, kernels in running.items() if kernels), None)
            if victim is not None:
                time.sleep(0.5)  # mid-run: the kernel has started on the lesson
                seen |= kernels_below([victim])
                os.kill(victim, signal.SIGKILL)
        time.sleep(0.2)
    sweep.join()
    printed = capsys.readouterr().out
    assert victim is not None, "no worker was seen running a kernel"
    assert done == [0], printed
    results = pd.read_csv(out / "results.csv")
    assert sorted(results["seed"]) == [0, 1, 2]  # each run once
    assert (results["status"] == "ok").all(), results["error"].tolist()
    assert results["draw"].nunique() == 3  # each run's own seed
    assert "elapsed" in printed and "left" in printed and "[3/3]" in printed
    assert len(list(out.glob("*.ipynb"))) == 3
    assert wait_until_gone(seen) == []  # the killed worker's kernel too

    # The local default (no address) on the same folder, as after an interrupted sweep: the run
    # whose record is gone (one, to save time) runs again there, the others are kept.
    local = tmp_path / "local"
    shutil.copytree(out, local)
    (local / "seed=1__quick=True.json").unlink()
    assert cli.main(["sweep", str(toy), *SWEEP, "--out", str(local)]) == 0
    printed = capsys.readouterr().out
    assert "resuming: 2 of 3 runs already finished" in printed and "[1/1]" in printed
    here = pd.read_csv(local / "results.csv")
    assert here.drop(columns="seconds").equals(results.drop(columns="seconds"))


@pytest.mark.kernel
def test_grading_through_the_address(cluster, tmp_path):
    client = cluster["client"]
    solution, exercise = REPO / "solutions" / EXERCISE, REPO / "exercises" / EXERCISE
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(solution, folder / f"alice_{EXERCISE}")  # full marks
    (folder / f"bob_{EXERCISE}").write_bytes(b"")  # empty
    loop = nbformat.read(exercise, as_version=4)
    answer = next(c for c in loop.cells if c.metadata.get("course", {}).get("role") == "answer")
    answer.source = "import time\nwhile True:\n    time.sleep(0.1)"  # an endless loop in its first task
    nbformat.write(loop, folder / f"carol_{EXERCISE}")
    (folder / f"dave_{EXERCISE}").write_bytes(solution.read_bytes()[:500])  # corrupt
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    out, work = tmp_path / "gradebook.csv", tmp_path / "work"
    argv = ["grade", str(folder), "--timeout", "10", "--out", str(out), "--work", str(work)]
    assert cli.main([*argv, "--scheduler", cluster["address"]]) == 0
    rows = {Path(s).name.split("_")[0]: r for s, r in pd.read_csv(out, dtype=str).set_index("submission").iterrows()}
    # all 4 task points; the 5th is the written answer's, for a hand score
    assert (rows["alice"]["status"], rows["alice"]["total"], rows["alice"]["max"]) == ("ok", "4", "5")
    assert (rows["bob"]["status"], rows["dave"]["status"], rows["carol"]["status"]) == ("error", "error", "timeout")
    assert "the file is empty" in rows["bob"]["feedback"] and "not a valid notebook" in rows["dave"]["feedback"]
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()} == before
    assert len(list(work.glob("*.ipynb"))) == 2  # executed copies written here, by the client
    assert kernels_below(worker_pids(client).values()) == set()


def test_a_worker_without_the_course_or_the_data_is_named():
    class FakeClient:
        def wait_for_workers(self, n, timeout):
            pass

        def get_versions(self, check):
            pass

        def run(self, function, *args, on_error):
            return {
                "tcp://10.0.0.2:4000": {"host": "b", "cores": 2, "course_utils": "0.0.9", "problems": []},
                "tcp://10.0.0.3:4000": ModuleNotFoundError("No module named 'course_tools'"),
                "tcp://10.0.0.4:4000": {
                    "host": "c",
                    "cores": 2,
                    "course_utils": __import__("course_utils").__version__,
                    "problems": ["mnist not usable at /data (COURSE_DATA_DIR not set): missing file /data/x"],
                },
            }

    with pytest.raises(ClusterError) as caught:
        check_workers(FakeClient(), ["mnist"])
    message = str(caught.value)
    assert "worker tcp://10.0.0.2:4000: course_utils 0.1.0 needed, is 0.0.9" in message
    assert "worker tcp://10.0.0.3:4000: course_utils 0.1.0 not installed" in message
    assert "worker tcp://10.0.0.4:4000: mnist not usable at /data (COURSE_DATA_DIR not set)" in message


def test_no_scheduler_at_the_address_is_a_clear_error(tmp_path, monkeypatch, capsys):
    import socket

    monkeypatch.setattr("course_tools.cluster.CONNECT_SECONDS", 1)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = ["sweep", str(LESSON), "-p", "seed", "0", "--out", str(tmp_path), "--scheduler", f"tcp://127.0.0.1:{port}"]
    assert cli.main(argv) == 2
    assert f"no Dask scheduler answers at tcp://127.0.0.1:{port}" in capsys.readouterr().err


def test_grading_on_a_cluster_checks_the_data_the_exercises_load(tmp_path, monkeypatch, capsys):
    """course grade --scheduler: each worker must have the datasets the graded exercises load (lesson 10's
    Fashion-MNIST here; exercise 3 loads none), as a sweep's workers must; one without them is named."""
    from contextlib import contextmanager

    from course_tools import cluster

    class OneWorker:  # a cluster of one worker, this process, whose COURSE_DATA_DIR holds nothing
        def wait_for_workers(self, n, timeout):
            pass

        def get_versions(self, check):
            pass

        def run(self, function, *args, on_error):
            return {"tcp://10.0.0.5:4000": function(*args)}

    @contextmanager
    def connect(address, workers=1, echo=print):
        yield OneWorker()

    monkeypatch.setattr(cluster, "dask_client", connect)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "no-data"))
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in (EXERCISE, "10_beyond_mnist_exercises.ipynb"):
        shutil.copy(REPO / "exercises" / name, folder / f"alice_{name}")
    argv = ["grade", str(folder), "--out", str(tmp_path / "gradebook.csv"), "--work", str(tmp_path / "work")]
    assert cli.main([*argv, "--scheduler", "tcp://10.0.0.5:8786"]) == 2
    err = capsys.readouterr().err
    assert f"worker tcp://10.0.0.5:4000: fashion_mnist not usable at {tmp_path / 'no-data'}" in err
    assert "mnist not usable" not in err.replace("fashion_mnist not usable", ""), "exercise 3 loads no MNIST"
    assert cluster.datasets_loaded([(REPO / "solutions" / EXERCISE).read_text()]) == []
