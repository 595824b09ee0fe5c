"""``course grade``: `grade_main` checks every input before it grades anything, then grades what is new.

The inputs: the solutions, the sandbox (`sandbox.choose`), the roster and the late policy
(`roster`; the store's when this run gives none), the store (`store`), the collection of the
submissions and the hand scores filled in the written answers (`sheets`). A bad one is one line
``error: ...`` and exit code 2, with nothing recorded changed. Then the store is backed up
(``gradebook.sqlite.bak``), `dask_run.grade_new` grades what the store lacks, and the gradebook is
written from the store; the written answers last, after reading again the scores typed into them
while grading ran. See docs/grading.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from .assemble import _sha256, check_sources, exercise_id, find_solution
from .dask_run import Job, Run, copy_name, grade_new, write_sheets
from .records import Grade
from .sandbox import SandboxError
from .sandbox import choose as choose_sandbox
from .sheets import ScoreError, read_scores, write_gradebook
from .store import Gradebook, GradebookError, course_hash, result_key

WRITTEN_ANSWERS = "written_answers.csv"


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _solution_for(path: Path, raw: bytes, solutions_dir: Path) -> Path | None:
    """The solution `find_solution` picks for these bytes; for a file that is no notebook, the one its
    name points to (its row then names the exercise it failed)."""
    try:
        notebook = nbformat.from_dict(json.loads(raw.decode("utf-8")))  # no validation: only the metadata counts
        notebook.metadata  # noqa: B018 - JSON that is no notebook fails here
    except Exception:
        notebook = nbformat.v4.new_notebook()
    try:
        return find_solution(path, notebook, solutions_dir)
    except Exception:
        return None


def _exercise_of(solution: Path, text: str) -> str:
    """A solution's exercise id (its file's stem when it has none)."""
    try:
        return exercise_id(json.loads(text).get("metadata", {})) or solution.stem
    except (ValueError, AttributeError):
        return solution.stem


def _jobs(found, raws: dict, solutions_dir: Path, solutions: dict, exercises: dict, timeout: int, sandbox) -> list[Job]:
    """Each file's `Job`, with its key (`store.result_key`) and its exercise's check files.
    ``solutions``: {path: text}, ``exercises``: {path: exercise id} of every solution."""
    course = course_hash()
    check_files, jobs = {}, []  # read once per exercise: what the course (and the hidden tests) hold now
    for submission in found:
        solution = _solution_for(submission.path, raws[submission.path], solutions_dir)
        text, exercise = (solutions[solution], exercises[solution]) if solution else ("", "")
        if exercise not in check_files:
            check_files[exercise] = check_sources(exercise, solutions_dir) if solution else {}
        job = Job(submission, raws[submission.path], solution, exercise, check_files[exercise])
        job.key = result_key(job.raw, text, job.checks, course, timeout, sandbox)
        jobs.append(job)
    return jobs


def _policy_json(policy) -> str:
    """A `roster.LatePolicy` as the store keeps it."""
    data = dataclasses.asdict(policy)
    data["deadline"] = policy.deadline.isoformat() if policy.deadline else None
    data["deadlines"] = {name: when.isoformat() for name, when in policy.deadlines.items()}
    return json.dumps(data)


def _given_policy(policy, deadline: str | None, exercises: set[str]):
    """(the late policy of ``--policy``, or None; the ``--deadline``, or None), read and checked."""
    from .roster import RosterError, parse_deadline, read_policy

    due = parse_deadline(deadline, "--deadline") if deadline else None
    if policy is None:
        return None, due
    try:
        return read_policy(policy, None, exercises), due
    except RosterError:
        if due is None:
            raise
        # a penalty without a deadline is fine with --deadline: checked with it, the file's own deadline kept
        return dataclasses.replace(read_policy(policy, deadline, exercises), deadline=None), due


def _late_policy(stored: str | None, given, due: datetime | None, graded: set[str]):
    """The late policy of this run (the one given, else the one the store last used, else none:
    nobody is late) and the exercises that keep their own deadline against ``--deadline``.

    ``due`` (``--deadline``) becomes the deadline of the exercises ``graded`` now that have none of
    their own yet (``deadlines``), never of the others: week 2's ``--deadline``, with week 1's files
    graded again, leaves week 1's lateness as it was. A policy file's ``[deadlines]`` changes one."""
    from .roster import LatePolicy

    policy = given
    if policy is None:
        policy = LatePolicy()
        if stored:
            data = json.loads(stored)
            data["deadline"] = datetime.fromisoformat(data["deadline"]) if data["deadline"] else None
            data["deadlines"] = {name: datetime.fromisoformat(when) for name, when in data["deadlines"].items()}
            policy = LatePolicy(**data)
    if due is None:
        return policy, []
    kept = sorted(name for name in graded if name in policy.deadlines and policy.deadlines[name] != due)
    new = {name: due for name in sorted(graded) if name not in policy.deadlines}
    return dataclasses.replace(policy, deadlines={**policy.deadlines, **new}), kept


def _manifest_times(submissions, manifest) -> dict[Path, datetime]:
    """The manifests' times, as `roster.collect` reads them: for the files no roster line matched,
    which it lists without their times."""
    from .roster import MANIFEST_NAME, read_manifest

    times = {}
    for folder in map(Path, submissions):
        if (folder / MANIFEST_NAME).is_file():
            times |= read_manifest(folder / MANIFEST_NAME)
    if manifest is not None:
        times |= read_manifest(Path(manifest))
    return times


def _content(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def grade_main(
    submissions,
    timeout: int = 300,
    out="gradebook.csv",
    work="build/grading",
    solutions=None,
    sandbox: str = "auto",
    scheduler: str | None = None,
    workers: int = 1,
    caps: dict | None = None,
    roster=None,
    deadline: str | None = None,
    policy=None,
    manifest=None,
    db=None,
    regrade: bool = False,
) -> int:
    """``course grade``: grade what is new, record it in the store, write the gradebook from it.

    ``roster``: the roster CSV (default: the one the store last used, if any); ``policy``: the late
    policy (`roster.read_policy`; default: the one the store last used); ``deadline``: the deadline
    of the exercises this run grades (the others keep theirs); ``manifest``: the submission times; ``db``:
    the store (default ``WORK/gradebook.sqlite``); ``regrade``: grade even what the store holds.
    ``scheduler``: a Dask scheduler's address (else ``$DASK_SCHEDULER_ADDRESS``, else a local
    cluster of ``workers`` processes, each kernel with cores // workers threads); none starts when
    every submission's result is in the store. ``sandbox``: ``"auto"``, ``"require"``
    (``--sandbox``) or ``"off"`` (``--no-sandbox``), ``caps`` its ``memory_gib``, ``cpu_seconds``
    and ``processes`` (`sandbox.choose`).
    Returns 0 when the gradebook is written, 1 if a submission changed while grading (it must
    not), 2 for a bad input (a path that does not exist, a roster, policy, manifest or hand score
    that cannot be used, a --db that is no gradebook, no solutions to grade against), when
    --sandbox cannot work here (with these 2s nothing is graded and nothing recorded is changed),
    when the cluster cannot grade (no scheduler, a worker without the course: this run's roster,
    policy and hand scores are saved by then, and every result that came back), when the store
    cannot be written, or when scores typed into the written answers while grading cannot be read
    (that file is then left as it is; the gradebook is written).
    """
    from .. import course_folder
    from .roster import RosterError, Submission, collect, read_roster

    solutions_dir = Path(solutions) if solutions else course_folder("solutions")
    if not any(solutions_dir.glob("*.ipynb")):
        return _error(f"no solution notebooks in {solutions_dir}")
    try:
        sandbox = choose_sandbox(sandbox, **(caps or {}))  # says once which, on stdout or stderr
    except SandboxError as err:
        return _error(str(err))
    work, out = Path(work), Path(out)
    # beside the gradebook, named after it unless it has the default name: two runs never share one
    written = out.with_name(WRITTEN_ANSWERS if out.name == "gradebook.csv" else f"{out.stem}_{WRITTEN_ANSWERS}")
    solution_texts = {p: p.read_text(encoding="utf-8") for p in sorted(solutions_dir.glob("*.ipynb"))}
    exercises = {path: _exercise_of(path, text) for path, text in solution_texts.items()}
    try:
        students = read_roster(roster) if roster else None
        given_policy, due = _given_policy(policy, deadline, set(exercises.values()))
        gradebook = Gradebook(db or work / "gradebook.sqlite")
    except (RosterError, GradebookError) as err:
        return _error(str(err))
    with gradebook:
        try:  # the roster and the late policy last given, unless this run gives them
            students = students if students is not None else gradebook.students() or None
            collection = collect(submissions, students, manifest)
            times = _manifest_times(submissions, manifest) if collection.unmatched else {}
        except (RosterError, GradebookError) as err:
            return _error(str(err))
        found = list(collection.submissions)  # unmatched files are graded too, under no student
        for path in collection.unmatched:
            if path.resolve() in times:
                found.append(Submission(path, "", times[path.resolve()], "manifest"))
            else:
                found.append(Submission(path, "", datetime.fromtimestamp(path.stat().st_mtime, UTC)))
        if not found:
            return _error("no notebooks to grade")
        raws = {s.path: s.path.read_bytes() for s in found}  # read once; the workers get these bytes, never the file
        protected = {path.resolve() for path in raws}
        for option, target in (("--out", out), ("the written answers", written), ("--db", gradebook.path)):
            if target.resolve() in protected:
                return _error(f"{option} {target} is one of the submissions")
        jobs = _jobs(found, raws, solutions_dir, solution_texts, exercises, timeout, sandbox)
        copies = {job.key: copy_name(work, job) for job in jobs}
        if any(copy.resolve() in protected for copy in copies.values()):
            return _error(f"an executed copy in {work} would overwrite a submission; use another --work")
        try:
            graded = {job.exercise for job in jobs if job.exercise}
            late_policy, kept = _late_policy(gradebook.setting("policy"), given_policy, due, graded)
            typed = _content(written)
            scores = read_scores(written, gradebook.grades(), gradebook.scores())
        except (ScoreError, GradebookError) as err:
            return _error(str(err))
        print(f"late policy: {late_policy.summary()}")
        if kept:
            print(
                f"--deadline does not change the deadline {', '.join(kept)} already had"
                " (set by an earlier run); give it in a --policy file's [deadlines] to change it"
            )
        try:  # every input is good: from here on the store changes
            gradebook.backup()
            if roster:
                gradebook.set_roster(students)
            if given_policy is not None or due is not None:
                gradebook.set_setting("policy", _policy_json(late_policy))
            gradebook.save_scores(scores)
            work.mkdir(parents=True, exist_ok=True)
            run = Run(
                gradebook,
                late_policy,
                solutions_dir,
                solution_texts,
                work,
                out,
                written,
                timeout,
                sandbox,
                scheduler,
                workers,
                regrade,
            )
            code = grade_new(run, jobs, copies)
            if code:
                return code
            dropped, absent = gradebook.forget_absent(submissions), gradebook.absent()
            if _content(written) != typed:  # scores typed in while grading ran: saved before the file is rewritten
                try:
                    gradebook.save_scores(read_scores(written, gradebook.grades(), gradebook.scores()))
                except ScoreError as err:
                    write_gradebook(gradebook.grades(), out, gradebook.students())
                    return _error(f"{err} (typed in while grading ran: {written} is left as it is)")
            grades = write_sheets(gradebook, out, written)
            unapplied = gradebook.unapplied_scores(grades)
        except GradebookError as err:
            return _error(str(err))
    _summary(grades, collection, out, written, work)
    _store_notes(dropped, absent, unapplied)
    changed = [str(p) for p, raw in raws.items() if _sha256(p) != hashlib.sha256(raw).hexdigest()]
    if changed:
        print(f"error: these submissions changed while grading: {', '.join(changed)}", file=sys.stderr)
        return 1
    return 0


def _store_notes(dropped: list[str], absent: list[str], unapplied: list) -> None:
    """What the store kept or dropped that the gradebook does not show: files gone from the folders
    graded, files not on disk elsewhere (their grades kept), hand scores of no answer."""
    if dropped:
        count = len(dropped)
        print(f"\n{count} file{'s' * (count != 1)} gone from the folders graded: dropped from the gradebook")
    if absent:
        count = len(absent)
        print(f"\n{count} graded file{'s' * (count != 1)} not on disk (outside the folders graded): grades kept")
        for path in absent[:10]:
            print(f"  {path}")
    if unapplied:
        count = len(unapplied)
        print(f"\n{count} hand score{'s' * (count != 1)} match{'es' * (count == 1)} no answer (kept in the store):")
        for score in unapplied[:10]:
            print(f"  {score.owner}, {score.exercise}, task {score.task}: {score.score}")


def _summary(grades: list[Grade], collection, out: Path, written: Path, work: Path) -> None:
    """What an instructor must act on: unmatched files, students with nothing submitted."""
    nobody = {grade.submission for grade in grades if not grade.student_id}  # nor in an earlier run
    unmatched = [path for path in collection.unmatched if str(path.absolute()) in nobody]
    if unmatched:
        count = len(unmatched)
        print(f"\n{count} file{'s' * (count != 1)} matched no roster line (graded, under no student):")
        for path in unmatched:
            print(f"  {path}")
    missing = {}
    for grade in grades:
        if grade.status == "missing":
            missing.setdefault(grade.exercise, []).append(grade.student_id)
    for exercise, who in sorted(missing.items()):
        print(f"\n{exercise}: nothing submitted by {len(who)} student{'s' * (len(who) != 1)}: {', '.join(who)}")
    print(f"\ngradebook: {out}; written answers: {written}; executed copies: {work}/")
