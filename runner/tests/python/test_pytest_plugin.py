"""abibench's pytest plugin without pytest: the fixture's calls recorded and made once, a recorded
call timed (pedantic's setup outside the clock), each build's run seeing only its own modules, and
the worker's cells for tests that were skipped, failed or timed nothing. pytest itself runs in
runner/tests/pytest.rs, on a real crate."""

from __future__ import annotations

import gc
import json
import sys
import timeit
import unittest
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Optional
from unittest import mock

from support import PLUGIN, Builds, Recorder, cells, forget_pkg, quick, scenario, worker

plugin = worker.pytest_plugin(worker.Pytest(plugin=PLUGIN.read_text(), path=(), root="/", tests=(), collect=False))


class Calls:
    """A callable that records its arguments and whether the garbage collector was on."""

    def __init__(self) -> None:
        self.calls: List[Any] = []
        self.gc: List[bool] = []

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        self.calls.append((args, kwargs))
        self.gc.append(gc.isenabled())
        return len(self.calls)


class Fixture(unittest.TestCase):
    def test_a_call_is_recorded_and_made_once_for_its_value(self) -> None:
        f = Calls()
        fx = plugin.Fixture("t.py::test_x")
        self.assertEqual(fx(f, 1, k=2), 1)
        self.assertEqual(f.calls, [((1,), {"k": 2})])
        self.assertIs(fx.recorded.target, f)
        with self.assertRaisesRegex(RuntimeError, "t.py::test_x: benchmark was called twice"):
            fx(f)

    def test_the_recorded_call_is_timed_with_the_collector_off(self) -> None:
        f = Calls()
        for args, kwargs in [((), {}), ((3,), {}), ((), {"k": 1})]:
            f.calls.clear()
            took = plugin.Recorded(f, args, kwargs).timeit(4)
            self.assertEqual(f.calls, [(args, kwargs)] * 4)
            self.assertGreater(took, 0.0)
        self.assertEqual(set(f.gc), {False})
        self.assertTrue(gc.isenabled())

    def test_pedantic_makes_each_calls_arguments_before_the_clock_and_tears_down_after(self) -> None:
        made: List[int] = []
        torn: List[int] = []
        f = Calls()

        def setup() -> Any:
            made.append(len(made))
            return (made[-1],), {}

        fx = plugin.Fixture("t.py::test_p")
        fx.pedantic(f, setup=setup, teardown=lambda x: torn.append(x), rounds=100, iterations=1)
        self.assertEqual((made, torn, f.calls), ([0], [0], [((0,), {})]))
        clock: List[str] = []

        def counting_setup() -> Any:
            clock.append("setup")
            return setup()

        recorded = plugin.Recorded(lambda x: clock.append("call"), (), None, counting_setup, torn.append)
        with mock.patch.object(plugin.time, "perf_counter", side_effect=lambda: clock.append("clock") or 0.0):
            recorded.timeit(3)
        # Every argument made before the clock starts; only the calls between its two readings.
        self.assertEqual(clock, ["setup"] * 3 + ["clock"] + ["call"] * 3 + ["clock"])
        self.assertEqual(torn, [0, 1, 2, 3])
        with self.assertRaisesRegex(TypeError, "setup returned arguments, and args or kwargs were given"):
            plugin.Recorded(f, (1,), None, lambda: ((2,), {})).once()


    def test_a_counted_region_makes_the_calls_only(self) -> None:
        made: List[int] = []
        called: List[int] = []

        def setup() -> Any:
            made.append(len(made) + 1)
            return (made[-1],), {}

        run = worker.counted(plugin.Recorded(called.append, (), None, setup), 3)
        self.assertEqual((made, called), ([1, 2, 3], []))
        run()  # what callgrind's region runs
        self.assertEqual((made, called), ([1, 2, 3], [1, 2, 3]))
        # A statement's timer runs whole in the region.
        self.assertIsInstance(worker.counted(timeit.Timer("pass"), 2)(), float)


class PerBuild(unittest.TestCase):
    def setUp(self) -> None:
        self.addCleanup(forget_pkg)
        self.builds = Builds(self)
        self.root = Path(self.builds.dir.name) / "proj"
        (self.root / "tests").mkdir(parents=True)
        (self.root / "tests" / "bench_mod.py").write_text("import pkg.core, pkg.extra\nWHO = pkg.extra.WHO\n")
        self.addCleanup(lambda: sys.modules.pop("bench_mod", None))

    def fake_run(self, tests: Any, root: str, wanted: Any) -> Dict[str, Any]:
        """What a test module does under pytest: imports the package, and a submodule of it
        that the build had not loaded, and records a call bound to them."""
        sys.path.insert(0, str(self.root / "tests"))
        try:
            import bench_mod  # noqa: F401 (imported as a test module is)
        finally:
            sys.path.remove(str(self.root / "tests"))
        who = sys.modules["bench_mod"].WHO
        return {"t::w": plugin.Outcome(plugin.Recorded(lambda: who), "benchmark")}

    def test_each_build_runs_its_tests_with_its_own_modules_only(self) -> None:
        a, b = self.builds.package("A"), self.builds.package("B")
        for build in (a, b):
            (Path(build["path"]).parent / "extra.py").write_text("import pkg.core\nWHO = pkg.core.WHO\n")
        local, job = self.local([a, b])
        with mock.patch.object(local.plugin, "run", self.fake_run):
            seen = {label: local.outcomes(label)["t::w"].recorded.once() for label in ("A", "B", "A")}
        self.assertEqual(seen, {"A": "A", "B": "B"})
        # The test module went with its run; each build keeps the submodule its run imported.
        self.assertNotIn("bench_mod", sys.modules)
        self.assertEqual(local.entries["A"]["pkg.extra"].WHO, "A")
        self.assertEqual(local.entries["B"]["pkg.extra"].WHO, "B")

    def test_tests_skipped_failed_or_not_benchmarks_fail_or_leave_their_cells(self) -> None:
        local, job = self.local([self.builds.package("A")])
        outcomes = {
            "t::ok": plugin.Outcome(plugin.Recorded(lambda: 1), "benchmark"),
            "t::skip": plugin.Outcome(None, "skipped", "Skipped: not on 3.8"),
            "t::fail": plugin.Outcome(None, "failed", "t::fail failed in call:\nAssertionError"),
            "t::none": plugin.Outcome(None, "not_benchmark", plugin.NOT_CALLED),
        }
        with mock.patch.object(local.plugin, "run", return_value=outcomes):
            keys = local.prepare([sc for sc in job.scenarios])
        self.assertEqual(keys, [("t::ok", "A")])
        found = {k[0]: (e["status"], e["reason"]) for k, e in cells(self.recorder.events()).items()}
        self.assertEqual(found, {
            "t::skip": ("not_available", "pytest: skipped: Skipped: not on 3.8"),
            "t::fail": ("error", "pytest: failed: t::fail failed in call:\nAssertionError"),
            "t::none": ("error", "pytest: not benchmark: ran, but did not call benchmark"),
            "t::gone": ("error", "pytest: failed: not collected here"),
        })

    def local(self, builds: List[Dict[str, str]]) -> Any:
        self.recorder = Recorder(self)
        names = ["t::ok", "t::skip", "t::fail", "t::none", "t::gone"]
        scenarios = [dict(scenario(n, function=None), pytest=n) for n in names]
        spec = {"plugin": PLUGIN.read_text(), "path": [], "root": str(self.root), "tests": ["tests"], "collect": False}
        job = worker.parse_job(json.dumps(quick(builds=builds, scenarios=scenarios, module="pkg.core", builtin=False,
                                                pytest=spec)))
        return worker.Local(job, self.recorder.channel), job


class CodspeedStandIn(unittest.TestCase):
    def test_an_absent_pytest_codspeed_is_stood_in_for_and_a_present_one_kept(self) -> None:
        real: Optional[ModuleType] = sys.modules.pop("pytest_codspeed", None)
        self.addCleanup(lambda: sys.modules.pop("pytest_codspeed", None) if real is None
                        else sys.modules.__setitem__("pytest_codspeed", real))
        with mock.patch.object(plugin.importlib.util, "find_spec", return_value=None):
            plugin.codspeed_stand_in()
        self.assertIn("abibench's stand-in", sys.modules["pytest_codspeed"].__doc__)
        mine = ModuleType("pytest_codspeed")
        sys.modules["pytest_codspeed"] = mine
        plugin.codspeed_stand_in()
        self.assertIs(sys.modules["pytest_codspeed"], mine)


if __name__ == "__main__":
    unittest.main()
