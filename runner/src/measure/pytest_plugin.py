# abibench's pytest plugin: a crate's own pytest-benchmark / pytest-codspeed tests as abibench
# scenarios (`compare --crate PATH --pytest TESTS`). The worker runs the tests once per build,
# after making that build the one `import` finds, with this plugin in place of pytest-benchmark's
# or pytest-codspeed's: the `benchmark` fixture records what the test asks to time (the callable
# and its arguments, which close over that build's objects) and calls it once for its value, and
# a test marked `@pytest.mark.benchmark` without the fixture is recorded whole, as pytest-codspeed
# times it. The worker then times each recorded call as it times a statement: interleaved and
# paired across builds, its own loop count and values (a test's `rounds` and `iterations` are
# abibench's sampling's to choose). Tests that use neither are not run, and are listed.
#
# Runs inside the interpreter under test (3.8+) with pytest from the job's path; the pure parts
# (the fixture, the timed call) do not import pytest, so they are unit-tested without it.
from __future__ import annotations

import gc
import importlib.util
import itertools
import os
import sys
import time
from types import ModuleType
from typing import AbstractSet, Any, Callable, Dict, List, Optional, Sequence, Tuple

Call = Tuple[Tuple[Any, ...], Dict[str, Any]]  # (args, kwargs)

BENCHMARK = "benchmark"  # the fixture's and the marker's name, in both plugins
NOT_USED = "uses neither the benchmark fixture nor the benchmark marker"
NOT_CALLED = "ran, but did not call benchmark"


class Recorded:
    """A call a test handed to `benchmark`, timed as a statement is (`timeit(number)`: seconds
    for `number` calls, the garbage collector off, as timeit has it). With pedantic's `setup`,
    each call's arguments are made before the clock starts (and torn down after it stops), so
    only the calls are timed (or counted: `ready`); the loop over them costs a little more than
    timeit's empty loop, which is all the analysis subtracts."""

    def __init__(self, target: Callable[..., Any], args: Tuple[Any, ...] = (),
                 kwargs: Optional[Dict[str, Any]] = None, setup: Optional[Callable[[], Any]] = None,
                 teardown: Optional[Callable[..., Any]] = None) -> None:
        self.target, self.args, self.kwargs = target, tuple(args), dict(kwargs or {})
        self.setup, self.teardown = setup, teardown
        self.pending: List[Call] = []  # the calls made ready whose teardown is to come

    def arguments(self) -> Call:
        """The arguments of one call: pedantic's setup's, if it returns some, else the given ones."""
        if self.setup is None:
            return self.args, self.kwargs
        made = self.setup()
        if made is None:
            return self.args, self.kwargs
        if self.args or self.kwargs:
            raise TypeError("benchmark.pedantic: setup returned arguments, and args or kwargs were given too")
        args, kwargs = made
        return tuple(args), dict(kwargs or {})

    def once(self) -> Any:
        args, kwargs = self.arguments()
        try:
            return self.target(*args, **kwargs)
        finally:
            if self.teardown is not None:
                self.teardown(*args, **kwargs)

    def ready(self, number: int) -> Callable[[], None]:
        """`number` calls, ready to make: with pedantic's setup, their arguments are made now,
        so that neither a clock nor a counted region (callgrind) sees them made."""
        self.finish()
        target, args, kwargs = self.target, self.args, self.kwargs
        if self.setup is not None:
            self.pending = [self.arguments() for _ in range(number)]
            calls = self.pending

            def run() -> None:
                for a, k in calls:
                    target(*a, **k)
        elif args or kwargs:
            def run() -> None:
                for _ in itertools.repeat(None, number):
                    target(*args, **kwargs)
        else:
            def run() -> None:
                for _ in itertools.repeat(None, number):
                    target()
        return run

    def finish(self) -> None:
        """pedantic's teardown of the calls made ready last."""
        pending, self.pending = self.pending, []
        if self.teardown is not None:
            for args, kwargs in pending:
                self.teardown(*args, **kwargs)

    def timeit(self, number: int) -> float:
        run = self.ready(number)
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            t0 = time.perf_counter()
            run()
            took = time.perf_counter() - t0
        finally:
            if gc_was_on:
                gc.enable()
        self.finish()
        return took


class Fixture:
    """The `benchmark` fixture as tests call it: `benchmark(f, *args, **kwargs)`, `@benchmark`
    on a function, `benchmark.pedantic(...)`. Each records the call and makes it once, returning
    its value, so the test's own checks of the value still run."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.recorded: Optional[Recorded] = None
        # What tests set on pytest-benchmark's fixture; kept so those lines run, used for nothing.
        self.extra_info: Dict[str, Any] = {}
        self.group: Optional[str] = None
        self.name = node

    def record(self, call: Recorded) -> Any:
        if self.recorded is not None:
            raise RuntimeError("%s: benchmark was called twice; one test times one call" % self.node)
        self.recorded = call
        return call.once()

    def __call__(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.record(Recorded(target, args, kwargs))

    def pedantic(self, target: Callable[..., Any], args: Sequence[Any] = (), kwargs: Optional[Dict[str, Any]] = None,
                 setup: Optional[Callable[[], Any]] = None, teardown: Optional[Callable[..., Any]] = None,
                 rounds: int = 1, warmup_rounds: int = 0, iterations: int = 1) -> Any:
        del rounds, warmup_rounds, iterations  # abibench's sampling sizes loops and values
        return self.record(Recorded(target, tuple(args), kwargs, setup, teardown))


class Outcome:
    """What one test came to in one build: a recorded call, or why there is none."""

    def __init__(self, recorded: Optional[Recorded], status: str, reason: str = "") -> None:
        self.recorded, self.status, self.reason = recorded, status, reason


def codspeed_stand_in() -> None:
    """`pytest.importorskip("pytest_codspeed")` skips a module of benchmarks where that plugin is
    absent; here abibench is their plugin, so an empty module of that name stands in for it
    (only where the real one cannot be imported)."""
    if "pytest_codspeed" not in sys.modules and importlib.util.find_spec("pytest_codspeed") is None:
        stand_in = ModuleType("pytest_codspeed")
        stand_in.__doc__ = "abibench's stand-in: abibench times this module's benchmarks"
        sys.modules["pytest_codspeed"] = stand_in


def arguments(tests: Sequence[str], root: str) -> List[str]:
    """pytest's command line: the tests, with the crate's directory as rootdir (node ids are
    relative to it), and nothing of what could time, parallelise or write: the benchmark
    plugins (whose `benchmark` fixture would clash with this one), the cache, addopts."""
    return list(tests) + ["--rootdir", root, "-p", "no:benchmark", "-p", "no:codspeed", "-p", "no:cacheprovider",
                          "-p", "no:xdist", "-p", "no:randomly", "-o", "addopts=", "-qq"]


def run(tests: Sequence[str], root: str, wanted: Optional[AbstractSet[str]]) -> Dict[str, Outcome]:
    """Runs `tests` under pytest (imported from the current path) with the plugin, from `root`,
    only those of node ids `wanted` if given (the others are left out unrun, and a node id that
    this interpreter does not collect fails only its own cells); each test's outcome by node id.
    A test that failed or errored is `failed`, with pytest's report's tail."""
    import pytest  # only here: pytest comes from the job's path

    outcomes: Dict[str, Outcome] = {}
    fixtures: Dict[str, Fixture] = {}

    def uses(item: Any) -> Tuple[bool, bool]:
        return BENCHMARK in getattr(item, "fixturenames", ()), item.get_closest_marker(BENCHMARK) is not None

    class Plugin:
        @pytest.fixture(name=BENCHMARK)
        def benchmark(self, request: Any) -> Fixture:
            fixtures[request.node.nodeid] = Fixture(request.node.nodeid)
            return fixtures[request.node.nodeid]

        def pytest_configure(self, config: Any) -> None:
            config.addinivalue_line("markers", "benchmark: timed by abibench on every build")

        def pytest_collection_modifyitems(self, config: Any, items: List[Any]) -> None:
            if wanted is not None:
                config.hook.pytest_deselected(items=[i for i in items if i.nodeid not in wanted])
                items[:] = [i for i in items if i.nodeid in wanted]
            unused = [i for i in items if not any(uses(i))]
            for item in unused:
                outcomes[item.nodeid] = Outcome(None, "not_benchmark", NOT_USED)
            if unused:
                config.hook.pytest_deselected(items=unused)
                items[:] = [i for i in items if any(uses(i))]

        @pytest.hookimpl(tryfirst=True)
        def pytest_pyfunc_call(self, pyfuncitem: Any) -> Optional[bool]:
            fixture, marked = uses(pyfuncitem)
            if fixture or not marked:
                return None
            # pytest-codspeed's marker alone: the test function itself is timed, with its fixtures.
            names = pyfuncitem._fixtureinfo.argnames
            whole = Fixture(pyfuncitem.nodeid)
            fixtures[pyfuncitem.nodeid] = whole
            whole(pyfuncitem.obj, **{n: pyfuncitem.funcargs[n] for n in names})
            return True

        def pytest_runtest_logreport(self, report: Any) -> None:
            if report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
                outcomes[report.nodeid] = Outcome(None, "skipped", reason)
            elif report.failed:
                text = "%s failed in %s:\n%s" % (report.nodeid, report.when, report.longreprtext.strip())
                outcomes[report.nodeid] = Outcome(None, "failed", "\n".join(text.splitlines()[-20:]))
            elif report.when == "call":
                recorded = fixtures[report.nodeid].recorded if report.nodeid in fixtures else None
                outcomes[report.nodeid] = (Outcome(recorded, "benchmark") if recorded
                                           else Outcome(None, "not_benchmark", NOT_CALLED))

        def pytest_collectreport(self, report: Any) -> None:
            if report.failed:
                outcomes[report.nodeid or "."] = Outcome(None, "failed", report.longreprtext.strip()[-2000:])
            elif report.skipped:  # a module skipped whole (importorskip, a skip at import)
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
                outcomes[report.nodeid] = Outcome(None, "skipped", reason)

    codspeed_stand_in()
    here = os.getcwd()
    os.chdir(root)  # tests open files by paths relative to the project, as their CI runs them
    try:
        code = pytest.main(arguments(tests, root), plugins=[Plugin()])
    finally:
        os.chdir(here)
    if code in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        outcomes["."] = Outcome(None, "failed", "pytest %s exited with %s (its output is on stderr)"
                                % (" ".join(arguments(tests, root)), code.name))
    return outcomes


def run_in_build(tests: Sequence[str], root: str, wanted: Optional[AbstractSet[str]], top: str,
                 entries: Dict[str, ModuleType]) -> Dict[str, Outcome]:
    """`run` with the build whose modules are `entries` (those under the package `top`) the one
    `import` finds, and only it: modules under `top` that the tests import join `entries`, and
    the test modules (those under `root`) are dropped after, so the next build's run imports
    them afresh, bound to that build."""
    mine = [k for k in sys.modules if k == top or k.startswith(top + ".")]
    for key in mine:
        if key not in entries:
            del sys.modules[key]
    sys.modules.update(entries)
    before = set(sys.modules)
    under = os.path.join(os.path.realpath(root), "")
    try:
        return run(tests, root, wanted)
    finally:
        for key in set(sys.modules) - before:
            if key == top or key.startswith(top + "."):
                entries[key] = sys.modules[key]
            if os.path.realpath(getattr(sys.modules[key], "__file__", None) or "/").startswith(under):
                del sys.modules[key]
