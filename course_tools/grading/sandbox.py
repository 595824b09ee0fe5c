"""The grading sandbox: each submission's runner and kernel run inside bubblewrap (``bwrap``).

``course grade`` uses it by default on Linux where ``bwrap`` works (Debian and Ubuntu:
``apt-get install bubblewrap``); ``--sandbox`` insists on it (the run stops when it cannot work),
``--no-sandbox`` grades without it, and so does a machine without it, saying so once.

What the code under test can reach, all READ-ONLY: the system (``/usr``, ``/etc``, ``/lib``...),
this Python environment (its prefix, its base prefix, its ``site-packages`` folders), the
course's ``course_utils`` and ``course_tools`` packages and its ``pyproject.toml`` (not the rest
of the course: not ``solutions/``, not ``build/``), the dataset folder (``$COURSE_DATA_DIR`` or
the course's ``data/``), copies of the files of ``$IPYTHONDIR`` if set (`ipython_files`: not
the history, ``pid/``, ``security/``, ``log/`` or ``db/``; the runner gives IPython a writable copy
of them) and copies of the grader's copies of this submission's check files. Not the grader's
home, the solutions folder (``--solutions``), the submissions, the gradebook or the other
submissions' executed copies. Writable: only ``/tmp``, a fresh in-memory folder of at most
``--memory-cap`` (the kernel's working folder, also ``$HOME``), gone with the run. No network:
its own network namespace holds only a loopback of its own (not the host's ``127.0.0.1``). Its
own PID namespace: it sees only its own processes, and when its runner ends, or the grader
dies, every process in it is killed. Its own IPC and host-name namespaces and a terminal
session of its own. A package installed outside the environment's folders (``pip install -e``
of another folder) is missing in there: install it normally, or grade with ``--no-sandbox``.

Environment: bwrap starts from an empty one (``--clearenv``) and lets in only `PASSED_VARIABLES`
(``PATH``, the locale, the thread counts, ``IPYTHONDIR``, a few ``PYTHON*`` settings) and
``LC_*``; ``HOME`` is ``/tmp`` and ``COURSE_DATA_DIR`` the data folder. A token or password in
the grader's environment stays out. The runner cannot be traced or read through ``/proc`` by
its kernel (`isolate._refuse_tracing`), so the kernel cannot write into the result pipe.

Caps, per process of the sandbox (set by the runner inside, before the kernel starts, with
``setrlimit``; see `Sandbox.limits`): memory ``--memory-cap`` (4 GiB), twice: ``RLIMIT_DATA`` at
the cap (private memory: the heap, arrays, tensors) and ``RLIMIT_AS``, the address space, at the
cap + 4 GiB + 64 MiB per thread (`ADDRESS_BASE`: PyTorch maps about 3 GB at import, most of it
not data), which bounds shared memory (``mmap`` ``MAP_SHARED``, which ``RLIMIT_DATA`` does not
count) too; CPU time (``RLIMIT_CPU``, ``--cpu-cap``, twice what the kernel's threads can use in
``--timeout``) and processes and threads together (``RLIMIT_NPROC``, ``--process-cap``).
``RLIMIT_NPROC`` counts per user, and counts nothing for root: the sandbox has a user namespace
of its own, so it counts only the sandbox's processes, and a grader running as root enters the
sandbox as root (root can read the course wherever it lives, even under ``/root``), then
switches to the user ``nobody`` (65534) and a second, unprivileged ``bwrap`` makes that user
namespace. As ``nobody``, the sandbox reads the bound folders only where their permissions let
everyone read them.

Not defended: the memory caps are per process (a submission may start ``--process-cap``
processes that each use them) and rlimits, not a cgroup: a process may hold up to about 4 GiB
of shared memory beyond ``--memory-cap`` (the address space PyTorch needs), ``/tmp`` and
``/dev/shm`` hold their files in memory; a cgroup v2 ``memory.max`` would cap all of it
together, but it needs the memory controller delegated to the grader (on the development
machine it is not: the memory controller sits on cgroup v1). The code sees the bound files (the
hidden tests of its own exercise, which it must run), and it shares the machine's kernel (a
kernel bug is an escape). A container or a virtual machine defends against that.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

NOBODY = 65534  # the user a grader running as root becomes inside the sandbox

CPU_CAP_PER_TIMEOUT = 2  # default --cpu-cap: this many times what the kernel's threads use in --timeout

PROCESSES_BASE, PROCESSES_PER_THREAD = 64, 4  # default --process-cap: 64 + 4 per thread of the kernel

# RLIMIT_AS = --memory-cap + this: the address space a kernel holds beyond its data. Measured (torch
# 2, CPU): importing torch maps 3.2 GB (0.8 GB of it data), torch and torchvision training a small
# CNN 3.8 GB at 2 threads (1.0 GB data) and 4.9 GB at 16 (1.4 GB data): each thread adds about
# 50 MB that is not data (glibc's reserved malloc arenas). So: 4 GiB, and 64 MiB a thread.
ADDRESS_BASE, ADDRESS_PER_THREAD = 4 * 2**30, 64 * 2**20

SYSTEM_FOLDERS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

INSTALL_HINT = "install bubblewrap (Debian, Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)"


PASSED_VARIABLES = frozenset(  # the grader's environment variables the sandbox lets in; HOME is /tmp there
    """PATH LANG LANGUAGE TZ TERM IPYTHONDIR MPLBACKEND JUPYTER_PLATFORM_DIRS PYTHONHASHSEED PYTHONWARNINGS
    PYTHONIOENCODING PYTHONUTF8 PYTHONDONTWRITEBYTECODE OMP_NUM_THREADS MKL_NUM_THREADS OPENBLAS_NUM_THREADS
    NUMEXPR_NUM_THREADS VECLIB_MAXIMUM_THREADS""".split()
)

PASSED_PREFIXES = ("LC_",)  # the locale's variables


class SandboxError(Exception):
    """The sandbox was asked for (``--sandbox``) and cannot work here, or a cap makes no sense."""


@dataclass(frozen=True)
class Sandbox:
    """The caps of the submissions' sandboxes (``None``: the default, which depends on the run).

    It travels with each submission to the Dask worker that grades it."""

    memory_gib: float = 4.0
    cpu_seconds: int | None = None
    processes: int | None = None

    def limits(self, timeout: int, threads: int) -> dict[str, int]:
        """The runner's caps for one run of ``timeout`` seconds whose kernel has ``threads`` threads."""
        memory = int(self.memory_gib * 2**30)
        return {
            "memory": memory,
            "cpu": self.cpu_seconds or CPU_CAP_PER_TIMEOUT * timeout * threads,
            "processes": self.processes or PROCESSES_BASE + PROCESSES_PER_THREAD * threads,
            "address": memory + ADDRESS_BASE + ADDRESS_PER_THREAD * threads,
        }


def choose(mode: str = "auto", memory_gib: float = 4.0, cpu_seconds=None, processes=None) -> Sandbox | None:
    """The sandbox for ``course grade``, or None; says which in one line.

    ``mode``: ``"auto"`` (the sandbox where it works), ``"require"`` (``--sandbox``: raise
    `SandboxError` where it does not) or ``"off"`` (``--no-sandbox``)."""
    for name, value, least in (("--memory-cap", memory_gib, 0.5), ("--cpu-cap", cpu_seconds, 1)):
        if value is not None and value < least:
            raise SandboxError(f"{name} {value} is too small: give at least {least} (or leave it out)")
    if processes is not None and processes < 16:
        raise SandboxError(f"--process-cap {processes} is too small: a kernel alone runs about 10 threads")
    why = "--no-sandbox" if mode == "off" else problem()
    if why is None:
        sandbox = Sandbox(memory_gib, cpu_seconds, processes)
        print(
            "Grading in a sandbox (bubblewrap): no network, no files but the course's packages, the data "
            f"and a private /tmp, {memory_gib:g} GiB of memory per process; see course_tools.grading.sandbox."
        )
        return sandbox
    if mode == "require":
        raise SandboxError(f"--sandbox: {why}; {INSTALL_HINT}, or grade with --no-sandbox in a container")
    print(
        f"warning: grading without a sandbox ({why}): each submission's code runs with your permissions, "
        f"can read and change your files and use the network; {INSTALL_HINT}",
        file=sys.stderr,
    )
    return None


@functools.cache
def problem() -> str | None:
    """Why the sandbox cannot work on this machine (None: it works). Tried once per process (the
    grader, each Dask worker): this Python, importing the course's packages in the full sandbox."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux, this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return "bwrap is not installed"
    runner = [sys.executable, "-c", "import course_tools, course_utils"]
    try:
        done = subprocess.run(command(runner), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as err:
        return f"bwrap does not start ({type(err).__name__}: {err})"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or [f"exit code {done.returncode}"]
        return f"bwrap fails here: {lines[-1][:300]}"
    return None


def command(runner: list[str], copies: dict | None = None, memory_bytes: int = 2**30, env: dict | None = None):
    """The command that runs ``runner`` in the sandbox, whose ``/tmp`` holds ``memory_bytes``.

    ``copies``: ``{path: open file descriptor}``, files put at those paths, read-only, with the
    descriptors' contents (the grader's own files may be readable by it alone; the descriptors
    must be passed to the command). Other inherited descriptors stay open in the sandbox.
    ``env``: the environment the command is started with (default: this process's); of it, only
    the variables `passed_environment` lets through reach the runner."""
    bwrap = shutil.which("bwrap") or "bwrap"
    root = os.geteuid() == 0
    outer = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net"]
    outer += ["--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    outer += [] if root else ["--unshare-user", "--disable-userns"]
    outer += _mounts(copies or {}, memory_bytes)
    outer += ["--clearenv"]  # before the --setenv: the grader's secrets stay out
    for name, value in passed_environment(os.environ if env is None else env).items():
        outer += ["--setenv", name, value]
    outer += ["--setenv", "HOME", "/tmp", "--setenv", "COURSE_DATA_DIR", str(_data_folder()), "--chdir", "/tmp"]
    if not root:
        return [*outer, "--", *runner]
    # root: RLIMIT_NPROC binds no process of root, so become nobody in a user namespace of its own
    nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    inner = [bwrap, "--unshare-user", "--disable-userns", "--dev-bind", "/", "/", "--"]
    return [*outer, "--", *nobody, *inner, *runner]


def passed_environment(env) -> dict[str, str]:
    """The variables of ``env`` the sandbox lets in (`PASSED_VARIABLES`, `PASSED_PREFIXES`): none
    that may hold a secret (tokens, passwords, cloud keys)."""
    return {name: value for name, value in env.items() if name in PASSED_VARIABLES or name.startswith(PASSED_PREFIXES)}


def _mounts(copies: dict, memory_bytes: int) -> list[str]:
    """bwrap's arguments for the sandbox's file system (see the module docstring)."""
    args = ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(memory_bytes), "--tmpfs", "/tmp"]
    for folder in map(Path, SYSTEM_FOLDERS):
        if folder.is_symlink():  # /lib -> usr/lib on a merged /usr
            args += ["--symlink", os.readlink(folder), str(folder)]
        elif folder.is_dir():
            args += ["--ro-bind", str(folder), str(folder)]
    made, folders = {Path("/"), Path("/tmp")}, _readable_paths()
    for path in [*folders, *map(Path, copies)]:
        for parent in reversed(path.parents):  # bwrap would make them readable by their owner alone
            if parent not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        if path in folders:
            args += ["--ro-bind", str(path), str(path)]
        else:
            args += ["--perms", "0444", "--ro-bind-data", str(copies[str(path)]), str(path)]
        made.add(path)
    return [*args, "--remount-ro", "/"]


def _readable_paths() -> list[Path]:
    """What the runner and its kernel read: the Python environment, the course's two packages, its
    pyproject.toml (where course_utils finds the course) and the data; never the course folder
    itself (it holds the solutions)."""
    import course_tools
    import course_utils

    packages = [Path(course_utils.__file__).resolve().parent, Path(course_tools.__file__).resolve().parent]
    course = packages[0].parent
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    sites = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]  # a user's site too
    found = [Path(p).resolve() for p in [*prefixes, *sites]]  # not sys.path[0]: the script's folder, say
    found = [p for p in found if p.is_dir() and not (p == course or p in course.parents)]
    found = [p for p in found if not any(p.is_relative_to(s) for s in map(Path, SYSTEM_FOLDERS))]
    found += packages + [p for p in (_data_folder(),) if p.is_dir()]
    found += [course / "pyproject.toml"] if (course / "pyproject.toml").is_file() else []  # where the course is
    return sorted({p for p in found if not any(p != q and p.is_relative_to(q) for q in found)})


def _ipython_folder() -> Path | None:
    """IPython's folder when ``$IPYTHONDIR`` names one (the test suite's strict warnings), else None."""
    folder = os.environ.get("IPYTHONDIR")
    return Path(folder).expanduser().resolve() if folder else None


IPYTHON_PRIVATE = ("history", "pid", "security", "log", "db")  # in $IPYTHONDIR: never copied into the sandbox

IPYTHON_FILES = 200  # at most this many files of $IPYTHONDIR go in (its startup files, its configuration)


def ipython_files() -> list[Path]:
    """The files of ``$IPYTHONDIR`` the sandbox gets copies of (`command`'s ``copies``): none of its
    history, its kernels' connection files or logs (`IPYTHON_PRIVATE`)."""
    folder = _ipython_folder()
    if folder is None or not folder.is_dir():
        return []
    files = (p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink())
    kept = (p for p in files if not any(part.startswith(IPYTHON_PRIVATE) for part in p.relative_to(folder).parts))
    return list(itertools.islice(kept, IPYTHON_FILES))


def _data_folder() -> Path:
    from course_utils.datafiles import data_root

    return data_root().expanduser().resolve()


def prepare_runner(limits: dict[str, int]) -> None:
    """In the runner, before its kernel starts: the caps of every process of the sandbox, and a
    writable copy of IPython's folder (``$IPYTHONDIR``: `ipython_files`, read-only in here;
    IPython ignores a folder it cannot write to)."""
    import resource
    import tempfile

    ipython = _ipython_folder()
    if ipython:  # absent when it held none of `ipython_files`
        copy = Path(tempfile.mkdtemp(prefix="ipython-"), "ipython")
        os.environ["IPYTHONDIR"] = str(shutil.copytree(ipython, copy) if ipython.is_dir() else copy)

    resource.setrlimit(resource.RLIMIT_DATA, (limits["memory"], limits["memory"]))
    resource.setrlimit(resource.RLIMIT_AS, (limits["address"], limits["address"]))  # shared mappings too
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu"], limits["cpu"] + 5))  # SIGXCPU, then SIGKILL
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))


OUT_OF_MEMORY = ("MemoryError", "can't allocate memory", "Cannot allocate memory")

OUT_OF_PROCESSES = ("Resource temporarily unavailable", "can't start new thread")


def cap_note(notebook, limits: dict[str, int], kernel_died: bool) -> str:
    """In the runner, after the run: the cap the code ran into, as one line of feedback ('' if none)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel's, once it has ended
    if kernel_died and used.ru_utime + used.ru_stime >= limits["cpu"] - 1:
        return f"used more than {limits['cpu']} s of CPU time (the sandbox's cap: course grade --cpu-cap)"
    errors = [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    if any(sign in error for error in errors for sign in OUT_OF_MEMORY):
        gib = limits["memory"] / 2**30
        return f"used more than {gib:g} GiB of memory (the sandbox's cap per process: course grade --memory-cap)"
    if any(sign in error for error in errors for sign in OUT_OF_PROCESSES):
        return (
            f"started more than {limits['processes']} processes and threads "
            "(the sandbox's cap: course grade --process-cap)"
        )
    return ""
