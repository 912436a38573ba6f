"""The worker's parts in this process: loop sizing, warm-up, instruction counts, the event channel,
the interleaving, and a build's session (`Local`) and its process-isolation server (`serve`)."""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import threading
import unittest
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple
from unittest import mock

from support import TOKEN, Builds, Recorder, cells, forget_pkg, quick, scenario, steps, worker


class FakeTimer:
    """A timer whose every loop costs `per_loop` seconds, recording the loop counts asked for."""

    def __init__(self, per_loop: float) -> None:
        self.per_loop = per_loop
        self.asked: List[int] = []

    def timeit(self, loops: int) -> float:
        self.asked.append(loops)
        return loops * self.per_loop


class LoopSizing(unittest.TestCase):
    def test_loops_grow_at_most_tenfold_then_aim_20_percent_past_the_target(self) -> None:
        timer = FakeTimer(1e-6)
        loops, took = worker.size_loops(timer, 0.002)
        self.assertEqual(timer.asked, [1, 10, 100, 1000, 2400])
        self.assertEqual(loops, 2400)
        self.assertAlmostEqual(took, 0.0024)

    def test_a_value_already_long_enough_is_one_loop(self) -> None:
        timer = FakeTimer(0.01)
        self.assertEqual(worker.size_loops(timer, 0.002), (1, 0.01))
        self.assertEqual(timer.asked, [1])

    def test_every_step_grows_by_one_at_least(self) -> None:
        # 1.2 * min_time / t rounds to the same count when t is just under min_time.
        timer = FakeTimer(0.00199)
        self.assertEqual(worker.size_loops(timer, 0.002)[0], 2)
        self.assertEqual(timer.asked, [1, 2])

    def test_the_first_warmup_is_loop_sizings_last_run(self) -> None:
        timer = FakeTimer(1.0)
        self.assertEqual(worker.warm_up(timer, 3, 0.5, 2), [0.5, 3.0])
        self.assertEqual(worker.warm_up(timer, 3, 0.5, 1), [0.5])
        self.assertEqual(worker.warm_up(timer, 3, 0.5, 0), [])
        self.assertEqual(timer.asked, [3])


class FakeRegion:
    """bench_ext's callgrind region as callgrind sees it: each region writes a profile part whose
    totals are 1000 instructions of setup plus 7 per loop iteration."""

    def __init__(self, out_dir: str, timer: FakeTimer) -> None:
        self.out_dir, self.timer, self.parts = out_dir, timer, 0

    def callgrind_region(self, fn: Any) -> None:
        fn()
        self.parts += 1
        part = Path(self.out_dir) / ("cg.%d.%d" % (os.getpid(), self.parts))
        part.write_text("events: Ir\n" + "fn=x\n1 5\n" * 100 + "totals: %d\n" % (1000 + 7 * self.timer.asked[-1]))


class InstructionCounts(unittest.TestCase):
    def test_setup_cancels_and_loops_are_a_power_of_two_near_the_target(self) -> None:
        builds = Builds(self)
        timer = FakeTimer(0)
        counter = worker.Callgrind(FakeRegion(str(builds.root), timer), str(builds.root), 1000)
        loops, values, parts = counter.sample(timer, 2)
        # 1000 // 7 = 142 -> 128; each value is (2L - L) iterations: 7 * 128.
        self.assertEqual((loops, values), (128, [896, 896]))
        self.assertEqual(timer.asked, [1, 2, 128, 128, 256, 128, 256])
        # The first pair's parts, by file name in the runner's directory: after the two probes and
        # the warm-up's region (part 3), so that nothing outside their regions is in them.
        self.assertEqual(parts, ["cg.%d.4" % os.getpid(), "cg.%d.5" % os.getpid()])
        totals = [(builds.root / p).read_text().rsplit("totals: ", 1)[1] for p in parts]
        self.assertEqual(totals, ["%d\n" % (1000 + 7 * 128), "%d\n" % (1000 + 7 * 256)])


class ChannelEvents(unittest.TestCase):
    def test_events_carry_the_token_and_cells_whether_the_gil_was_on(self) -> None:
        read, write = os.pipe()
        channel = worker.Channel(write, TOKEN)
        channel.emit("at", scenario="s", build="b", phase="value", expect_s=0.5)
        channel.emit("cell", scenario="s", build="b", status="ok", loops=3, warmups=[], values=[1.0])
        os.close(write)
        with os.fdopen(read, "rb") as f:
            lines = f.read().decode().splitlines()
        self.assertEqual([list(json.loads(x)) for x in lines], [
            ["ev", "scenario", "build", "phase", "expect_s", "token"],
            ["ev", "scenario", "build", "status", "loops", "warmups", "values", "gil", "token"],
        ])
        self.assertEqual(json.loads(lines[1])["gil"], worker.gil_enabled())
        self.assertTrue(all(json.loads(x)["token"] == TOKEN for x in lines))

    def test_an_event_the_pipe_takes_in_parts_arrives_whole(self) -> None:
        read, write = os.pipe()
        received: List[bytes] = []

        def drain() -> None:
            with os.fdopen(read, "rb") as f:
                received.append(f.read())

        reader = threading.Thread(target=drain)
        reader.start()
        real = os.write
        # A write to a pipe may take less than it is given (a signal, a non-blocking reader).
        with mock.patch.object(worker.os, "write", lambda fd, data: real(fd, data[:4096])):
            worker.Channel(write, TOKEN).emit("overhead", loops=1, values=[0.125] * 100000)
        os.close(write)
        reader.join()
        self.assertEqual(received[0].count(b"\n"), 1)
        self.assertEqual(len(json.loads(received[0])["values"]), 100000)


class FakeSession:
    """Records the cells it is asked for a value of; `fails` raise on their `at`-th value."""

    def __init__(self, log: List[Tuple[str, str]], fails: Optional[Dict[Tuple[str, str], int]] = None) -> None:
        self.log, self.fails = log, fails or {}

    def value(self, key: Tuple[str, str]) -> bool:
        self.log.append(key)
        return self.log.count(key) != self.fails.get(key)


class Interleaving(unittest.TestCase):
    KEYS = [("s1", "A"), ("s1", "B"), ("s2", "A"), ("s2", "B")]

    def rounds(self, seed: int, fails: Optional[Dict[Tuple[str, str], int]] = None) -> Tuple[list, Set]:
        log: List[Tuple[str, str]] = []
        a, b = FakeSession(log, fails), FakeSession(log, fails)
        owner = {k: (a if k[1] == "A" else b) for k in self.KEYS}
        failed = worker.interleave(owner, 5, random.Random(seed))
        return log, failed

    def test_every_cell_once_per_round_in_the_seeds_shuffled_order(self) -> None:
        log, failed = self.rounds(7)
        self.assertEqual(failed, set())
        rounds = [log[i:i + 4] for i in range(0, 20, 4)]
        for r in rounds:
            self.assertEqual(sorted(r), sorted(self.KEYS))
        self.assertGreater(len({tuple(r) for r in rounds}), 1, "the order is shuffled round by round")
        # One generator through all rounds, shuffling the cells in the order they were prepared.
        rng, expected = random.Random(7), []
        for _ in range(5):
            order = list(self.KEYS)
            rng.shuffle(order)
            expected += order
        self.assertEqual(log, expected)
        self.assertEqual(self.rounds(7)[0], log)
        self.assertNotEqual(self.rounds(8)[0], log)

    def test_a_cell_whose_code_raised_gets_no_more_values(self) -> None:
        log, failed = self.rounds(7, fails={("s2", "A"): 2})
        self.assertEqual(failed, {("s2", "A")})
        self.assertEqual(log.count(("s2", "A")), 2)
        self.assertEqual([log.count(k) for k in self.KEYS if k != ("s2", "A")], [5, 5, 5])

    def test_batches_are_runs_of_one_group(self) -> None:
        groups = [("a", "x"), ("b", "x"), ("c", "y"), ("d", "x")]
        scs = [worker.Scenario(n, g, None, "", "pass", 1, False) for n, g in groups]
        self.assertEqual([[s.name for s in b] for b in worker.batches(scs)], [["a", "b"], ["c"], ["d"]])


class LocalSession(unittest.TestCase):
    def local(self, builds: List[Dict[str, str]], scenarios: List[Dict[str, Any]], **fields: Any) -> Tuple[Any, Any]:
        self.recorder = Recorder(self)
        job = worker.parse_job(json.dumps(quick(builds=builds, scenarios=scenarios, **fields)))
        return worker.Local(job, self.recorder.channel), job

    def test_timed_code_that_starts_raising_ends_its_cell_with_the_exception_first(self) -> None:
        b = Builds(self)
        body = "BROKEN = []\ndef tick():\n    if BROKEN:\n        raise RuntimeError('broken after %d' % len(BROKEN))\n"
        local, job = self.local([b.builtin("unlimited", body=body)], [scenario("s", "ext.tick()", function=None)])
        self.assertEqual(local.prepare(list(job.scenarios)), [("s", "unlimited")])
        self.assertTrue(local.value(("s", "unlimited")))
        local.builds[0][1].BROKEN.append(1)
        self.assertFalse(local.value(("s", "unlimited")))
        local.finish({("s", "unlimited")})
        events = self.recorder.events()
        error = cells(events)[("s", "unlimited")]
        self.assertEqual(error["status"], "error")
        self.assertEqual(error["reason"].splitlines()[0], "RuntimeError: broken after 1")
        self.assertIn("in tick", error["reason"])
        self.assertEqual(steps(events, "value"), [("s", "unlimited")] * 2)

    def test_each_cell_runs_in_its_own_build(self) -> None:
        b = Builds(self)
        stmt = "import pkg.core\nassert pkg.core is ext and pkg.core.WHO == ext.WHO, (pkg.core.WHO, ext.WHO)"
        builds = [b.package("A"), b.package("B")]
        self.addCleanup(forget_pkg)
        local, job = self.local(builds, [scenario("s", stmt, function=None)], module="pkg.core", builtin=False)
        keys = local.prepare(list(job.scenarios))
        self.assertEqual(keys, [("s", "A"), ("s", "B")])
        for key in keys + keys[::-1]:
            self.assertTrue(local.value(key), self.recorder.events()[-1])

    def test_unavailable_functions_unloadable_builds_and_skipped_cells(self) -> None:
        b = Builds(self)
        builds = [
            b.builtin("unlimited", body="NOT_AVAILABLE = {'only_abi3': 'needs the limited API'}\n"),
            b.builtin("abi3-py38", body="def only_abi3(x):\n    return x\n"),
            b.builtin("abi3-py39", reports="abi3-py310"),
        ]
        scs = [scenario("only", function="only_abi3"), scenario("missing", function="nowhere"), scenario("done")]
        local, job = self.local(builds, scs, skip=[["done", "unlimited"]])
        self.assertEqual(local.prepare(list(job.scenarios)), [("only", "abi3-py38"), ("done", "abi3-py38")])
        events = self.recorder.events()
        self.assertEqual(events[5], {"ev": "load_failed", "build": "abi3-py39",
                                     "error": "ImportError: %s reports MODE='abi3-py310', expected 'abi3-py39'"
                                              % builds[2]["path"]})
        found = cells(events)
        self.assertEqual(found[("only", "unlimited")]["reason"], "needs the limited API")
        self.assertEqual(found[("only", "unlimited")]["status"], "not_available")
        self.assertEqual(found[("missing", "unlimited")]["reason"],
                         "bench_ext has no 'nowhere' and does not list it in NOT_AVAILABLE")
        self.assertEqual(set(found), {("only", "unlimited"), ("missing", "unlimited"), ("missing", "abi3-py38")})

    def test_an_extension_is_loaded_from_a_copy_of_this_process_own(self) -> None:
        original = Path(tempfile.mkdtemp()) / "bench_ext.so"
        self.addCleanup(shutil.rmtree, str(original.parent))
        original.write_bytes(bytes(range(256)) * 4099)
        copy = worker.private_copy(str(original))
        if not hasattr(os, "memfd_create"):
            self.assertEqual(copy, str(original))
            return
        self.assertNotEqual(os.path.realpath(copy), os.path.realpath(original))
        self.assertEqual(Path(copy).read_bytes(), original.read_bytes())

    def test_a_stale_module_found_before_the_build_is_refused(self) -> None:
        b = Builds(self)
        self.addCleanup(forget_pkg)
        build = b.package("A", leaf="_core")  # the build is pkg/_core.py; `import pkg.core` finds pkg/core.py
        local, _ = self.local([build], [scenario("s")], module="pkg.core", builtin=False)
        self.assertEqual(local.builds, [])
        failed = self.recorder.events()[1]
        self.assertEqual(failed["ev"], "load_failed")
        self.assertRegex(failed["error"], r"^ImportError: import pkg.core found .*/A/pkg/core.py, not the build")

    def test_the_empty_loop_is_sized_and_timed(self) -> None:
        b = Builds(self)
        local, _ = self.local([b.builtin("unlimited")], [])
        local.overhead()
        at, overhead = self.recorder.events()[2:]
        self.assertEqual(at, {"ev": "at", "phase": "overhead"})
        self.assertEqual(len(overhead["values"]), 3)
        self.assertGreaterEqual(overhead["values"][0], 0.0002 * 0.5)
        self.assertGreater(overhead["loops"], 1)

    def test_serve_answers_each_command_with_a_reply_after_its_events(self) -> None:
        b = Builds(self)
        local, job = self.local([b.builtin("unlimited")], [scenario("s"), scenario("t", "1/0")])
        commands = [{"cmd": "overhead"}, {"cmd": "prepare", "batch": ["s", "t"]},
                    {"cmd": "value", "key": ["s", "unlimited"]}, {"cmd": "finish", "failed": []}]
        worker.serve(local, job, self.recorder.channel, [json.dumps(c) for c in commands])
        events = self.recorder.events()
        replies = [e for e in events if e["ev"] == "reply"]
        self.assertEqual(replies, [{"ev": "reply"}, {"ev": "reply", "ready": [["s", "unlimited"]]},
                                   {"ev": "reply", "ok": True}, {"ev": "reply"}])
        self.assertEqual(events[-1], {"ev": "reply"})
        self.assertEqual(events[-2]["status"], "ok")
        self.assertEqual(len(events[-2]["values"]), 1)
        self.assertTrue(cells(events)[("t", "unlimited")]["reason"].startswith("ZeroDivisionError: division by zero"))


if __name__ == "__main__":
    unittest.main()
