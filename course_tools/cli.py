"""The ``course`` command: run lessons, sweep parameters, check the setup, build and grade exercises.

course run [NOTEBOOK...] [-p NAME VALUE]... [--quick] [--out DIR [--replace]]
course sweep NOTEBOOK -p NAME V1 V2 ... [--seeds N] [--workers N] [--scheduler ADDRESS] [--out DIR]
             [--quick] [--reuse-stale] [--mlflow URI]
course params NOTEBOOK
course doctor
course exercises [--check]
course grade SUBMISSION... [--solutions DIR] [--timeout S] [--out gradebook.csv] [--sandbox | --no-sandbox]
             [--roster CSV] [--policy TOML] [--deadline WHEN] [--manifest CSV] [--db PATH] [--regrade]
             [--memory-cap GIB] [--cpu-cap S] [--process-cap N]
             [--workers N] [--scheduler ADDRESS]
course feedback [--db PATH] [--out DIR]   (one HTML page per student and exercise, and an index)
course export --format canvas|csv|moodle [--db PATH] [--out FILE] [--replace] [--assignment-id EXERCISE=ID]...
course similarity SUBMISSION... [--solutions DIR] [--roster roster.csv] [--out similarity.html] [--threshold 0.9]
course lessons [NOTEBOOK...]          (authors: re-execute committed notebooks in place)
course alt [NOTEBOOK...]              (authors: copy the figures' descriptions into the outputs, no execution)
course site [--out DIR] [--no-solutions]  (the course's web site, from the executed notebooks)
course release OUT [--replace]        (the student copy: lessons, exercises, sealed checks; no solutions)
course colab [NOTEBOOK...]            (authors: write the Colab set-up cell into the notebooks)
course screenshots [--out FILE]       (authors: lesson 12's drawing pad in use, drawn in Chromium, as a PNG)
course bench [--quick] [--no-lessons] [--out FILE] [--docs] [--from FILE]
                                      (how fast the course runs here: a table and build/bench.json)
course test-times [--from FILE]       (authors: commit the last `make test`'s seconds per file, and their table)
course canary [--stack newest|colab]... (authors: the course on the newest releases and on Colab's; reports)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _lesson_notebooks() -> list[Path]:
    from . import course_folder

    return sorted(course_folder("notebooks").glob("[0-9]*.ipynb"))


def cmd_run(args) -> int:
    from .runner import ParameterError, execute, format_table, notebook_parameters, validate_parameters

    notebooks = [Path(n) for n in args.notebooks] or _lesson_notebooks()
    if not notebooks:
        print("no notebooks found; run from the course folder or name them", file=sys.stderr)
        return 2
    overrides = dict(args.param or [])
    if args.quick:
        overrides["quick"] = "True"
    # Validate every notebook's parameters before running any, so a typo costs nothing. A
    # parameter applies to the notebooks that declare it (lessons 1 and 3 train nothing, so they
    # have no `epochs`); one that no notebook declares is refused.
    typed = {}
    try:
        declared = {nb: notebook_parameters(nb) for nb in notebooks}
        for name in overrides:
            if not any(name in params for params in declared.values()):
                validate_parameters(notebooks[0], {name: overrides[name]})  # raises, listing the parameters
        for nb in notebooks:
            mine = {k: v for k, v in overrides.items() if k in declared[nb]}
            typed[nb] = validate_parameters(nb, mine)
            skipped = sorted(set(overrides) - set(mine))
            if skipped and len(notebooks) > 1:
                print(f"note: {nb.name} has no parameter {', '.join(skipped)}; running it without")
    except (ParameterError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = _run_folder(args.out, args.replace)
    if out is None:
        return 2
    results = []
    for nb in notebooks:
        print(f"running {nb.name} {typed[nb] or ''}".rstrip(), flush=True)
        result = execute(nb, out / nb.name, typed[nb], timeout=args.timeout)
        results.append(result)
        print(f"  {result.status} in {result.seconds:.1f}s" + (f": {result.error}" if result.error else ""), flush=True)
    summary = out / "summary.json"
    summary.write_text(json.dumps([r.to_dict() for r in results], indent=2, default=str))
    print()
    print(format_table(results))
    print(f"\nexecuted notebooks and summary.json are in {out}/")
    return 0 if all(r.status == "ok" for r in results) else 1


def _run_folder(given: str | None, replace: bool) -> Path | None:
    """Where a run's executed notebooks go: a new folder ``build/run/<date>_<time>`` per run, so that
    a second run never overwrites the first; a given folder that holds a run only with ``replace``."""
    if given is None:
        from datetime import datetime

        stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
        out, n = Path("build/run") / stamp, 1
        while out.exists():
            n += 1
            out = Path("build/run") / f"{stamp}-{n}"
        return out
    out = Path(given)
    if (out / "summary.json").exists() and not replace:
        print(
            f"error: {out} holds an earlier run (its summary.json): "
            "give another --out, or add --replace to overwrite it",
            file=sys.stderr,
        )
        return None
    return out


def cmd_params(args) -> int:
    from .runner import describe_parameters

    print(describe_parameters(args.notebook))
    return 0


def cmd_sweep(args) -> int:
    from .cluster import ClusterError
    from .runner import ParameterError
    from .sweep import SweepFolderError, run_sweep
    from .sweep_report import format_summary, plot_sweep
    from .tracking import TrackingError

    values = {}
    for name, *vals in args.param or []:
        if not vals:
            print(f"error: -p {name} needs at least one value", file=sys.stderr)
            return 2
        if name in values:
            print(f"error: -p {name} is given twice: give it once, with all its values", file=sys.stderr)
            return 2
        values[name] = vals
    if args.seeds is not None:
        if "seed" in values:
            print("error: give the seeds once: -p seed ... or --seeds N, not both", file=sys.stderr)
            return 2
        if args.seeds < 1:
            print(f"error: --seeds needs a positive number of seeds, not {args.seeds}", file=sys.stderr)
            return 2
        values["seed"] = [str(i) for i in range(args.seeds)]
    out = Path(args.out or Path("build/sweeps") / Path(args.notebook).stem)
    try:
        table = run_sweep(
            args.notebook,
            values,
            out,
            workers=args.workers,
            timeout=args.timeout,
            quick=args.quick,
            scheduler=args.scheduler,
            reuse_stale=args.reuse_stale,
            mlflow=args.mlflow,
        )
    except (ParameterError, FileNotFoundError, ClusterError, SweepFolderError, TrackingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    figures = plot_sweep(table, list(values), out)
    shown = table.drop(columns=["notebook"] + ([] if table["stale"].any() else ["stale"]))
    print(shown.to_string(index=False))
    print("\nper configuration:")
    from .sweep_report import summarize

    print(format_summary(summarize(table, list(values)), list(values), table))
    print(
        f"\nresults: {out / 'results.csv'}; summary: {out / 'summary.csv'}; "
        f"figures: {', '.join(str(f) for f in figures) or 'none'}"
    )
    return 0 if (table["status"] == "ok").all() else 1


def cmd_doctor(args) -> int:
    import platform

    import torch
    import torchvision

    from course_utils.datafiles import DATASETS, can_download, data_root, verify_split
    from course_utils.repro import get_device

    print(f"python       {platform.python_version()} ({sys.executable})")
    print(f"torch        {torch.__version__}, torchvision {torchvision.__version__}")
    print(f"threads      {torch.get_num_threads()}")
    print("device       ", end="")
    get_device()
    root = data_root()
    from_env = "COURSE_DATA_DIR" in os.environ
    print(f"data root    {root} ({'from COURSE_DATA_DIR' if from_env else 'default; set COURSE_DATA_DIR to change'})")
    ok, mirrors = True, {}
    for name in DATASETS:
        for train in (True, False):
            problems = verify_split(name, train, root)
            split = "train" if train else "test"
            missing = bool(problems) and all(p.startswith("missing") for p in problems)
            if missing and name not in mirrors:
                mirrors[name] = can_download(name)  # asked once per dataset, only when a file is missing
            if not problems:
                print(f"  {name:<14} {split:<5} present: found and verified")
            elif missing and mirrors[name]:
                print(
                    f"  {name:<14} {split:<5} downloadable: not here yet; torchvision fetches it from {mirrors[name]}"
                )
            else:
                reason = "missing, and no mirror answers" if missing else "BAD"
                print(f"  {name:<14} {split:<5} {reason}: {problems[0]}")
                ok = False  # lesson 10 needs Fashion-MNIST as much as every lesson needs MNIST
    if not all(mirrors.values()):
        print("offline fix: set COURSE_DATA_DIR to a folder holding the files (the error of a failed load lists them)")
    print("all good" if ok else "a dataset is not usable: see above")
    return 0 if ok else 1


def cmd_exercises(args) -> int:
    from .exercises import build_all

    return build_all(check=args.check)


def cmd_grade(args) -> int:
    from .grading import grade_main

    return grade_main(
        args.submissions,
        timeout=args.timeout,
        out=args.out,
        work=args.work,
        solutions=args.solutions,
        sandbox=args.sandbox,
        scheduler=args.scheduler,
        workers=args.workers,
        roster=args.roster,
        deadline=args.deadline,
        policy=args.policy,
        manifest=args.manifest,
        db=args.db,
        regrade=args.regrade,
        caps={"memory_gib": args.memory_cap, "cpu_seconds": args.cpu_cap, "processes": args.process_cap},
    )


def cmd_feedback(args) -> int:
    from .grading.feedback import feedback_main

    return feedback_main(args.db, args.out)


def cmd_export(args) -> int:
    from .grading.export import export_main

    return export_main(args.db, args.format, args.out, args.replace, args.assignment_id)


def cmd_similarity(args) -> int:
    from .grading.similarity import similarity_main

    return similarity_main(args.submissions, args.solutions, args.roster, args.out, args.threshold)


def cmd_lessons(args) -> int:
    from .lessons import lessons_main

    return lessons_main(args.notebooks)


def cmd_alt(args) -> int:
    from .alt_text import alt_main

    return alt_main(args.notebooks)


def cmd_colab(args) -> int:
    from .colab import colab_main

    return colab_main(args.notebooks)


def cmd_site(args) -> int:
    from .site import site_main

    return site_main(args.out, solutions=not args.no_solutions)


def cmd_release(args) -> int:
    from .release import release_main

    return release_main(args.out, replace=args.replace)


def cmd_screenshots(args) -> int:
    from .screenshots import screenshots_main

    return screenshots_main(args.out)


def cmd_bench(args) -> int:
    from course_utils.datafiles import DataError

    from .bench import ColdStartError, bench_main, report_from

    if args.source:
        return report_from(args.source, docs=args.docs)
    try:
        return bench_main(quick=args.quick, out=args.out, lessons=not args.no_lessons, docs=args.docs)
    except (DataError, ColdStartError) as err:  # no data, or a cold-start process that failed: say which
        print(f"error: {err}", file=sys.stderr)
        return 2


def cmd_test_times(args) -> int:
    from .doc_tables import refresh_test_times

    return refresh_test_times(args.source)


def cmd_canary(args) -> int:
    from .canary import STACKS, canary

    return canary(args.stack or list(STACKS))


def _scheduler_option(parser) -> None:
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="a Dask scheduler (tcp://HOST:PORT or tls://...) to run on; default $DASK_SCHEDULER_ADDRESS, "
        "else a local cluster on 127.0.0.1 of --workers processes",
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="course", description="Run, sweep and grade the CNNs-on-MNIST course.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute lesson notebooks with papermill (all lessons by default)")
    p.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    p.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="set a parameter (checked against the notebook's parameters cell)",
    )
    p.add_argument("--quick", action="store_true", help="smoke run: tiny subset, 1 epoch")
    p.add_argument(
        "--out", default=None, help="folder for executed copies (default: a new build/run/<date>_<time> per run)"
    )
    p.add_argument("--replace", action="store_true", help="overwrite an earlier run in --out")
    p.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("params", help="list a notebook's parameters, types and defaults")
    p.add_argument("notebook")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("sweep", help="run a notebook over a grid of parameters")
    p.add_argument("notebook")
    p.add_argument(
        "-p",
        "--param",
        nargs="+",
        action="append",
        metavar="NAME VALUE",
        help="a parameter and the values to try, e.g. -p seed 0 1 2",
    )
    p.add_argument("--workers", type=int, default=1, help="parallel runs (each gets cores/N threads)")
    _scheduler_option(p)
    p.add_argument("--seeds", type=int, default=None, metavar="N", help="shorthand for -p seed 0 1 ... N-1")
    p.add_argument("--out", default=None, help="folder for results (default build/sweeps/<notebook>)")
    p.add_argument(
        "--reuse-stale",
        action="store_true",
        help="keep finished runs made from other code (notebook, course_utils, libraries), marked stale",
    )
    p.add_argument(
        "--mlflow",
        metavar="URI",
        default=None,
        help="log every run to this MLflow tracking URI (default $MLFLOW_TRACKING_URI; none: no MLflow)",
    )
    p.add_argument("--quick", action="store_true", help="smoke runs: tiny subset, 1 epoch")
    p.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("doctor", help="check versions, device and data")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("exercises", help="generate exercises/ from solutions/")
    p.add_argument("--check", action="store_true", help="fail if exercises/ is out of date")
    p.set_defaults(func=cmd_exercises)

    p = sub.add_parser("grade", help="grade submitted exercise notebooks into a gradebook")
    p.add_argument("submissions", nargs="+", help="notebooks or folders of notebooks")
    p.add_argument("--timeout", type=int, default=300, help="seconds allowed per submission")
    p.add_argument("--out", default="gradebook.csv")
    p.add_argument("--work", default="build/grading", help="folder for executed copies")
    p.add_argument(
        "--solutions",
        metavar="DIR",
        help="solution notebooks to grade against, e.g. a private copy with hidden tests (default: solutions/)",
    )
    sandbox = p.add_mutually_exclusive_group()
    sandbox.add_argument(
        "--sandbox",
        action="store_const",
        const="require",
        default="auto",
        help="stop unless the sandbox (bubblewrap: no network, no files but the course's packages and the data) "
        "works here; by default it is used where it works",
    )
    sandbox.add_argument(
        "--no-sandbox", dest="sandbox", action="store_const", const="off", help="grade without the sandbox"
    )
    p.add_argument("--memory-cap", type=float, default=4.0, metavar="GIB", help="sandbox: memory per process")
    p.add_argument("--cpu-cap", type=int, metavar="S", help="sandbox: CPU seconds per process (2 x timeout x threads)")
    p.add_argument("--process-cap", type=int, metavar="N", help="sandbox: processes and threads (64 + 4 per thread)")
    p.add_argument("--workers", type=int, default=1, help="submissions graded at once (each gets cores/N threads)")
    p.add_argument("--roster", metavar="CSV", help="student_id,name,email,section (default: the roster last used)")
    p.add_argument(
        "--deadline",
        metavar="WHEN",
        help="ISO 8601, e.g. 2026-10-01T23:59+02:00: the deadline of the exercises graded now that have none yet",
    )
    p.add_argument("--policy", metavar="TOML", help="the late policy: deadlines, penalty per day, cut-off")
    p.add_argument("--manifest", metavar="CSV", help="file,submitted_at: the submission times (default: file times)")
    p.add_argument("--db", metavar="PATH", help="the SQLite gradebook (default: WORK/gradebook.sqlite)")
    p.add_argument("--regrade", action="store_true", help="grade again what the gradebook holds already")
    _scheduler_option(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("feedback", help="write one HTML feedback page per student and exercise, from the gradebook")
    p.add_argument("--db", default="build/grading/gradebook.sqlite", help="the gradebook (default %(default)s)")
    p.add_argument("--out", default=None, help="folder for the pages (default build/feedback)")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("export", help="write the gradebook for an LMS: Canvas's import CSV, a plain CSV, or Moodle's")
    p.add_argument("--format", required=True, choices=["canvas", "csv", "moodle"])
    p.add_argument("--db", default="build/grading/gradebook.sqlite", help="the gradebook (default %(default)s)")
    p.add_argument("--out", default=None, help="the CSV file to write (default build/export/FORMAT.csv)")
    p.add_argument("--replace", action="store_true", help="overwrite an --out file that is not an earlier export")
    p.add_argument(
        "--assignment-id",
        action="append",
        metavar="EXERCISE=ID",
        help="canvas: the Canvas assignment an exercise's column goes to (the number in its address)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "similarity",
        help="list answer cells that are identical or near-identical across students (a list to read, no penalty)",
    )
    p.add_argument("submissions", nargs="+", help="notebooks or folders of notebooks (searched recursively)")
    p.add_argument("--solutions", metavar="DIR", help="solution notebooks (default: solutions/)")
    p.add_argument("--roster", metavar="CSV", help="the roster: name each student by id and name")
    p.add_argument("--out", default="similarity.html", help="the report (a CSV of the pairs goes beside it)")
    p.add_argument(
        "--threshold", type=float, default=0.9, help="how alike two answers must be to be listed as near (0-1)"
    )
    p.set_defaults(func=cmd_similarity)

    p = sub.add_parser("lessons", help="authors: re-execute committed notebooks in place, from a fresh kernel")
    p.add_argument("notebooks", nargs="*", help="notebooks (default: every lesson and solution)")
    p.set_defaults(func=cmd_lessons)

    p = sub.add_parser(
        "alt",
        help="authors: copy each figure's description (cell metadata course.alt) into its outputs, without "
        "executing; the exit status is 1 when a lesson figure has none or a bad one",
    )
    p.add_argument("notebooks", nargs="*", help="notebooks (default: every lesson and solution)")
    p.set_defaults(func=cmd_alt)

    p = sub.add_parser("colab", help="authors: write the Colab set-up cell after each notebook's parameters cell")
    p.add_argument("notebooks", nargs="*", help="notebooks (default: every lesson and solution)")
    p.set_defaults(func=cmd_colab)

    p = sub.add_parser("site", help="build the course's web site (Jupyter Book) into build/site/")
    p.add_argument("--out", default=None, help="folder for the site (default build/site)")
    p.add_argument("--no-solutions", action="store_true", help="a class site: no solution pages and no links to them")
    p.set_defaults(func=cmd_site)

    p = sub.add_parser(
        "release",
        help="write the student copy of the course into OUT: lessons, exercises, course_utils with its checks "
        "sealed, set-up files, a README; no solutions, no hidden tests, no grader",
    )
    p.add_argument("out", metavar="OUT", help="a new or empty folder outside the course's tracked folders")
    p.add_argument("--replace", action="store_true", help="replace an earlier release in OUT")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser(
        "screenshots",
        help="authors: draw a digit on lesson 12's pad in JupyterLab and Chromium, save the picture the lesson shows",
    )
    p.add_argument("--out", default=None, help="where to write the PNG (default notebooks/figures/12_drawpad.png)")
    p.set_defaults(func=cmd_screenshots)

    p = sub.add_parser(
        "bench",
        help="measure training, evaluation, start-up and every lesson's run time here (a target that does not "
        "hold is reported, not an error; the exit status is non-zero when a lesson fails)",
    )
    p.add_argument(
        "--quick", action="store_true", help="about half a minute: 4,096 images a repeat, 2,000 test images, no lessons"
    )
    p.add_argument("--no-lessons", action="store_true", help="leave out running the lessons (the longest part)")
    p.add_argument("--out", default=None, help="where to write the JSON (default build/bench.json)")
    p.add_argument(
        "--docs",
        action="store_true",
        help="also write the tables into docs/authors.md, quoting the run (--out benchmarks/NAME.json)",
    )
    p.add_argument("--from", dest="source", metavar="FILE", help="report this earlier run instead of measuring")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "test-times",
        help="authors: after `make test`, copy its seconds per file to tests/test-durations.json and write "
        "their table in docs/authors.md",
    )
    p.add_argument("--from", dest="source", metavar="FILE", help="another run's seconds (build/test-durations.json)")
    p.set_defaults(func=cmd_test_times)

    p = sub.add_parser("canary", help="authors: run the course on the newest releases and on Colab's (downloads)")
    p.add_argument("--stack", action="append", choices=["newest", "colab"], help="one stack (default: both)")
    p.set_defaults(func=cmd_canary)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ModuleNotFoundError as err:
        if not (err.name or "").startswith(f"{__package__}."):
            raise
        # the student copy (`course release`) carries only what doctor, run and params need
        print(f"course {args.command} is not part of this copy of the course", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
