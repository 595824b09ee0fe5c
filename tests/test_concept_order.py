"""Every idea is taught before it is used: the course's concepts appear in lesson order.

`course_tools/vocabulary.toml` lists each concept and the patterns that reveal it. A lesson's
metadata (``course.introduces``) names the concepts it teaches. Walking the course in the order a
student does (lesson 1, its exercises, lesson 2, ...), a concept may appear only in or after the
notebook that introduces it; a line that names a later concept must say, in plain words, which
later lesson teaches it ("we meet dropout in lesson 9").
"""

import json
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VOCABULARY = tomllib.loads((REPO / "course_tools" / "vocabulary.toml").read_text())["concepts"]
PATTERNS = {
    concept: re.compile("|".join(entry["patterns"]), 0 if entry.get("case_sensitive") else re.IGNORECASE)
    for concept, entry in VOCABULARY.items()
}
LESSONS = sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
REQUIRED = {"ReLU", "logits", "softmax", "cross-entropy", "gradient", "backpropagation", "SGD", "momentum", "Adam"}
REQUIRED |= {"weight decay", "learning-rate schedule", "batch norm", "dropout", "augmentation", "receptive field"}
REQUIRED |= {"channels"}


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def introduces(path) -> list[str]:
    return load(path)["metadata"].get("course", {}).get("introduces", [])


def course_in_study_order():
    """(lesson number, notebook) in the order a student meets them: each lesson, then its exercises."""
    for lesson in LESSONS:
        number = int(lesson.name[:2])
        yield number, lesson
        yield number, REPO / "exercises" / f"{lesson.stem}_exercises.ipynb"


def introduced_in() -> dict[str, int]:
    where = {}
    for number, lesson in ((int(p.name[:2]), p) for p in LESSONS):
        for concept in introduces(lesson):
            assert concept in VOCABULARY, f"{lesson.name} introduces {concept!r}, which vocabulary.toml lacks"
            assert concept not in where, f"{concept!r} is introduced twice: lessons {where[concept]} and {number}"
            where[concept] = number
    return where


def test_vocabulary_covers_the_course_and_every_concept_is_introduced_once():
    assert REQUIRED <= set(VOCABULARY), f"vocabulary.toml lacks {sorted(REQUIRED - set(VOCABULARY))}"
    where = introduced_in()
    missing = sorted(set(VOCABULARY) - set(where))
    assert not missing, f"no lesson's metadata (course.introduces) introduces {missing}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_a_lesson_teaches_what_it_says_it_introduces(lesson):
    text = "\n".join(source(c) for c in load(lesson)["cells"] if c["cell_type"] == "markdown")
    for concept in introduces(lesson):
        assert PATTERNS[concept].search(text), f"{lesson.name} introduces {concept!r} but its prose never names it"


def forward_reference(line: str, concept: str, where: dict[str, int], here: int) -> bool:
    """True when the line says which later lesson teaches the concept ("... in lesson 9")."""
    return any(int(n) == where.get(concept) and int(n) > here for n in re.findall(r"\blessons? (\d+)", line, re.I))


def test_no_concept_is_used_before_it_is_taught():
    where = introduced_in()
    problems = []
    for number, notebook in course_in_study_order():
        for index, cell in enumerate(load(notebook)["cells"]):
            if "course-check" in cell["metadata"].get("tags", []):
                continue  # hidden check cells: the student sees their one-line result, not their code
            for line in source(cell).splitlines():
                for concept, pattern in PATTERNS.items():
                    taught = where.get(concept, 99) <= number
                    if not taught and pattern.search(line) and not forward_reference(line, concept, where, number):
                        taught_in = f"lesson {where[concept]}" if concept in where else "no lesson"
                        problems.append(
                            f"{notebook.parent.name}/{notebook.name}, cell {index}: {concept!r} "
                            f"(taught in {taught_in}): {line.strip()[:100]}"
                        )
    assert not problems, f"{len(problems)} uses of a concept before it is taught:\n" + "\n".join(problems)
