"""The roster, the collection of submissions and the late policy (`course_tools.grading.roster`): pure Python, fast."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from course_tools.grading.records import Student
from course_tools.grading.roster import (
    LatePolicy,
    RosterError,
    collect,
    name_keys,
    read_policy,
    read_roster,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
HEADER = "student_id,name,email,section\n"


def write(path: Path, text: str = "{}", encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def error_of(function, *args) -> str:
    with pytest.raises(RosterError) as caught:
        function(*args)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


# ---------------------------------------------------------------------------------------------
# The roster


def test_the_example_roster_reads():
    students = read_roster(EXAMPLES / "roster.csv")
    assert [s.student_id for s in students] == ["s1001", "s1002", "s1003", "s1004"]
    assert students[0] == Student("s1001", "Ada Quill", "ada.quill@example.edu", "A", "aquill", "40001")


def test_roster_headers_are_read_by_alias_in_any_order_with_a_bom(tmp_path):
    roster = write(
        tmp_path / "r.csv",
        "\ufeffSection, E-Mail ,Full Name,SIS User ID,Login\nA,ada@x.edu,Ada Quill,s1,aquill\n\n",
    )
    assert read_roster(roster) == [Student("s1", "Ada Quill", "ada@x.edu", "A", "aquill")]


def test_a_roster_with_semicolons_reads(tmp_path):
    roster = write(tmp_path / "r.csv", "ID;Name;Email;Section\ns1;Quill, Ada;ada@x.edu;A\n")
    assert read_roster(roster) == [Student("s1", "Quill, Ada", "ada@x.edu", "A")]


def test_a_canvas_gradebook_export_is_a_roster(tmp_path):
    roster = write(
        tmp_path / "export.csv",
        "Student,ID,SIS User ID,SIS Login ID,Section,Ablations (123)\n"
        "    Points Possible,,,,,10\n"
        '"Quill, Ada",40001,s1,ada@x.edu,Section A,7\n'
        '"Student, Test",49999,,,Section A,\n'
        '"Marsh, Ben",40002,,bmarsh,Section B,3\n',  # no SIS id at this school: the Canvas id stands in
    )
    assert read_roster(roster) == [
        Student("s1", "Quill, Ada", "ada@x.edu", "Section A", "ada@x.edu", "40001"),
        Student("40002", "Marsh, Ben", "", "Section B", "bmarsh", "40002"),
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        (HEADER + "s1,Ada,ada@x.edu,A\nS1,Ben,ben@x.edu,A\n", "lines 2 and 3 have the same student_id 'S1'"),
        (HEADER + "s1,Ada,ada@x.edu,A\n,Ben,ben@x.edu,A\n", "line 3: Ben has no student id"),
        (HEADER + "s1,Ada,ada@x.edu,A\ns2,Ben,ADA@x.edu,A\n", "lines 2 and 3 have the same email"),
        ("student_id,name,section\ns1,Ada,A\n", "missing column email"),
        ("", "is empty"),
    ],
)
def test_a_bad_roster_is_one_clear_line(tmp_path, text, expected):
    assert expected in error_of(read_roster, write(tmp_path / "r.csv", text))


def test_a_missing_or_non_utf8_roster_is_one_clear_line(tmp_path):
    assert "no such file" in error_of(read_roster, tmp_path / "absent.csv")
    latin = write(tmp_path / "r.csv", HEADER + "s1,Zoë,z@x.edu,A\n", encoding="latin-1")
    assert "save it as 'CSV UTF-8'" in error_of(read_roster, latin)


# ---------------------------------------------------------------------------------------------
# Collecting submissions

CLASS = [
    Student("s1", "Ada Quill", "ada.quill@x.edu", "A", "aquill"),
    Student("s2", "Ben Marsh", "ben@x.edu", "A", "bmarsh", "40002"),
    Student("s3", "Quill, Cy", "cy@x.edu", "B"),
]


def owners(collection) -> dict[str, str]:
    return {submission.path.name: submission.student_id for submission in collection.submissions}


def test_files_are_matched_by_folder_file_name_and_canvas_name(tmp_path):
    root = tmp_path / "subs"
    for name in [
        "S1/ablations.ipynb",  # folder: the id, any case
        "deep/ada.quill@x.edu/two_conv_net.ipynb",  # a folder anywhere below: the e-mail
        "ben/speed.ipynb",  # the e-mail's local part
        "aquill-numpy_cnn.ipynb",  # file name: login then -
        "s2_speed.ipynb",  # file name: id then _
        "marshben_LATE_40002_77_ablations.ipynb",  # Canvas, by the Canvas user id
        "quillcy_40003_78_ablations.ipynb",  # Canvas, by name (no Canvas id in the roster), last first
        "cyquill_40003_79_speed.ipynb",  # ... or first name first
    ]:
        write(root / name)
    collection = collect([root], CLASS)
    assert owners(collection) == {
        "ablations.ipynb": "s1",
        "two_conv_net.ipynb": "s1",
        "speed.ipynb": "s2",
        "aquill-numpy_cnn.ipynb": "s1",
        "s2_speed.ipynb": "s2",
        "marshben_LATE_40002_77_ablations.ipynb": "s2",
        "quillcy_40003_78_ablations.ipynb": "s3",
        "cyquill_40003_79_speed.ipynb": "s3",
    }
    assert collection.unmatched == []
    assert collection.missing(CLASS + [Student("s4", "Dee", "d@x.edu", "B")]) == [Student("s4", "Dee", "d@x.edu", "B")]


def test_a_canvas_file_of_an_unknown_canvas_id_is_unmatched(tmp_path):
    # Ben has a Canvas id, so his name alone does not claim a file of another Canvas user
    stranger = write(tmp_path / "subs" / "marshben_40999_80_speed.ipynb")
    assert collect([tmp_path / "subs"], CLASS).unmatched == [stranger]


def test_unmatched_files_are_listed_and_hidden_folders_skipped(tmp_path):
    root = tmp_path / "subs"
    stray = write(root / "mystery" / "ablations.ipynb")
    write(root / "s1" / ".ipynb_checkpoints" / "ablations-checkpoint.ipynb")
    write(root / ".hidden" / "s1_speed.ipynb")
    write(root / "s1" / "notes.txt")
    kept = write(root / "s1" / "speed.ipynb")
    collection = collect([root], CLASS)
    assert [s.path for s in collection.submissions] == [kept]
    assert collection.unmatched == [stray]


def test_without_a_roster_every_file_is_a_submission_of_no_one(tmp_path):
    first = write(tmp_path / "subs" / "x" / "a.ipynb")
    given = write(tmp_path / "b.ipynb")
    collection = collect([tmp_path / "subs", given, first], None)  # a file given twice counts once
    assert sorted(s.path for s in collection.submissions) == sorted([first, given])
    assert {s.student_id for s in collection.submissions} == {""}
    assert collection.unmatched == []
    assert all(s.submitted_at.tzinfo is not None for s in collection.submissions)


def test_a_folder_beats_canvas_s_name_which_beats_a_file_name_prefix(tmp_path):
    root = tmp_path / "subs"
    for name in [
        "s1/s2_speed.ipynb",  # s1's folder, s2's name: the folder's
        "s1/s3/speed.ipynb",  # a folder of s1's own below: the outermost folder's
        "aquill_40002_81_speed.ipynb",  # s1's login first, but Canvas's name for Ben (s2): Canvas's
    ]:
        write(root / name)
    assert owners(collect([root], CLASS)) == {
        "s2_speed.ipynb": "s1",
        "speed.ipynb": "s1",
        "aquill_40002_81_speed.ipynb": "s2",
    }


def test_a_folder_given_names_its_student(tmp_path):
    write(tmp_path / "s2" / "s1_speed.ipynb")
    assert owners(collect([tmp_path / "s2"], CLASS)) == {"s1_speed.ipynb": "s2"}


def test_file_names_below_the_folder_given_name_no_one(tmp_path):
    # Moodle's folders name no one; the student chose the file names inside them
    moodle = tmp_path / "subs" / "Cy Quill_123_assignsubmission_file_"
    prefixed, canvas_like = write(moodle / "s2_speed.ipynb"), write(moodle / "marshben_40002_80_speed.ipynb")
    collection = collect([tmp_path / "subs"], CLASS)
    assert collection.submissions == [] and sorted(collection.unmatched) == sorted([prefixed, canvas_like])
    # the same files given, or their folder given, are named by their collector: matched
    assert set(owners(collect([moodle], CLASS)).values()) == {"s2"}
    assert owners(collect([prefixed], CLASS)) == {"s2_speed.ipynb": "s2"}


def test_a_file_matching_two_students_is_one_error_naming_both(tmp_path):
    # "ben" is s2's e-mail name and s4's login: the roster, not the file, is ambiguous
    roster = CLASS + [Student("s4", "Bea Nox", "bea@x.edu", "B", "ben")]
    write(tmp_path / "subs" / "ben" / "speed.ipynb")
    write(tmp_path / "subs" / "ben" / "ablations.ipynb")
    write(tmp_path / "subs" / "s1" / "speed.ipynb")
    message = error_of(collect, [tmp_path / "subs"], roster)
    first = tmp_path / "subs" / "ben" / "ablations.ipynb"
    assert f"{first} matches students s2 (Ben Marsh) and s4 (Bea Nox)" in message
    assert "by its folder 'ben' (1 more files match two students too); nothing is graded" in message


def test_a_file_name_matching_two_students_is_an_error(tmp_path):
    roster = CLASS + [Student("s4", "Bea Nox", "bea@x.edu", "B", "s1-b")]
    write(tmp_path / "subs" / "s1-b_speed.ipynb")  # s1's id, then s4's login
    message = error_of(collect, [tmp_path / "subs"], roster)
    assert "matches students s1 (Ada Quill) and s4 (Bea Nox) by its file name start 's1' and 's1-b'" in message


def test_a_missing_path_is_an_error(tmp_path):
    assert "no such file or folder" in error_of(collect, [tmp_path / "absent"], CLASS)


def test_times_come_from_the_manifest_else_the_file_and_order_the_submissions(tmp_path):
    root = tmp_path / "subs"
    early, late, untimed = (write(root / "s1" / name) for name in ("a.ipynb", "b.ipynb", "c.ipynb"))
    os.utime(untimed, (0, 0))
    write(
        root / "manifest.csv", "file,submitted_at\ns1/b.ipynb,2026-10-02T09:00:00Z\ns1/a.ipynb,2026-10-01 08:00+02:00\n"
    )
    submissions = collect([root], CLASS).submissions
    assert [s.path for s in submissions] == [untimed, early, late]  # the latest last
    assert submissions[0].submitted_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert submissions[1].submitted_at == datetime(2026, 10, 1, 6, tzinfo=UTC)
    assert [s.time_source for s in submissions] == ["mtime", "manifest", "manifest"]
    assert sorted(submissions, reverse=True)[0].path == late


def test_a_manifest_given_wins_over_the_folders(tmp_path):
    root = tmp_path / "subs"
    write(root / "s1" / "a.ipynb")
    write(root / "manifest.csv", "file,submitted_at\ns1/a.ipynb,2026-10-02T09:00:00Z\n")
    given = write(tmp_path / "times.csv", "File,Submitted At\nsubs/s1/a.ipynb,2026-10-03T09:00:00Z\n")
    [submission] = collect([root], CLASS, given).submissions
    assert submission.submitted_at == datetime(2026, 10, 3, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("file,submitted_at\ns1/a.ipynb,yesterday\n", "line 2: 'yesterday' is not an ISO 8601 time"),
        (
            "file,submitted_at\ns1/a.ipynb,2026-10-02\ns1/gone.ipynb,2026-10-02\n",
            "line 3: no such file 's1/gone.ipynb'",
        ),
        ("name,time\n", "the header must be file,submitted_at"),
    ],
)
def test_a_bad_manifest_is_one_clear_line(tmp_path, text, expected):
    write(tmp_path / "s1" / "a.ipynb")
    write(tmp_path / "manifest.csv", text)
    assert expected in error_of(collect, [tmp_path], CLASS)


def test_name_keys_put_either_name_first():
    assert name_keys("Dana Ruiz-Lopez") == {"ruizlopezdana", "danaruizlopez"}
    assert name_keys("Ruiz-Lopez, Dana") == {"ruizlopezdana", "danaruizlopez"}


# ---------------------------------------------------------------------------------------------
# Deadlines and the late policy

DUE = datetime(2026, 10, 1, 23, 59, tzinfo=UTC)


def test_the_example_policy_reads():
    policy = read_policy(EXAMPLES / "grading.toml", None, exercises=["ablations", "speed"])
    assert policy.deadline == datetime.fromisoformat("2026-10-01T23:59:00+02:00")
    assert policy.deadline_for("ablations") == datetime.fromisoformat("2026-10-08T23:59:00+02:00")
    assert (policy.penalty_per_day, policy.cutoff_days, policy.grace_minutes) == (0.10, 3.0, 15.0)


@pytest.mark.parametrize(
    "after, expected",
    [
        (timedelta(minutes=-5), (0.0, 0.0)),
        (timedelta(minutes=15), (0.0, 0.0)),  # within the grace
        (timedelta(minutes=16), (1 / 1440, 0.1)),  # one day started
        (timedelta(days=1, minutes=15), (1.0, 0.1)),
        (timedelta(days=1, minutes=16), (1 + 1 / 1440, 0.2)),
        (timedelta(days=3, minutes=15), (3.0, 0.3)),
        (timedelta(days=3, minutes=16), (3 + 1 / 1440, 1.0)),  # past the cut-off
    ],
)
def test_lateness_counts_days_started_after_deadline_and_grace(after, expected):
    policy = LatePolicy(DUE, {}, penalty_per_day=0.1, cutoff_days=3, grace_minutes=15)
    late_days, penalty = policy.lateness("speed", DUE + after)
    assert late_days == pytest.approx(expected[0]) and penalty == expected[1]


def test_the_penalty_never_takes_more_than_all_points_and_no_deadline_is_never_late():
    policy = LatePolicy(DUE, {"speed": DUE + timedelta(days=7)}, penalty_per_day=0.4, cutoff_days=None, grace_minutes=0)
    assert policy.lateness("ablations", DUE + timedelta(days=5)) == (5.0, 1.0)
    assert policy.lateness("speed", DUE + timedelta(days=5)) == (0.0, 0.0)
    assert LatePolicy().lateness("speed", DUE + timedelta(days=99)) == (0.0, 0.0)
    assert policy.lateness("ablations", "2026-10-03T23:59:00+00:00") == (2.0, 0.8)  # Grade.submitted_at's text


def test_the_policy_says_itself_in_one_line():
    policy = LatePolicy(DUE, {"speed": DUE}, penalty_per_day=0.1, cutoff_days=3, grace_minutes=15)
    assert policy.summary() == (
        "due 2026-10-01T23:59:00+00:00; speed due 2026-10-01T23:59:00+00:00; "
        "10% off per day started, nothing after 3 days, 15 minutes' grace"
    )
    assert LatePolicy().summary() == "no deadline: every submission is on time"


def test_the_command_line_deadline_replaces_the_files_and_a_date_means_its_last_second(tmp_path):
    config = write(tmp_path / "g.toml", "[late]\ndeadline = 2026-10-01T23:59:00Z\npenalty_per_day = 0.25\n")
    policy = read_policy(config, "2026-10-05")
    assert policy.deadline == datetime(2026, 10, 5, 23, 59, 59).astimezone()  # this machine's time zone
    assert policy.penalty_per_day == 0.25
    assert read_policy(None, "2026-10-05T12:00+02:00").deadline == datetime(2026, 10, 5, 10, tzinfo=UTC)
    assert read_policy(None, None) == LatePolicy()


@pytest.mark.parametrize(
    "toml, deadline, expected",
    [
        ("", "next friday", "--deadline: 'next friday' is not an ISO 8601 date or time; write e.g. 2026-10-01"),
        ('[late]\ndeadline = "1.10.2026"\n', None, "[late] deadline: '1.10.2026' is not an ISO 8601"),
        ("[late]\npenalty_per_dya = 0.1\n", None, "[late]: unknown key 'penalty_per_dya'"),
        ("[late]\npenalty_per_day = -0.1\n", None, "penalty_per_day = -0.1 must be a number at least 0"),
        ("[late]\npenalty_per_day = 10\n", None, "at most 1 (a fraction: 0.10 takes 10 % a day)"),
        ("[late]\ncutoff_days = 'three'\n", None, "cutoff_days = 'three' must be a number"),
        ('[deadlines]\nablation = "2026-10-08"\n', None, "[deadlines]: unknown exercise 'ablation'"),
        ("[late]\npenalty_per_day = 0.1\n", None, "a penalty_per_day but no deadline"),
        ("[lates]\n", None, "unknown key 'lates'"),
        ("[late\n", None, "not valid TOML"),
    ],
)
def test_a_bad_policy_is_one_clear_line(tmp_path, toml, deadline, expected):
    config = write(tmp_path / "g.toml", toml)
    assert expected in error_of(read_policy, config, deadline, ["ablations"])


def test_a_missing_policy_file_is_one_clear_line(tmp_path):
    assert "no such file" in error_of(read_policy, tmp_path / "absent.toml", None)
