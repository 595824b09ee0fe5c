"""Running an assembled notebook in a process of its own, and leaving nothing behind.

``python -m course_tools.grading.isolate --execute FD TIMEOUT [--limits MEMORY CPU PROCESSES ADDRESS]`` is
the runner: the notebook arrives on stdin, the executed notebook leaves through the pipe ``FD``,
which the kernel never inherits. See `course_tools.grading`, step 5.

In the sandbox (`sandbox`, with ``--limits``: the runner applies the caps) the runner and its
kernel live in a PID namespace that dies with the runner, so nothing can outlive the run.
Without it, home-made defenses do that work: the grader and the runner are child subreapers,
the runner stops when the grader dies, and every descendant is stopped, then killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

OUTPUT_CAP = 100_000  # characters of output kept per cell; the rest is dropped


ERROR_CAP = 2_000  # characters kept of an error's message and of each traceback line


TOKEN_LINE_CAP = 20_000  # characters kept of a line with a check cell's token beyond OUTPUT_CAP


FILE_CAP = 256 * 2**20  # bytes any file the kernel writes may grow to (its log included)


STARTUP_ALLOWANCE = 120  # seconds to start the runner and the kernel, on top of --timeout


PR_SET_CHILD_SUBREAPER = 36  # prctl option (Linux): orphaned descendants are re-parented to us


PR_SET_PDEATHSIG = 1  # prctl option (Linux): a signal for us when our parent dies


PR_SET_DUMPABLE = 4  # prctl option (Linux): 0 bars processes of our own user from /proc/<pid>/fd, mem, ptrace


# How run_isolated starts the runner: ``python -m course_tools.grading.isolate``, with rfc3987_syntax kept
# out. jsonschema, which nbformat imports, builds that package's IRI grammar when it can import it:
# 1.4 s of every runner's start (of about 3.5 s to grade the smallest exercise) for string formats
# no notebook schema uses. Without it, jsonschema leaves those formats unchecked.
RUNNER = (
    "import sys; sys.modules.setdefault('rfc3987_syntax', None); import runpy; "
    "runpy.run_module('course_tools.grading.isolate', run_name='__main__', alter_sys=True)"
)


def run_isolated(runnable, timeout: int, log: Path, sandbox=None, env: dict | None = None, readable=()):
    """Execute ``runnable`` in a child process; return ``(executed notebook or None, status dict)``.

    ``sandbox``: a `sandbox.Sandbox` (its caps) to run inside bubblewrap, or None; ``readable``:
    the files the sandbox may read besides the environment and the course's packages (the
    grader's copies of the check files). ``env``: the environment of the runner and its kernel
    (default: this process's).

    The notebook goes to the runner through a pipe and comes back through another that the kernel
    never inherits, so no file on disk holds the check cells' tokens, and the code under test can
    neither read them there nor forge the result. A runner that dies (killed, say, by the code it
    runs) gives an error row. Every process the run leaves behind is stopped and killed.
    """
    read_end, write_end = os.pipe()
    command = [sys.executable, "-c", RUNNER, "--execute", str(write_end), str(timeout)]
    became, before, copies = False, set(), {}
    if sandbox:
        from .sandbox import command as sandboxed
        from .sandbox import problem

        if problem() is not None:  # this Dask worker cannot: say why, rather than a failed runner
            os.close(read_end)
            os.close(write_end)
            message = f"no sandbox on this worker ({problem()}): install bubblewrap there, or grade with --no-sandbox"
            return None, {"status": "error", "message": message}
        threads = int((env or os.environ).get("OMP_NUM_THREADS") or os.cpu_count() or 1)
        limits = sandbox.limits(timeout, threads)
        from .sandbox import ipython_files

        readable = [*readable, *ipython_files()]  # IPython's startup files, never its history
        copies = {str(Path(f).resolve()): os.open(f, os.O_RDONLY) for f in readable}  # copied in by bwrap
        command = sandboxed([*command, "--limits", *map(str, limits.values())], copies, limits["memory"], env)
    else:
        became = _become_subreaper()  # orphans of the run come to us, not to init, so none escapes
        before = _descendants(os.getpid())
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)  # never write through a link
    received, child = [], None
    try:
        with os.fdopen(os.open(log, flags, 0o600), "wb") as out:
            child = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(write_end, *copies.values()),
                env=env,
            )
            for fd in (write_end, *copies.values()):
                os.close(fd)
            reader = threading.Thread(target=lambda: received.append(_read_all(read_end)), daemon=True)
            reader.start()
            try:
                child.stdin.write(nbformat.writes(runnable).encode("utf-8"))
                child.stdin.close()
            except BrokenPipeError:
                pass
            try:
                child.wait(timeout=timeout + STARTUP_ALLOWANCE)
            except subprocess.TimeoutExpired:
                message = f"stopped after {timeout + STARTUP_ALLOWANCE} s: the runner did not finish"
                return None, {"status": "timeout", "message": message}
            reader.join(timeout=30)
    finally:
        if child is not None and child.poll() is None:
            child.kill()  # in the sandbox: bubblewrap, and with it everything inside (--die-with-parent)
            child.wait()
        if not sandbox:
            _kill_descendants(os.getpid(), spare=before if became else set())
    try:
        executed = nbformat.reads(received[0].decode("utf-8"), as_version=4)
        if child.returncode != 0:
            raise ValueError(child.returncode)
        return executed, dict(executed.metadata["grading"])
    except Exception:
        return None, {"status": "error", "message": f"the runner failed (exit code {child.returncode}); see {log}"}


def _read_all(fd: int) -> bytes:
    with os.fdopen(fd, "rb") as pipe:
        return pipe.read()


def _descendants(pid: int) -> set[int]:
    import psutil  # a dependency of ipykernel, pinned

    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def _kill_descendants(pid: int, spare: set[int] = frozenset(), seconds: float = 10) -> None:
    """Kill every descendant of ``pid`` except ``spare``: stop them all (a stopped process cannot
    fork), again and again until no new one appears, then kill them."""
    import psutil

    deadline, stopped = time.monotonic() + seconds, {}
    while time.monotonic() < deadline:
        try:
            found = [p for p in psutil.Process(pid).children(recursive=True) if p.pid not in spare]
        except psutil.Error:
            break
        new = [p for p in found if p.pid not in stopped]
        if not new:
            break
        for process in new:
            stopped[process.pid] = process
            with contextlib.suppress(psutil.Error):
                process.suspend()
    for process in stopped.values():
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(list(stopped.values()), timeout=5)


def _become_subreaper() -> bool:
    """Linux: orphaned descendants are re-parented to this process, so none can slip away."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _stop_with_parent() -> None:
    """Linux: when the process that started the runner dies (a Dask worker killed mid-run), the
    runner gets SIGTERM and stops as at a time-out: the kernel and all it started are killed."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    def stop(signum, frame):
        raise SystemExit("the grader that started this runner is gone")

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() == 1:  # it died before we asked
        raise SystemExit("the grader that started this runner is gone")


def _reap_children() -> None:
    """Kill every descendant of this process, then collect their exit statuses."""
    _kill_descendants(os.getpid())
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def _refuse_tracing() -> None:
    """Linux: no process of this user (the kernel runs as the same user) may open this process's
    ``/proc/<pid>/fd/<result fd>`` or ``/proc/<pid>/mem``, or ptrace it, to forge the result. A new
    program (the kernel) is dumpable again: this binds the runner alone."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _execute(result_fd: int, timeout: int, limits: dict | None = None) -> None:
    """The runner (``python -m course_tools.grading.isolate --execute FD TIMEOUT``): the notebook comes on
    stdin; all its cells run; the executed notebook goes to the pipe ``FD``, which the kernel does
    not inherit. ``limits``: in the sandbox, its caps (`sandbox.Sandbox.limits`)."""
    _refuse_tracing()  # before anything of the submission runs

    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if limits is None:
        _become_subreaper()
        _stop_with_parent()
    else:
        from .sandbox import prepare_runner

        prepare_runner(limits)

    class CappedClient(NotebookClient):
        """nbclient, keeping at most OUTPUT_CAP characters of output per cell (errors and tokens always)."""

        def output(self, outs, msg, display_id, cell_index):
            content, kind = msg["content"], msg["msg_type"]
            text = content.get("text", "") if kind == "stream" else ""
            size = len(text) if kind == "stream" else len(json.dumps(content))
            room = OUTPUT_CAP - self.output_sizes.get(cell_index, 0)
            self.output_sizes[cell_index] = OUTPUT_CAP - room + size
            if kind == "error":  # kept, but not a 30 MB message
                content["evalue"] = str(content.get("evalue", ""))[:ERROR_CAP]
                content["traceback"] = [str(line)[:ERROR_CAP] for line in content.get("traceback", [])[:50]]
                return super().output(outs, msg, display_id, cell_index)
            if size <= room:
                return super().output(outs, msg, display_id, cell_index)
            if room > 0:  # the first output over the cap: keep what fits, then say so
                if kind == "stream":
                    content["text"] = text[:room]
                    super().output(outs, msg, display_id, cell_index)
                outs.append(
                    nbformat.v4.new_output(
                        "stream",
                        name="stderr",
                        text=(f"\n[grader: output beyond {OUTPUT_CAP:,} characters was dropped]\n"),
                    )
                )
            token = self.nb.cells[cell_index].metadata.get("grading", {}).get("token")
            if token and token in text:  # a check cell's own lines (its hidden tests' verdicts, its end) are kept
                lines = [line[:TOKEN_LINE_CAP] + "\n" for line in text.splitlines() if token in line][-2:]
                outs.append(nbformat.v4.new_output("stream", name="stdout", text="".join(lines)))
            return None

    def executed(cell, cell_index, execute_reply):  # the kernel's own verdict, even if no error was shown
        cell.metadata.setdefault("grading", {})["reply"] = execute_reply.get("content", {}).get("status")

    os.set_inheritable(result_fd, False)
    with contextlib.suppress(ImportError, ValueError, OSError):  # the kernel inherits it: no disk-filling log
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_CAP, FILE_CAP))
    notebook = nbformat.reads(sys.stdin.buffer.read().decode("utf-8"), as_version=4)
    with open(os.devnull, "rb") as nothing:  # the kernel inherits stdin: give it nothing to read
        os.dup2(nothing.fileno(), 0)
    deadline, running = [], [None]

    def remaining(cell):  # the clock starts with the first cell, not with the kernel
        if not deadline:
            deadline.append(time.monotonic() + timeout)
        return max(1, deadline[0] - time.monotonic())

    def starting(cell, cell_index):  # remember the cell that runs, in case the run stops there
        running[0] = cell_index

    data = os.environ.get("COURSE_DATA_DIR")
    if data:  # the kernel runs elsewhere: a relative data folder must still point here
        os.environ["COURSE_DATA_DIR"] = str(Path(data).expanduser().resolve())
    status, message, reason, start = "ok", "", "", time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="grading-kernel-") as kernels,
        tempfile.TemporaryDirectory(prefix="grading-cwd-", ignore_cleanup_errors=True) as cwd,
    ):
        # Run the kernel of THIS Python, even if a user-wide "python3" kernel points elsewhere.
        spec = Path(kernels, "kernels", "python3")
        spec.mkdir(parents=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"}))
        os.environ["JUPYTER_PATH"] = kernels
        client = CappedClient(
            notebook,
            kernel_name="python3",
            allow_errors=True,
            timeout_func=remaining,
            shutdown_kernel="immediate",
            on_cell_execute=starting,
            on_cell_executed=executed,
            resources={"metadata": {"path": cwd}},
        )
        client.output_sizes = {}
        try:
            client.execute()
        except CellTimeoutError:
            status, message, reason = "timeout", f"timed out after {timeout} s", "the time limit ran out"
        except DeadKernelError:
            status, reason = "error", "the kernel died"
            message = "the kernel died (out of memory, or the code exited Python)"
        except Exception as err:
            status, message, reason = "error", f"{type(err).__name__}: {err}", "the run failed"
        finally:
            if limits is None:  # in the sandbox, its PID namespace does this when the runner ends
                _reap_children()  # whatever the code started, in any session, before its folder goes
    if limits is not None:
        from .sandbox import cap_note

        died = reason == "the kernel died"
        note = cap_note(notebook, limits, kernel_died=died)
        message = note if note and died else "; ".join(filter(None, [message, note]))  # why it died, if known
    notebook.metadata["grading"] = {
        "status": status,
        "message": message,
        "reason": reason,
        "stopped_at": running[0],
        "seconds": round(time.monotonic() - start, 1),
    }
    with os.fdopen(result_fd, "wb") as result:
        result.write(nbformat.writes(notebook).encode("utf-8"))


if __name__ == "__main__":  # the runner that run_isolated starts; instructors use `course grade`
    if len(sys.argv) not in (4, 9) or sys.argv[1] != "--execute" or sys.argv[4:5] not in ([], ["--limits"]):
        sys.exit(
            "usage: python -m course_tools.grading.isolate --execute RESULT_FD TIMEOUT "
            "[--limits MEMORY CPU PROCESSES ADDRESS] (`course grade`)"
        )
    names = ("memory", "cpu", "processes", "address")  # `sandbox.Sandbox.limits`, in its order
    caps = dict(zip(names, map(int, sys.argv[5:]), strict=True)) if sys.argv[5:] else None
    _execute(int(sys.argv[2]), int(sys.argv[3]), caps)
