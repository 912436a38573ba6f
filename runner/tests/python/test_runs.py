"""The worker run as abibench runs it, a process fed a job on stdin, on stand-in builds: the order of
its steps, what the timed code can and cannot reach, crashes pinned to their cell, and "process"
isolation's processes."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import unittest
from pathlib import Path
from typing import Any, Dict, List, Tuple

from support import PYTHON, SOURCE, TOKEN, Builds, Event, cells, events_of, quick, run_worker, scenario, steps, worker


class Runs(unittest.TestCase):
    def two_builds(self, **fields: Any) -> Dict[str, Any]:
        b = Builds(self)
        scs = [scenario("s1"), scenario("s2"), scenario("t1", group="h")]
        return quick(builds=[b.builtin("unlimited"), b.builtin("abi3-py38")], scenarios=scs, **fields)

    def test_every_step_is_announced_first_and_values_interleave_in_the_seeds_order(self) -> None:
        code, events, stderr = run_worker(self.two_builds())
        self.assertEqual(code, 0, stderr)
        kinds = [(e["ev"], e.get("phase")) for e in events]
        self.assertEqual(kinds[:6], [("at", "load"), ("loaded", None), ("at", "load"), ("loaded", None),
                                     ("at", "overhead"), ("overhead", None)])
        self.assertEqual(events[-1], {"ev": "done"})
        # Before any value, each cell of the batch is sized and warmed, announced as such.
        sized = [("s1", "unlimited"), ("s1", "abi3-py38"), ("s2", "unlimited"), ("s2", "abi3-py38")]
        self.assertEqual(steps(events, "loop sizing"), sized + [("t1", "unlimited"), ("t1", "abi3-py38")])
        self.assertEqual(steps(events, "warmup"), steps(events, "loop sizing"))
        # 3 rounds of the 4 cells of group g, then 3 of group h's 2, shuffled by one generator.
        rng, expected = random.Random(7), []
        for batch in [sized, [("t1", "unlimited"), ("t1", "abi3-py38")]]:
            for _ in range(3):
                order = list(batch)
                rng.shuffle(order)
                expected += order
        self.assertEqual(steps(events, "value"), expected)
        for e in events:
            if e["ev"] == "at" and e["phase"] == "value":
                self.assertGreater(e["expect_s"], 0)
        found = cells(events)
        self.assertEqual(len(found), 6)
        for cell in found.values():
            self.assertEqual((cell["status"], len(cell["values"]), len(cell["warmups"])), ("ok", 3, 1), cell)
            self.assertEqual(cell["gil"], worker.gil_enabled())

    def test_what_the_timed_code_prints_goes_to_stderr_and_cannot_forge_an_event(self) -> None:
        forged = '{"ev": "done", "token": "%s"}' % TOKEN
        stmt = "print(%r); os.write(1, b'C-level %s\\n')" % (forged, forged.encode().decode())
        b = Builds(self)
        job = quick(builds=[b.builtin("unlimited")], scenarios=[scenario("noisy", stmt, setup="import os")])
        code, events, stderr = run_worker(job)
        self.assertEqual(code, 0, stderr)
        self.assertEqual([e["ev"] for e in events].count("done"), 1)
        self.assertEqual(cells(events)[("noisy", "unlimited")]["status"], "ok")
        self.assertIn(forged + "\n", stderr)
        self.assertIn("C-level " + forged + "\n", stderr)

    def test_exceptions_in_timed_code_are_their_cells_errors_and_the_rest_goes_on(self) -> None:
        b = Builds(self)
        scs = [scenario("div", "1/0"), scenario("exits", "raise SystemExit(3)"), scenario("fine")]
        code, events, stderr = run_worker(quick(builds=[b.builtin("unlimited")], scenarios=scs))
        self.assertEqual(code, 0, stderr)
        found = cells(events)
        self.assertEqual(found[("div", "unlimited")]["reason"].splitlines()[0], "ZeroDivisionError: division by zero")
        self.assertEqual(found[("exits", "unlimited")]["reason"].splitlines()[0], "SystemExit: 3")
        self.assertEqual(found[("fine", "unlimited")]["status"], "ok")
        self.assertEqual(events[-1], {"ev": "done"})

    def test_skipped_cells_are_left_alone(self) -> None:
        code, events, _ = run_worker(self.two_builds(skip=[["s1", "abi3-py38"], ["t1", "unlimited"]]))
        self.assertEqual(code, 0)
        self.assertEqual(set(cells(events)), {("s1", "unlimited"), ("s2", "unlimited"), ("s2", "abi3-py38"),
                                             ("t1", "abi3-py38")})


def crash(stmt: str = "os.kill(os.getpid(), signal.SIGSEGV)") -> Dict[str, Any]:
    """A scenario that kills its process when its loop is sized."""
    return scenario("crash", stmt, setup="import os, signal")


class Crashes(unittest.TestCase):
    def assert_pinned(self, events: List[Event], phase: str) -> None:
        last = events[-1]
        self.assertEqual((last["ev"], last["scenario"], last["phase"]), ("at", "crash", phase))

    def test_a_crash_leaves_its_cell_announced_last(self) -> None:
        b = Builds(self)
        job = quick(builds=[b.builtin("unlimited")], scenarios=[scenario("fine"), crash()])
        code, events, _ = run_worker(job)
        self.assertEqual(code, -signal.SIGSEGV)
        self.assert_pinned(events, "loop sizing")

    def test_under_process_isolation_the_coordinator_dies_as_the_builds_process_did(self) -> None:
        b = Builds(self)
        builds = [b.builtin("unlimited"), b.builtin("abi3-py38")]
        # SIGKILL as the kernel's out-of-memory killer sends it: no handler to reset.
        for sig in [signal.SIGSEGV, signal.SIGKILL]:
            with self.subTest(signal=sig.name):
                scs = [scenario("fine"), crash("os.kill(os.getpid(), %d)" % sig)]
                code, events, stderr = run_worker(quick(builds=builds, scenarios=scs, isolation="process"))
                self.assertEqual(code, -sig, stderr)
                self.assert_pinned(events, "loop sizing")
                self.assertEqual(events[-1]["build"], "unlimited")

    def test_under_process_isolation_a_build_that_dies_at_import_fails_alone(self) -> None:
        b = Builds(self)
        crashes = "import os\nos.kill(os.getpid(), %d)\n" % signal.SIGSEGV
        builds = [b.builtin("unlimited"), b.builtin("abi3-py38", crashes)]
        code, events, stderr = run_worker(quick(builds=builds, scenarios=[scenario("s1"), scenario("s2")],
                                                isolation="process"))
        self.assertEqual(code, 0, stderr)
        failed = [e for e in events if e["ev"] == "load_failed"]
        self.assertEqual([(e["build"], e["error"]) for e in failed],
                         [("abi3-py38", "its process died while loading it (killed by SIGSEGV)")])
        found = cells(events)
        self.assertEqual({k: c["status"] for k, c in found.items()},
                         {("s1", "unlimited"): "ok", ("s2", "unlimited"): "ok"})
        self.assertEqual(events[-1], {"ev": "done"})

    def test_an_exit_status_is_passed_on_too(self) -> None:
        b = Builds(self)
        job = quick(builds=[b.builtin("unlimited")], scenarios=[crash("os._exit(5)")], isolation="process")
        code, events, _ = run_worker(job)
        self.assertEqual(code, 5)
        self.assert_pinned(events, "loop sizing")


class ProcessIsolation(unittest.TestCase):
    def test_each_build_imports_alone_in_its_own_process_and_all_is_interleaved(self) -> None:
        b = Builds(self)
        # Each copy of the package notes which process imported it.
        body = "import os\nwith open(__file__ + '.pids', 'a') as f:\n    f.write('%d\\n' % os.getpid())\n"
        stmt = "import pkg.core\nassert pkg.core.WHO == ext.WHO and sys.modules['pkg.core'] is ext"
        builds = [b.package("A", body), b.package("B", body)]
        scs = [scenario("s", stmt, function=None, setup="import sys"), scenario("t", "pass", function=None)]
        job = quick(builds=builds, scenarios=scs, module="pkg.core", builtin=False, isolation="process")
        proc = subprocess.Popen(PYTHON + ["-s", "-B", "-c", SOURCE], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate((json.dumps(job) + "\n").encode(), timeout=60)
        self.assertEqual(proc.returncode, 0, err.decode())
        events = events_of(out)
        pids = [Path(build["path"] + ".pids").read_text().split() for build in builds]
        self.assertEqual([len(p) for p in pids], [1, 1])
        self.assertEqual(len({pids[0][0], pids[1][0], str(proc.pid)}), 3)
        self.assertEqual([e["ev"] for e in events].count("overhead"), 1)
        found = cells(events)
        self.assertEqual({k: c["status"] for k, c in found.items()},
                         {("s", "A"): "ok", ("s", "B"): "ok", ("t", "A"): "ok", ("t", "B"): "ok"})
        self.assertEqual(sorted(steps(events, "value")), sorted(list(found) * 3))
        self.assertEqual(events[-1], {"ev": "done"})


class IsolatedScenarios(unittest.TestCase):
    """A scenario with `isolate` sees none of the module state the others leave: its builds load in
    processes of its own, and its cells are still timed in the same rounds as the rest."""

    def run_isolating(self, isolation: str) -> Tuple[List[Event], List[List[str]], int]:
        b = Builds(self)
        body = "import os\nLEFT = []\nwith open(__file__ + '.pids', 'a') as f:\n    f.write('%d\\n' % os.getpid())\n"
        builds = [b.package("A", body), b.package("B", body)]
        check = "assert not ext.LEFT, 'sees %d calls of leave' % len(ext.LEFT)"
        scs = [scenario("leave", "ext.LEFT.append(1)", function=None), scenario("shared", check, function=None),
               scenario("own", check, function=None, isolate=True), scenario("other", "pass", group="h",
                                                                          function=None, isolate=True)]
        job = quick(builds=builds, scenarios=scs, module="pkg.core", builtin=False, isolation=isolation)
        proc = subprocess.Popen(PYTHON + ["-s", "-B", "-c", SOURCE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        out, err = proc.communicate((json.dumps(job) + "\n").encode(), timeout=60)
        self.assertEqual(proc.returncode, 0, err.decode())
        pids = [Path(build["path"] + ".pids").read_text().split() for build in builds]
        return events_of(out), pids, proc.pid

    def check(self, events: List[Event]) -> None:
        found = cells(events)
        for build in "AB":
            self.assertRegex(found[("shared", build)]["reason"], r"^AssertionError: sees [1-9][0-9]* calls of leave\n")
        statuses = {k: c["status"] for k, c in found.items() if k[0] != "shared"}
        self.assertEqual(set(statuses.values()), {"ok"}, found)
        self.assertEqual(len(statuses), 6)
        # Group g's cells that are timed, in rounds shuffled by the job's generator: the shared
        # sessions' first, then each isolating scenario's.
        ready = [("leave", "A"), ("leave", "B"), ("own", "A"), ("own", "B")]
        rng, expected = random.Random(7), []
        for batch in [ready, [("other", "A"), ("other", "B")]]:
            for _ in range(3):
                order = list(batch)
                rng.shuffle(order)
                expected += order
        self.assertEqual(steps(events, "value"), expected)
        self.assertEqual(events[-1], {"ev": "done"})

    def test_in_process_one_more_process_holds_every_build_for_each_isolating_scenario(self) -> None:
        events, pids, coordinator = self.run_isolating("in-process")
        self.check(events)
        # The coordinator imports both copies; so does each isolating scenario's process.
        self.assertEqual(pids[0], pids[1])
        self.assertEqual(len(set(pids[0])), 3)
        self.assertEqual(pids[0][0], str(coordinator))

    def test_under_process_isolation_each_isolating_scenario_has_a_process_per_build(self) -> None:
        events, pids, coordinator = self.run_isolating("process")
        self.check(events)
        every = pids[0] + pids[1]
        self.assertEqual([len(p) for p in pids], [3, 3])
        self.assertEqual(len(set(every)), 6)
        self.assertNotIn(str(coordinator), every)


if __name__ == "__main__":
    unittest.main()
