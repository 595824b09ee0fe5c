"""course grade in its sandbox (bubblewrap) against hostile submissions of the toy exercise.

One grading run (``graded``, module fixture; two workers, so the sandboxes run side by side)
grades a good submission beside four hostile ones, an attack in each answer cell: reading files
outside the course (a secret in the grader's home, the private solutions, another student's
submission, the grader's environment variables), forging its runner's result through
``/proc``, writing outside its folder, opening sockets (to the internet and to the host's
127.0.0.1), allocating more memory than the cap (shared memory too), starting 200 processes and
burning CPU time past the cap. Each is a recorded failure with a clear line; the good submission and the fork
bomber's other task are graded as usual, and nothing is left running or written.

Everything the attackers aim at lives under the course's ``build/`` folder, not in ``/tmp``
(which the sandbox replaces), so what hides it is that only the course's packages are bound.
Skipped without a working ``bwrap``, except under CI=true, where it fails.
"""

import os
import secrets
import shutil
import socket
import sys
import tempfile
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import REPO, skip_or_fail_in_ci
from test_grading_hostile import GOOD, HIDDEN_TESTS, OTHER, TOY, grade, submission, toy_solution

from course_tools.grading import sandbox

SECRET = f"secret-{secrets.token_hex(8)}"
TAG = f"700.{secrets.randbelow(10**6):06d}"  # `sleep 700.xxxxxx`: the fork bomb's children
CPU_CAP, MEMORY_CAP = 6, 2  # seconds, GiB: small, so the attacks reach them fast


def reader(paths: list[Path]) -> str:
    """Task 1's answer: print its environment and every file it can read, then fail on the first (the
    task's failure)."""
    return (
        "import os\nprint(dict(os.environ))\n"
        f"for path in {[str(p) for p in paths]!r}:\n"
        "    try:\n"
        "        print(open(path).read())\n"
        "    except OSError as err:\n"
        "        print(type(err).__name__, path)\n"
        f"open({str(paths[0])!r}).read()\n" + GOOD["task1-answer"]
    )


FORGER = """\
import os
runner = f'/proc/{os.getppid()}'  # the runner, whose result pipe the kernel must not reach
try:
    fds = os.listdir(runner + '/fd')
except OSError as err:
    fds = [str(n) for n in range(3, 20)]
    print('runner fds:', type(err).__name__)
for path in [runner + '/mem', *(runner + '/fd/' + n for n in fds)]:
    try:
        with open(path, 'wb') as f:
            f.write(b'forged')
        print('wrote', path)
    except OSError as err:
        print('runner:', type(err).__name__, path)
"""


def writer(paths: list[Path]) -> str:
    """Task 2's answer: forge the runner's result, write every file it can, then fail on the first."""
    return FORGER + (
        f"for path in {[str(p) for p in paths]!r}:\n"
        "    try:\n"
        "        open(path, 'w').write('pwned')\n"
        "    except OSError as err:\n"
        "        print(type(err).__name__, path)\n"
        f"open({str(paths[0])!r}, 'w').write('pwned')\n" + GOOD["task2-answer"]
    )


def caller(port: int) -> str:
    return (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 443), timeout=5)\n"
        "    print('reached the internet')\n"
        "except OSError as err:\n"
        "    print('internet:', err)\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=5)\n" + GOOD["task1-answer"]
    )


SHARED = sandbox.Sandbox(MEMORY_CAP).limits(60, threads=64)["address"]  # at least the address-space cap
HOG = (
    "import mmap\ntry:\n"  # shared memory, which the data cap does not count, meets the address-space cap
    f"    shared = mmap.mmap(-1, {SHARED})\n    print('mapped', 'shared memory')\n"
    "except OSError as err:\n    print('shared memory:', err)\n"
    f"x = bytearray({MEMORY_CAP + 1} * 2**30)\n" + GOOD["task2-answer"]
)
FORK_BOMB = f"import subprocess\nchildren = [subprocess.Popen(['sleep', '{TAG}']) for _ in range(200)]\n"
SPIN = "while True:\n    pass\n"


def leftover_sleeps() -> list:
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if process.info["status"] != psutil.STATUS_ZOMBIE and TAG in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


@pytest.fixture(scope="module")
def course():
    """A course (public and private solutions), the submissions, a home and its secret: all under the
    course's build/ folder, outside /tmp."""
    if sandbox.problem() is not None:
        skip_or_fail_in_ci(f"no sandbox here: {sandbox.problem()}")
    (REPO / "build").mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="sandbox-test-", dir=REPO / "build"))
    public, private, home = root / "course" / "solutions", root / "private", root / "home"
    for folder in (public, private / "hidden_tests", home, root / "submissions"):
        folder.mkdir(parents=True)
    for folder in (public, private):
        nbformat.write(toy_solution(), folder / TOY)
        nbformat.write(toy_solution("other"), folder / OTHER)
    for exercise in ("toy", "other"):
        (private / "hidden_tests" / f"{exercise}.py").write_text(HIDDEN_TESTS.format(exercise=exercise))
    (private / "hidden_tests" / "other.py").write_text(f"# {SECRET}\n", encoding="utf-8")
    (home / "secret.txt").write_text(SECRET, encoding="utf-8")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(course):
    folder, home = course / "submissions", course / "home"
    secret_places = [home / "secret.txt", course / "private" / "hidden_tests" / "other.py", folder / f"peggy_{TOY}"]
    targets = [REPO / "course_utils" / f"pwned_{TAG}.py", home / "pwned", folder / "pwned", course / "out" / "pwned"]
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    attacks = {  # the two answer cells of each
        "ivan": (reader(secret_places), writer(targets)),
        "mallory": (caller(listener.getsockname()[1]), HOG),
        "rupert": (FORK_BOMB + GOOD["task1-answer"], GOOD["task2-answer"]),
        "trent": (SPIN + GOOD["task1-answer"], GOOD["task2-answer"]),
        "peggy": (f"# {SECRET}\n" + GOOD["task1-answer"], GOOD["task2-answer"]),
    }
    for student, (first, second) in attacks.items():
        submission(folder, f"{student}_{TOY}", {"task1-answer": first, "task2-answer": second})
    options = ["--solutions", str(course / "private"), "--timeout", "60", "--workers", "2", "--sandbox"]
    options += ["--memory-cap", str(MEMORY_CAP), "--cpu-cap", str(CPU_CAP)]
    printed, before = StringIO(), dict(os.environ)
    os.environ["HOME"], os.environ["GRADER_TOKEN"] = str(home), SECRET  # neither reaches the sandbox
    try:
        with redirect_stdout(printed):
            result = grade(course, folder, "out", *options)
    finally:
        os.environ.clear()
        os.environ.update(before)
    try:
        listener.accept()
        result["called"] = True
    except BlockingIOError:
        result["called"] = False
    listener.close()
    result |= {"printed": printed.getvalue(), "sleeps": leftover_sleeps(), "targets": targets}
    result["written"] = [t for t in targets if t.exists()]
    for target in result["written"]:  # if the sandbox failed, leave the course as it was
        target.unlink()
    return result


def executed(graded, student: str) -> str:
    (copy,) = graded["work"].glob(f"*{student}_{TOY}")
    return copy.read_text(encoding="utf-8")


def feedback(graded, student: str) -> str:
    row = graded["rows"][student]
    assert (row["status"], row["task1"]) == ("ok", "0"), (student, row)
    return row["feedback"]


@pytest.fixture(scope="module", autouse=True)
def _no_sleep_left_behind():
    yield
    for process in leftover_sleeps():  # if a test failed, do not leave them for the next run
        process.kill()


@pytest.mark.kernel
def test_the_run_is_sandboxed_and_a_good_submission_beside_the_attacks_gets_full_marks(graded):
    assert graded["code"] == 0
    assert "Grading in a sandbox (bubblewrap)" in graded["printed"]
    peggy = graded["rows"]["peggy"]
    assert (peggy["status"], peggy["total"], peggy["feedback"]) == ("ok", "2", "")


@pytest.mark.kernel
def test_files_outside_the_course_cannot_be_read(graded):
    assert "task1: FileNotFoundError: [Errno 2] No such file or directory" in feedback(graded, "ivan")
    assert SECRET not in executed(graded, "ivan")
    assert executed(graded, "ivan").count("FileNotFoundError") >= 3  # each of the three places


@pytest.mark.kernel
def test_nothing_can_be_written_outside_the_sandbox_s_tmp(graded):
    assert graded["written"] == []
    assert "task2: OSError: [Errno 30] Read-only file system" in feedback(graded, "ivan")


@pytest.mark.kernel
def test_the_kernel_cannot_reach_its_runner_s_result_pipe_or_memory(graded):
    text = executed(graded, "ivan")
    assert "runner fds: PermissionError" in text and "wrote /proc" not in text


@pytest.mark.kernel
def test_no_network_not_even_the_host_s_loopback(graded):
    assert "task1: ConnectionRefusedError" in feedback(graded, "mallory")
    assert "internet: [Errno 101] Network is unreachable" in executed(graded, "mallory")
    assert not graded["called"]


@pytest.mark.kernel
def test_more_memory_than_the_cap_fails_with_a_clear_line(graded):
    text = feedback(graded, "mallory")
    assert "task2: MemoryError" in text
    assert "shared memory: [Errno 12] Cannot allocate memory" in executed(graded, "mallory")
    assert f"used more than {MEMORY_CAP} GiB of memory (the sandbox's cap per process" in text


@pytest.mark.kernel
def test_a_fork_bomb_stops_at_the_process_cap_and_leaves_nothing_running(graded):
    text = feedback(graded, "rupert")
    assert "task1: BlockingIOError: [Errno 11] Resource temporarily unavailable" in text
    assert "processes and threads (the sandbox's cap: course grade --process-cap)" in text
    assert graded["rows"]["rupert"]["task2"] == "1"  # its other task is graded as usual
    assert graded["sleeps"] == []


@pytest.mark.kernel
def test_cpu_time_past_the_cap_stops_the_kernel_with_a_clear_line(graded):
    trent = graded["rows"]["trent"]
    assert trent["status"] == "error"
    assert trent["feedback"].startswith(f"used more than {CPU_CAP} s of CPU time (the sandbox's cap")


def test_without_bubblewrap_the_grader_says_so_once_and_grades(monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "problem", lambda: "bwrap is not installed")
    assert sandbox.choose("auto") is None
    assert sandbox.choose("off") is None
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("warning: grading without a sandbox (bwrap is not installed): ")
    assert "apt-get install bubblewrap" in err[0]
    assert err[1].startswith("warning: grading without a sandbox (--no-sandbox): ")
    with pytest.raises(sandbox.SandboxError, match="^--sandbox: bwrap is not installed; install bubblewrap"):
        sandbox.choose("require")


def test_caps_that_make_no_sense_are_refused(monkeypatch):
    monkeypatch.setattr(sandbox, "problem", lambda: None)
    for caps, message in (
        ({"memory_gib": 0}, "--memory-cap 0 is too small"),
        ({"cpu_seconds": 0}, "--cpu-cap 0 is too small"),
        ({"processes": 3}, "--process-cap 3 is too small"),
    ):
        with pytest.raises(sandbox.SandboxError, match=message):
            sandbox.choose("auto", **caps)
    limits = sandbox.Sandbox().limits(timeout=300, threads=2)
    address = 4 * 2**30 + sandbox.ADDRESS_BASE + 2 * sandbox.ADDRESS_PER_THREAD
    assert limits == {"memory": 4 * 2**30, "cpu": 2 * 300 * 2, "processes": 64 + 4 * 2, "address": address}


def test_only_harmless_variables_enter_the_sandbox():
    env = {"PATH": "/usr/bin", "LC_ALL": "C", "OMP_NUM_THREADS": "2", "AWS_SECRET_ACCESS_KEY": "k", "MY_TOKEN": "t"}
    bound = sandbox.command(["true"], env=env)
    assert bound.index("--clearenv") < bound.index("--setenv")
    passed = {bound[i + 1]: bound[i + 2] for i, arg in enumerate(bound) if arg == "--setenv"}
    assert passed == {"PATH": "/usr/bin", "LC_ALL": "C", "OMP_NUM_THREADS": "2", "HOME": "/tmp"} | {
        "COURSE_DATA_DIR": passed["COURSE_DATA_DIR"]
    }


def test_ipython_s_folder_enters_the_sandbox_as_copies_without_its_history(tmp_path, monkeypatch):
    folder = tmp_path / "ipython"
    (folder / "profile_default" / "startup").mkdir(parents=True)
    (folder / "profile_default" / "startup" / "00-warnings.py").write_text("import warnings\n")
    (folder / "profile_default" / "history.sqlite").write_text(SECRET)
    (folder / "profile_default" / "security").mkdir()
    (folder / "profile_default" / "security" / "kernel-1.json").write_text(SECRET)
    monkeypatch.setenv("IPYTHONDIR", str(folder))
    assert sandbox.ipython_files() == [folder.resolve() / "profile_default" / "startup" / "00-warnings.py"]
    bound = sandbox.command(["true"])
    binds = [bound[i + 1] for i, arg in enumerate(bound) if arg in ("--ro-bind", "--bind")]
    assert not any(Path(source).is_relative_to(folder) for source in binds)  # the folder itself is never bound


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bubblewrap is Linux only")
def test_the_sandbox_binds_neither_the_course_folder_nor_home():
    if sandbox.problem() is not None:
        skip_or_fail_in_ci(f"no sandbox here: {sandbox.problem()}")
    bound = sandbox.command(["true"])
    binds = {bound[i + 1] for i, arg in enumerate(bound) if arg == "--ro-bind"}
    assert str(REPO) not in binds and str(Path.home()) not in binds
    assert {str(REPO / "course_utils"), str(REPO / "course_tools")} <= binds
    assert not any(Path(b).is_relative_to(REPO / "solutions") for b in binds)
