"""The parallel test run's plan (course_tools/suite_plan.py): whole files as units, the longest first."""

from course_tools.suite_plan import MODEL_CHAIN, SITE_TESTS, heaviest_first, unit_of


def test_units_keep_their_cells_together_and_the_longest_start_first():
    nodeids = [
        "tests/test_a.py::test_1",
        "notebooks/01_x.ipynb::Cell 0",
        "tests/test_a.py::test_2",
        "notebooks/01_x.ipynb::Cell 1",
        "notebooks/04_y.ipynb::Cell 0",
        "tests/test_new.py::t",
    ]
    seconds = {"tests/test_a.py": 1.0, "notebooks/01_x.ipynb": 20.0, "notebooks/04_y.ipynb": 200.0}
    assert heaviest_first(nodeids, seconds, nodeid=str) == [
        "notebooks/04_y.ipynb::Cell 0",
        "notebooks/01_x.ipynb::Cell 0",
        "notebooks/01_x.ipynb::Cell 1",
        "tests/test_new.py::t",  # never timed: counts as 5 s
        "tests/test_a.py::test_1",
        "tests/test_a.py::test_2",
    ]


def test_a_notebook_never_timed_counts_as_a_long_one():
    order = heaviest_first(
        ["notebooks/09_new.ipynb::Cell 0", "tests/test_a.py::t"], {"tests/test_a.py": 30.0}, nodeid=str
    )
    assert order[0] == "notebooks/09_new.ipynb::Cell 0"


def test_the_lessons_that_read_lesson_4s_model_run_after_it_in_one_unit():
    assert len({unit_of(path) for path in MODEL_CHAIN}) == 1
    nodeids = [f"{path}::Cell {i}" for path in MODEL_CHAIN[:3] for i in range(2)]
    nodeids.insert(2, "notebooks/05_ablations.ipynb::Cell 0")
    seconds = {MODEL_CHAIN[0]: 50.0, MODEL_CHAIN[1]: 10.0, MODEL_CHAIN[2]: 150.0, "notebooks/05_ablations.ipynb": 199.0}
    order = heaviest_first(nodeids, seconds, nodeid=str)
    assert order[0] == "notebooks/04_two_conv_net.ipynb::Cell 0"  # 210 s together beat 199 s
    assert order[:6] == [n for n in nodeids if "05_" not in n]
    assert order[-1] == "notebooks/05_ablations.ipynb::Cell 0"


def test_the_site_tests_run_on_one_worker():
    # Both build build/site/ when it is stale: two builds at once would delete each other's files.
    assert len({unit_of(path) for path in SITE_TESTS}) == 1
    assert unit_of(SITE_TESTS[0]) not in {unit_of(MODEL_CHAIN[0]), "tests/test_site.py"}


def test_the_chain_keeps_its_own_order_whatever_the_collection_order():
    # pytest collects tests/ before notebooks/: the drawing pad's tests must still run after lesson 4.
    chain = [f"{path}::t" for path in MODEL_CHAIN]
    nodeids = [n for n in chain if n.startswith("tests/")] + ["tests/test_a.py::t"]
    nodeids += [n for n in chain if not n.startswith("tests/")]
    order = heaviest_first(nodeids, {}, nodeid=str)
    assert [n for n in order if n != "tests/test_a.py::t"] == chain


def test_the_committed_durations_name_every_notebook():
    # A clean clone orders its run by this file; a lesson missing from it would start late.
    import json

    from conftest import REPO

    seconds = json.loads((REPO / "tests" / "test-durations.json").read_text())
    notebooks = sorted(
        str(p.relative_to(REPO)) for folder in ("notebooks", "solutions") for p in (REPO / folder).glob("[0-9]*.ipynb")
    )
    missing = [n for n in notebooks if n not in seconds]
    assert not missing, (
        f"{missing} have no time in tests/test-durations.json: run `make test`, then "
        "`course test-times` (it copies build/test-durations.json over it)"
    )


def test_each_worker_and_what_it_starts_gets_its_share_of_the_cores():
    import os
    import subprocess
    import sys

    import pytest

    from course_tools.cluster import available_cores

    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not workers:
        pytest.skip("only a parallel run (make test: pytest -n 2) divides the cores")
    share = os.environ["OMP_NUM_THREADS"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert int(share) == max(1, cores // int(workers))  # (unless OMP_NUM_THREADS set a budget)
    assert available_cores() == int(share)  # a sweep started here stays inside the share
    child = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.stdout.strip() == share  # kernels and graders inherit it


def test_a_run_of_paths_outside_tests_keeps_each_file_on_one_worker(tmp_path):
    # pytest reads tests/conftest.py only for paths under tests/: the plan is a plugin (pyproject's
    # addopts) so that `pytest -n 2 notebooks/NN.ipynb --nbval` runs a notebook's cells in one kernel.
    # Without xdist its hooks do no harm: test_strict_warnings.py and test_figure_alt.py run nbval on a
    # folder outside tests/ with `-p no:xdist` and this configuration, and check the outcome.
    import subprocess
    import sys

    from course_tools.suite_plan import REPO

    log = tmp_path / "workers.log"
    for name in ("a", "b"):
        body = "".join(
            f"def test_{i}():\n    with open({str(log)!r}, 'a') as f:\n"
            f"        f.write('{name} ' + os.environ.get('PYTEST_XDIST_WORKER', 'none') + '\\n')\n"
            for i in range(4)
        )
        (tmp_path / f"test_{name}.py").write_text("import os\n\n" + body)
    command = [sys.executable, "-m", "pytest", "-q", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path)]
    # nbval has nothing to collect in .py files: left out, its imports (nbformat, jupyter_client: 1.5-2 s)
    # are saved in each of the three processes; the plan, from the addopts, is what is tested.
    command += ["-n", "2", "-p", "no:nbval", str(tmp_path)]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    records = [line.split() for line in log.read_text().splitlines()]
    assert len(records) == 8
    workers = {name: {worker for file, worker in records if file == name} for name in "ab"}
    assert all(len(found) == 1 for found in workers.values()), workers


def test_the_schedule_simulation_hands_out_units_as_xdist_does():
    # benchmarks/suite_schedulers.py gives suite_plan's figures: like xdist's LoadScopeScheduling, a
    # worker takes another unit as soon as it has 2 tests or fewer left (pytest-xdist #277).
    import sys

    from course_tools.suite_plan import REPO

    sys.path.insert(0, str(REPO / "benchmarks"))
    from suite_schedulers import makespan

    shorts, thirds = [f"short {i}" for i in range(6)], ["long 0", "long 1", "long 2"]
    cost = {"long": 10.0, "mid": 6.0, **dict.fromkeys(thirds, 10 / 3), **dict.fromkeys(shorts, 1.0)}
    assert makespan([["long"], ["mid"], shorts], cost) == 16.0  # one test left: the first worker takes the shorts
    assert makespan([thirds, ["mid"], shorts], cost) == 12.0  # three: the other one does
