"""What a semester's gradebook holds, as plain data: students, graded submissions, their tasks and checks.

The SQLite store (`store`) saves and loads these; the CSV gradebook, the feedback pages
(`feedback`) and the LMS exports (`export`) are written from them, never from each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Student:
    """One line of the roster: ``student_id,name,email,section`` (required header), and optionally
    ``sis_login`` and ``canvas_id`` (Canvas's numeric user id, which its downloads and imports use)."""

    student_id: str  # the school's id: Canvas's "SIS User ID"
    name: str
    email: str = ""
    section: str = ""
    sis_login: str = ""
    canvas_id: str = ""


@dataclass
class CheckResult:
    """One visible check (a task's check function, by its title) or one hidden test (by its name)."""

    name: str
    kind: str  # "visible" or "hidden"
    passed: bool
    hint: str = ""  # why it failed, one line; never the hidden test's code
    points: float = 0.0  # earned; only hidden tests that declare points give partial credit
    max_points: float = 0.0


@dataclass
class TaskResult:
    """One task of one graded submission."""

    task: int
    passed: bool
    points: float  # earned, before any late penalty
    max_points: float
    hint: str = ""  # the first reason it failed ('' when it passed)
    checks: list[CheckResult] = field(default_factory=list)


@dataclass
class WrittenAnswer:
    """A written answer, graded by hand: ``score`` stays None until the instructor fills it in."""

    task: int | str
    question: str
    answer: str
    placeholder: bool
    score: float | None = None
    max_points: float = 1.0
    comment: str = ""


@dataclass
class Grade:
    """One student's result for one exercise (or one submission no roster line matched).

    ``status``: ok / timeout / error (from the run) or missing (nothing submitted).
    """

    exercise: str  # the exercise id, e.g. "ablations"
    student_id: str = ""  # the roster's id; '' for an unmatched submission or without a roster
    submission: str = ""  # the submitted file's path; '' when missing
    status: str = "missing"
    seconds: float = 0.0
    submitted_at: str = ""  # ISO 8601 with time zone; '' when missing
    late_days: float = 0.0  # whole or part days after the deadline (0: on time)
    penalty: float = 0.0  # fraction of the points taken off for lateness (1.0: past the cut-off)
    tasks: list[TaskResult] = field(default_factory=list)
    written: list[WrittenAnswer] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)  # one line per failed task and run problem
    review: list[str] = field(default_factory=list)  # why a person should read this submission

    @property
    def max_points(self) -> float:
        return sum(t.max_points for t in self.tasks) + sum(w.max_points for w in self.written)

    @property
    def points(self) -> float:
        """Tasks' points plus the hand-given scores, less the late penalty."""
        earned = sum(t.points for t in self.tasks) + sum(w.score or 0.0 for w in self.written)
        return round(earned * (1.0 - self.penalty), 4)
