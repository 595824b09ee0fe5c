"""The parallel suite's wall time under two ways of handing whole files to pytest-xdist, simulated.

Both ways are simulated as pytest-xdist 3.8's ``LoadScopeScheduling.schedule`` hands out units
(``xdist/scheduler/loadscope.py``): each worker takes one unit, then another whenever 2 or fewer of
its tests are left, from the front of the queue. Each file's recorded seconds
(``tests/test-durations.json``, ``make test`` on 2 workers) are spread evenly over its tests.

- ``custom``: ``course_tools.suite_plan`` (a ``LoadScopeScheduling`` whose unit is a file, the
  lesson-4 model chain or the site's browser tests), the units queued heaviest first;
- ``loadgroup``: xdist's public ``--dist loadgroup`` (``LoadGroupScheduling`` only changes the unit:
  a test's ``xdist_group`` name, else the test alone), an ``xdist_group`` marker per unit set at
  collection, the items in heaviest-first order. With xdist's default ``--loadscope-reorder`` the
  queue is re-sorted by the number of tests in each unit; with ``--no-loadscope-reorder`` it keeps the
  collection order;
- ``collection order``: the same units in the order pytest collects them, to show what
  heaviest-first is worth.

    .venv/bin/python benchmarks/suite_schedulers.py                     # collects the suite first (~15 s)
    .venv/bin/python benchmarks/suite_schedulers.py --collection LIST   # a saved `pytest --collect-only -q`
    .venv/bin/python benchmarks/suite_schedulers.py --only FILE...      # a few files, as a trial run has them
"""

from __future__ import annotations

import argparse
import heapq
import json
import subprocess
import sys
from collections import deque
from pathlib import Path

from course_tools.suite_plan import REPO, UNKNOWN_SECONDS, file_of, heaviest_first, unit_of

SUITE = ["tests", "notebooks", "solutions", "--nbval", "--nbval-current-env"]  # as `make test` collects it
WORKERS = 2


def collected_nodeids(listing: str | None) -> list[str]:
    """The suite's test ids in collection order: from a saved ``--collect-only -q`` listing, else collected now."""
    if listing:
        text = Path(listing).read_text()
    else:
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist", *SUITE]
        text = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in text.splitlines() if "::" in line]


def seconds_per_test(nodeids: list[str], seconds: dict) -> dict[str, float]:
    """Each test's share of its file's recorded seconds."""
    tests_in = {}
    for nodeid in nodeids:
        tests_in[file_of(nodeid)] = tests_in.get(file_of(nodeid), 0) + 1
    return {
        nodeid: seconds.get(f, UNKNOWN_SECONDS.get(Path(f).suffix, 5.0)) / tests_in[f]
        for nodeid in nodeids
        if (f := file_of(nodeid))
    }


def queue_of(nodeids: list[str], reorder_by_count: bool) -> list[list[str]]:
    """The work units in the order xdist queues them: first appearance, or most tests first (a stable sort)."""
    units = {}
    for nodeid in nodeids:
        units.setdefault(unit_of(file_of(nodeid)), []).append(nodeid)
    queue = list(units.values())
    return sorted(queue, key=len, reverse=True) if reorder_by_count else queue


def makespan(queue: list[list[str]], cost: dict[str, float], workers: int = WORKERS) -> float:
    """When the last worker ends, handing out units as ``LoadScopeScheduling`` does."""
    waiting = deque(queue)
    pending = [deque() for _ in range(workers)]
    for worker in pending:  # one unit each, then a second to whoever has 2 tests or fewer (xdist #277)
        if waiting:
            worker.extend(waiting.popleft())
    for worker in pending:
        if waiting and len(worker) <= 2:
            worker.extend(waiting.popleft())
    running = [(cost[pending[i][0]], i) for i in range(workers) if pending[i]]
    heapq.heapify(running)
    end = 0.0
    while running:
        now, i = heapq.heappop(running)
        pending[i].popleft()
        end = max(end, now)
        if waiting and len(pending[i]) <= 2:
            pending[i].extend(waiting.popleft())
        if pending[i]:
            heapq.heappush(running, (now + cost[pending[i][0]], i))
    return end


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", help="a saved `pytest --collect-only -q` listing of the suite")
    parser.add_argument("--durations", default=str(REPO / "tests" / "test-durations.json"))
    parser.add_argument("--only", nargs="+", metavar="FILE", help="simulate these files alone (a trial run's)")
    args = parser.parse_args(argv)
    seconds = json.loads(Path(args.durations).read_text())
    collected = [n for n in collected_nodeids(args.collection) if not args.only or file_of(n) in args.only]
    cost = seconds_per_test(collected, seconds)
    heaviest = heaviest_first(collected, seconds, nodeid=str)
    plans = {
        "custom (suite_plan: heaviest first)": queue_of(heaviest, reorder_by_count=False),
        "loadgroup --no-loadscope-reorder": queue_of(heaviest, reorder_by_count=False),
        "loadgroup (default --loadscope-reorder)": queue_of(heaviest, reorder_by_count=True),
        "collection order, no reorder": queue_of(collected, reorder_by_count=False),
    }
    units = queue_of(collected, reorder_by_count=False)
    total, longest = sum(cost.values()), max(sum(cost[n] for n in unit) for unit in units)
    print(f"{len(collected)} tests in {len(units)} units, {total / 60:.1f} min of work on {WORKERS} workers")
    print(f"lower bound: {max(total / WORKERS, longest):.0f} s (half the work, or the longest unit)")
    for name, queue in plans.items():
        print(f"{name:42} {makespan(queue, cost) / 60:5.1f} min ({makespan(queue, cost):.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
