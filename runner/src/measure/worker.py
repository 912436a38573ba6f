# abibench measurement worker: runs inside the interpreter under test (3.8+, stdlib only).
#
# Reads one JSON job (one line) on stdin, loads every build it names and measures every scenario
# in every build, in one of two ways:
# - wall time: all builds and the scenarios of one group interleaved, one value per (scenario,
#   build) per round in a shuffled order, so drift on a noisy machine hits every mode and every
#   path of a comparison alike, and both pair by round;
# - instructions (under callgrind): each count is the difference between a region of 2L and one
#   of L loop iterations, so setup and call overhead cancel exactly; L is derived from counted
#   probe regions, not from time, so the whole sequence, and hence every count, is reproducible.
# Builds sit side by side in this process ("in-process" isolation): bench-ext's under one name
# each, a user's module (imported by its real name, `import pkg._core`, package and all) by
# swapping its entries in sys.modules before each step. With "process" isolation this process
# loads nothing: it starts one copy of itself per build (`serve`) and drives them round by round
# over pipes, so builds that cannot share a process are still interleaved and paired.
# Writes JSON lines, each with the job's token, on the original stdout, which only events use:
# fd 1 is pointed at stderr before any timed code runs, so what it prints does not reach, split or
# forge an event (code that deliberately finds the descriptor and the token still could). An "at"
# line precedes every step so the runner can name the cell if this process dies, and says how long
# a timed step should take so a hang is caught early. With a group's scenarios interleaved, a crash
# that surfaces late is pinned to the step that was running, which may not be the one that caused it.
#
# Importing this file does nothing (runner/tests/python/ tests it so); `main()` does the work.
from __future__ import annotations

import dataclasses
import gc
import importlib.machinery
import importlib.util
import json
import os
import random
import re
import signal
import subprocess
import sys
import timeit
import traceback
from types import ModuleType
from typing import IO, Any, Callable, Dict, Iterable, List, Optional, Protocol, Set, Tuple, Union

Key = Tuple[str, str]  # a cell of the job: (scenario, build label)
Entries = Dict[str, ModuleType]  # a user's module's sys.modules entries, package and all


class JobError(ValueError):
    """A job that does not follow the protocol (`Job` in protocol.rs); the message names the field."""


Reader = Callable[[Any, str], Any]  # (JSON value, where it is in the job) -> the value, checked


def shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def reader(ok: Callable[[Any], bool], what: str, convert: Callable[[Any], Any] = lambda v: v) -> Reader:
    def read(value: Any, where: str) -> Any:
        if not ok(value):
            raise JobError("%s: expected %s, got %s" % (where, what, shown(value)))
        return convert(value)
    return read


def nullable(read: Reader) -> Reader:
    return lambda value, where: None if value is None else read(value, where)


def list_of(item: Reader) -> Reader:
    listed = reader(lambda v: isinstance(v, list), "a list")
    return lambda value, where: tuple(item(v, "%s[%d]" % (where, i)) for i, v in enumerate(listed(value, where)))


def number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)  # JSON's true is no number


TEXT = reader(lambda v: isinstance(v, str), "a string")
FLAG = reader(lambda v: isinstance(v, bool), "true or false")
COUNT = reader(lambda v: number(v) and isinstance(v, int) and v >= 0, "a whole number >= 0")
# 0 under callgrind, where loops are sized by instructions.
SECONDS = reader(lambda v: number(v) and 0 <= v < float("inf"), "a number of seconds >= 0", float)
KEY = reader(lambda v: isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v),
             "[scenario, build]", tuple)
ISOLATION = reader(lambda v: v in ("in-process", "process"), "\"in-process\" or \"process\"")


def field(read: Reader, **options: Any) -> Any:
    """A dataclass field read from the job with `read`."""
    return dataclasses.field(metadata={"read": read}, **options)


def nested(cls: Any) -> Reader:
    return lambda value, where: parse_object(cls, value, where)


def parse_object(cls: Any, raw: Any, where: str) -> Any:
    """An instance of the dataclass `cls` from a JSON object, each field read by its reader; a
    missing field, a value of the wrong type and a key no field has (a field renamed or added on
    one side only) are errors that name the field."""
    if not isinstance(raw, dict):
        raise JobError("%s: expected an object, got %s" % (where, shown(raw)))
    fields = dataclasses.fields(cls)
    unknown = sorted(set(raw) - {f.name for f in fields})
    if unknown:
        raise JobError("%s: unknown field(s) %s" % (where, ", ".join(unknown)))
    values = {}
    for f in fields:
        if f.name in raw:
            values[f.name] = f.metadata["read"](raw[f.name], "%s.%s" % (where, f.name))
        elif f.default is dataclasses.MISSING:
            raise JobError("%s.%s: missing" % (where, f.name))
    return cls(**values)


@dataclasses.dataclass(frozen=True)
class Build:
    label: str = field(TEXT)  # unique in the job: what every event calls this build
    mode: str = field(TEXT)  # checked against bench-ext's MODE, so a wrong file is refused, not timed
    path: str = field(TEXT)


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str = field(TEXT)
    group: str = field(TEXT)  # consecutive scenarios of one group are timed interleaved
    function: Optional[str] = field(nullable(TEXT))  # bound to `f` in the timed code
    setup: str = field(TEXT)
    stmt: str = field(TEXT)
    n: int = field(COUNT)
    isolate: bool = field(FLAG)  # module state of its own: its builds in processes of its own
    pytest: Optional[str] = field(nullable(TEXT), default=None)  # a test's node id: its recorded call is timed


@dataclasses.dataclass(frozen=True)
class Pytest:
    """A crate's benchmark tests (`--pytest`): run in each build with abibench's plugin."""
    plugin: str = field(TEXT)  # pytest_plugin.py's text
    path: Tuple[str, ...] = field(list_of(TEXT))  # where pytest is, put first on sys.path
    root: str = field(TEXT)  # the crate's directory: pytest's rootdir and working directory
    tests: Tuple[str, ...] = field(list_of(TEXT))  # what pytest is given: files, directories, node ids
    collect: bool = field(FLAG)  # only run the tests in the first build and report each one's outcome


@dataclasses.dataclass(frozen=True)
class Sampling:
    min_time: float = field(SECONDS)  # the shortest a value may last
    values: int = field(COUNT)
    warmups: int = field(COUNT)
    seed: int = field(COUNT)
    target_instructions: int = field(COUNT)
    callgrind_out: Optional[str] = field(nullable(TEXT))  # counting instructions: callgrind's parts
    # Counting a module that is not bench-ext: a bench-ext build whose region function marks it.
    callgrind_marker: Optional[str] = field(nullable(TEXT))


@dataclasses.dataclass(frozen=True)
class Job:
    token: str = field(TEXT)  # random per job, echoed in every event
    module: str = field(TEXT)  # the import name of the module under test
    builtin: bool = field(FLAG)  # bench-ext: copies loaded side by side under one name, checked by MODE
    isolation: str = field(ISOLATION)
    worker_source: Optional[str] = field(nullable(TEXT))  # this script, to start copies of itself
    python: Tuple[str, ...] = field(list_of(TEXT))  # this interpreter's command (it may need a launcher)
    builds: Tuple[Build, ...] = field(list_of(nested(Build)))
    scenarios: Tuple[Scenario, ...] = field(list_of(nested(Scenario)))
    skip: Tuple[Key, ...] = field(list_of(KEY))  # cells an earlier worker of this process did
    sampling: Sampling = field(nested(Sampling))
    overhead: bool = field(FLAG)  # time the empty loop first
    serve: bool = field(FLAG, default=False)  # this script's own: a copy it started (`Remote`)
    pytest: Optional[Pytest] = field(nullable(nested(Pytest)), default=None)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


def parse_job(line: str) -> Job:
    """The job on one line of JSON; JobError names what is wrong with it."""
    if not line.strip():
        raise JobError("job: empty (nothing on stdin)")
    try:
        raw = json.loads(line)
    except ValueError as e:
        raise JobError("job: not JSON: %s" % e) from None
    job: Job = parse_object(Job, raw, "job")
    starts_copies = job.isolation == "process" or (not job.serve and any(sc.isolate for sc in job.scenarios))
    if starts_copies and (job.worker_source is None or not job.python):
        raise JobError("job: \"process\" isolation and scenarios that isolate need worker_source and python")
    return job


def gil_enabled() -> bool:
    # A free-threaded interpreter (3.13+) turns the GIL back on when it imports an extension that
    # does not declare free-threading support; every cell records which way it was timed.
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def open_channel() -> int:
    """The event stream's own descriptor: a copy of the original stdout. fd 1 (Python's and C's
    stdout) now leads to stderr."""
    fd = os.dup(1)
    os.dup2(2, 1)
    return fd


class Channel:
    """The event stream: one JSON object per line, each with the job's token, on its own descriptor."""

    def __init__(self, fd: int, token: str) -> None:
        self.fd, self.token = fd, token

    def emit(self, ev: str, **fields: Any) -> None:
        event = dict(ev=ev, **fields)
        if ev == "cell":
            event["gil"] = gil_enabled()
        event["token"] = self.token
        self.write((json.dumps(event) + "\n").encode())

    def write(self, data: bytes) -> None:
        while data:
            data = data[os.write(self.fd, data):]


def private_copy(path: str) -> str:
    """A path to a copy of the file at `path` in memory of this process's own (a memfd). A file
    every worker process maps sits in the same physical pages in all of them (the page cache), so
    where the kernel once put it would be one fixed effect on every value of a run, which the
    bootstrap over processes cannot see: in an A/A test two copies of one build differed by up to
    3 % in intervals of +-1 %. A private copy puts each process's code in pages of its own, so
    physical placement varies from process to process as virtual placement does (ASLR). Where
    memfd does not exist (not Linux), the file itself."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None:
        return path
    fd = memfd_create(os.path.basename(path))  # kept open: the loader maps it by this path
    with open(path, "rb") as f:
        data = f.read()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return "/proc/self/fd/%d" % fd


def load(job: Job, build: Build) -> Tuple[Any, Optional[Entries]]:
    """(module, its sys.modules entries or None): one build, loaded beside the others."""
    path = build.path
    if job.builtin:
        # Each copy of bench_ext under the same name; scenarios reach it through `ext`.
        # Counts do not depend on placement (and the worker failed under callgrind with it); Python source
        # stands for an extension in the unit tests.
        if path.endswith(".py") or job.sampling.callgrind_out:
            spec = importlib.util.spec_from_file_location("bench_ext", path)
        else:
            copy = private_copy(path)
            loader = importlib.machinery.ExtensionFileLoader("bench_ext", copy)
            spec = importlib.util.spec_from_file_location("bench_ext", copy, loader=loader)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if getattr(module, "MODE", None) != build.mode:
            raise ImportError("%s reports MODE=%r, expected %r" % (path, getattr(module, "MODE", None), build.mode))
        return module, None
    # A user's module by its real import name, package and all, from the build's own root; what
    # the import finds must be this build (a stale file elsewhere on the path must not win).
    name = job.module
    root = path
    for _ in name.split("."):
        root = os.path.dirname(root)
    top = name.split(".")[0]
    for key in [k for k in sys.modules if k == top or k.startswith(top + ".")]:
        del sys.modules[key]
    sys.path.insert(0, root)
    try:
        module = importlib.import_module(name)
    finally:
        sys.path.remove(root)
    found = os.path.realpath(getattr(module, "__file__", None) or "?")
    if found != os.path.realpath(path):
        raise ImportError("import %s found %s, not the build under test %s" % (name, found, path))
    return module, {k: v for k, v in sys.modules.items() if k == top or k.startswith(top + ".")}


def region_marker(path: Optional[str]) -> Any:
    """The bench-ext build at `path`, loaded only for its `callgrind_region` (the function whose
    calls callgrind counts), beside a user's module that has none."""
    if path is None:
        raise JobError("job.sampling.callgrind_marker: counting a module other than bench_ext needs a marker")
    spec = importlib.util.spec_from_file_location("bench_ext", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def size_loops(timer: timeit.Timer, min_time: float) -> Tuple[int, float]:
    """Smallest loop count (roughly) whose value takes at least min_time seconds, and how long
    a value of that many loops took."""
    loops = 1
    while True:
        t = timer.timeit(loops)
        if t >= min_time:
            return loops, t
        # Aim 20 % past the target from the last estimate, growing at most 10x per step.
        loops = max(loops + 1, min(loops * 10, int(loops * min_time * 1.2 / max(t, 1e-9))))


def warm_up(timer: timeit.Timer, loops: int, took: float, count: int) -> List[float]:
    """`count` warm-up values of `loops` loops. The first is loop sizing's last probe (`took`, a
    run of exactly `loops` loops, at least min_time): in the reference run a separate warm-up after
    it was distributed like the first values (median within 0.2 %, in every interpreter), so it
    bought nothing but time."""
    return ([took] + [timer.timeit(loops) for _ in range(count - 1)])[:count]


def counted(timer: Timed, number: int) -> Callable[[], Any]:
    """What a counted region runs: `number` loops of the timer, with what a test's recorded call
    makes beforehand (pedantic's setup) made before the region (pytest_plugin.Recorded.ready)."""
    ready = getattr(timer, "ready", None)
    return ready(number) if ready else lambda: timer.timeit(number)


class Callgrind:
    """Counts instructions of a callable run inside bench_ext's callgrind region."""

    def __init__(self, marker: Any, out_dir: str, target: int) -> None:
        self.region = marker.callgrind_region
        # callgrind writes part k of this process to <out>/cg.<pid>.<k> when region k ends.
        self.prefix = os.path.join(out_dir, "cg.%d." % os.getpid())
        self.parts = 0
        self.target = target

    def count(self, fn: Callable[[], Any]) -> int:
        self.region(fn)
        self.parts += 1
        # The totals line closes the part; reading only its tail is a sixth of the cost of a
        # region under callgrind (which runs this Python ~50x slower too).
        with open(self.prefix + str(self.parts), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 512))
            return int(re.search(rb"^totals: (\d+)", f.read(), re.M).group(1))

    def part(self, k: int) -> str:
        """The file name of this process's profile part k."""
        return os.path.basename(self.prefix) + str(k)

    def sample(self, timer: Timed, pairs: int) -> Tuple[int, List[int], List[str]]:
        """(loops, [instructions of exactly `loops` iterations] * pairs, the first pair's parts
        (L, 2L), whose calls the runner reads)."""
        # Per-iteration cost from a 2-iteration minus a 1-iteration region (setup cancels), and L
        # rounded down to a power of two: a probe that wobbles with heap state rarely moves L.
        one = self.count(counted(timer, 1))
        per_iteration = max(1, self.count(counted(timer, 2)) - one)
        loops = 1 << max(0, min(17, (self.target // per_iteration).bit_length() - 1))
        # Warm-up (specialisation, caches, allocator), uncounted but in a region of its own:
        # callgrind counts calls outside regions too, into the next part, which must hold only
        # its own region's calls.
        self.region(counted(timer, loops))
        self.parts += 1
        values = []
        first = self.parts + 1
        for _ in range(pairs):
            short = self.count(counted(timer, loops))
            values.append(self.count(counted(timer, 2 * loops)) - short)
        return loops, values, [self.part(first), self.part(first + 1)] if pairs else []


def tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def failure() -> str:
    """The exception being handled: its type and message first (tables and reports show a
    reason's first line), then the traceback's tail."""
    kind, value, _ = sys.exc_info()
    head = traceback.format_exception_only(kind, value)[-1].strip()
    return head + "\n" + tail(traceback.format_exc())


class Timed(Protocol):
    """What is timed: a statement's timeit.Timer, or a test's recorded call (pytest_plugin.py)."""

    def timeit(self, number: int) -> float: ...


def pytest_plugin(spec: Pytest) -> Any:
    """abibench's pytest plugin (sent in the job, as this script is), with pytest's path first
    on sys.path."""
    sys.path[:0] = list(spec.path)
    module = ModuleType("abibench_pytest")
    exec(compile(spec.plugin, "abibench_pytest.py", "exec"), module.__dict__)
    return module


@dataclasses.dataclass
class Cell:
    """A (scenario, build) cell of a batch, sized and warmed, collecting its values."""

    timer: Timed
    loops: int
    took: float  # loop sizing's last probe: how long a value should take
    warmups: List[float]
    values: List[float] = dataclasses.field(default_factory=list)


class Local:
    """Builds loaded in this process, and the state of each (scenario, build) cell of a batch."""

    def __init__(self, job: Job, channel: Channel) -> None:
        self.job, self.sampling, self.channel = job, job.sampling, channel
        self.skip = set(job.skip)
        self.builds: List[Tuple[str, Any, Optional[Entries]]] = []  # (label, module, entries)
        for b in job.builds:
            channel.emit("at", build=b.label, phase="load")
            try:
                module, entries = load(job, b)
                self.builds.append((b.label, module, entries))
                channel.emit("loaded", build=b.label)
            except BaseException as e:  # an ImportError or SystemError is a finding, not a failure
                channel.emit("load_failed", build=b.label, error="%s: %s" % (type(e).__name__, e))
        self.entries = {label: entries for label, _, entries in self.builds}
        self.counter: Optional[Callgrind] = None
        if self.sampling.callgrind_out and self.builds:
            marker = self.builds[0][1] if job.builtin else region_marker(self.sampling.callgrind_marker)
            self.counter = Callgrind(marker, self.sampling.callgrind_out, self.sampling.target_instructions)
        self.cells: Dict[Key, Cell] = {}
        self.plugin = pytest_plugin(job.pytest) if job.pytest else None
        self.tests: Dict[str, Dict[str, Any]] = {}  # per build: each test's outcome (pytest_plugin.Outcome)

    def activate(self, build: str) -> None:
        """Makes `import <module>` find this build (user modules only)."""
        entries = self.entries.get(build)
        if entries:
            sys.modules.update(entries)

    def overhead(self) -> None:
        """The empty loop's cost per iteration, subtracted from every value by the analysis."""
        self.channel.emit("at", phase="overhead")
        empty = timeit.Timer("pass")
        if self.counter:
            loops, values, _ = self.counter.sample(empty, self.sampling.values)
        else:
            loops, _ = size_loops(empty, self.sampling.min_time)
            values = [empty.timeit(loops) for _ in range(self.sampling.values)]
        self.channel.emit("overhead", loops=loops, values=values)

    def outcomes(self, build: str) -> Dict[str, Any]:
        """Each test's outcome in this build (pytest_plugin.Outcome by node id), its tests run once."""
        if build not in self.tests:
            assert self.job.pytest is not None and self.plugin is not None
            entries = self.entries.get(build) or {}
            # Collecting: every test's outcome; measuring: the scenarios' tests', the others unrun.
            wanted = None if self.job.pytest.collect else {sc.pytest for sc in self.job.scenarios if sc.pytest}
            try:
                self.tests[build] = self.plugin.run_in_build(self.job.pytest.tests, self.job.pytest.root, wanted,
                                                             self.job.module.split(".")[0], entries)
            except BaseException:
                self.tests[build] = {".": self.plugin.Outcome(None, "failed", failure())}
        return self.tests[build]

    def recorded(self, sc: Scenario, build: str) -> Optional[Timed]:
        """The call test `sc.pytest` recorded in this build, or None after reporting why there
        is none: pytest skipped it here (not available), or it failed or did not benchmark."""
        outcomes = self.outcomes(build)
        outcome = outcomes.get(sc.pytest) or outcomes.get(".")
        if outcome is not None and outcome.recorded is not None:
            return outcome.recorded
        status, reason = ("failed", "not collected here") if outcome is None else (outcome.status, outcome.reason)
        self.channel.emit("cell", scenario=sc.name, build=build,
                          status="not_available" if status == "skipped" else "error",
                          reason="pytest: %s: %s" % (status.replace("_", " "), reason))
        return None

    def timer(self, sc: Scenario, build: str, ext: Any) -> Optional[Timed]:
        """The scenario's timer in this build, or None after reporting why there is none."""
        name, function, emit = sc.name, sc.function, self.channel.emit
        if sc.pytest is not None:
            return self.recorded(sc, build)
        if function and not hasattr(ext, function):
            reason = getattr(ext, "NOT_AVAILABLE", {}).get(function) if self.job.builtin else None
            if reason is None:
                emit("cell", scenario=name, build=build, status="error",
                     reason="%s has no %r%s" % (self.job.module, function,
                                                " and does not list it in NOT_AVAILABLE" if self.job.builtin else ""))
            else:
                emit("cell", scenario=name, build=build, status="not_available", reason=reason)
            return None
        setup = ("f = ext.%s\n" % function if function else "") + sc.setup
        try:
            self.activate(build)
            return timeit.Timer(sc.stmt, setup, globals={"ext": ext, "n": sc.n})
        except BaseException:
            emit("cell", scenario=name, build=build, status="error", reason=failure())
            return None

    def prepare(self, batch: List[Scenario]) -> List[Key]:
        """Sizes and warms every cell of the batch (or counts it, under callgrind); the cells to
        take values of, in rounds."""
        ready = []
        emit = self.channel.emit
        for sc in batch:
            for build, ext, _ in self.builds:
                name = sc.name
                if (name, build) in self.skip:
                    continue
                timer = self.timer(sc, build, ext)
                if timer is None:
                    continue
                try:
                    self.activate(build)
                    if self.counter:
                        emit("at", scenario=name, build=build, phase="count")
                        loops, counts, parts = self.counter.sample(timer, self.sampling.values)
                        emit("cell", scenario=name, build=build, status="ok", loops=loops, warmups=[], values=counts,
                             parts=parts)
                        continue
                    emit("at", scenario=name, build=build, phase="loop sizing")
                    loops, took = size_loops(timer, self.sampling.min_time)
                    emit("at", scenario=name, build=build, phase="warmup", expect_s=took * self.sampling.warmups)
                    warmups = warm_up(timer, loops, took, self.sampling.warmups)
                    self.cells[(name, build)] = Cell(timer, loops, took, warmups)
                    ready.append((name, build))
                # Whatever the timed code raises, SystemExit included, is its cell's error.
                except BaseException:
                    emit("cell", scenario=name, build=build, status="error", reason=failure())
        return ready

    def value(self, key: Key) -> bool:
        """One more value of the cell; False (after reporting the error) if it raised."""
        cell = self.cells[key]
        self.channel.emit("at", scenario=key[0], build=key[1], phase="value", expect_s=cell.took)
        try:
            self.activate(key[1])
            cell.values.append(cell.timer.timeit(cell.loops))
            return True
        except BaseException:
            self.channel.emit("cell", scenario=key[0], build=key[1], status="error", reason=failure())
            return False

    def finish(self, failed: Set[Key]) -> None:
        for (name, build), cell in self.cells.items():
            if (name, build) not in failed:
                self.channel.emit("cell", scenario=name, build=build, status="ok", loops=cell.loops,
                                  warmups=cell.warmups, values=cell.values)
        self.cells = {}
        gc.collect()


class Remote:
    """Builds in a process of their own (this script in `serve` mode), driven over pipes: one
    build under "process" isolation; every build, or one, for a scenario that isolates."""

    def __init__(self, job: Job, builds: Tuple[Build, ...], channel: Channel,
                 scenarios: Optional[Tuple[Scenario, ...]] = None) -> None:
        self.channel = channel
        sub = dataclasses.replace(job, builds=builds, scenarios=job.scenarios if scenarios is None else scenarios,
                                  isolation="in-process", serve=True, worker_source=None)
        # stderr is shared: a crash's traceback reaches the runner's tail as this process's would.
        self.proc = subprocess.Popen(list(job.python) + ["-s", "-B", "-c", job.worker_source],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.dead = not self.started(sub.to_json(), builds)

    def started(self, job_line: str, builds: Tuple[Build, ...]) -> bool:
        """Sends the job and waits for the process to have loaded its builds. A process that dies
        doing so (a build that crashes at import) fails its builds as a load failure would, and the
        other builds are measured without it; once loaded, a death is the cell's (`call`)."""
        try:
            self.send(job_line)
            self.send(json.dumps({"cmd": "ready"}))
        except BrokenPipeError:
            pass  # it died already; what it said before is still read below
        for line in self.proc.stdout:
            if json.loads(line)["ev"] == "reply":
                return True
            self.channel.write(line)
        code = self.proc.wait()
        how = "killed by %s" % signal.Signals(-code).name if code < 0 else "exit status %d" % code
        for b in builds:
            self.channel.emit("load_failed", build=b.label, error="its process died while loading it (%s)" % how)
        return False

    def send(self, line: str) -> None:
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def call(self, **command: Any) -> Dict[str, Any]:
        """Sends a command and forwards the events it causes until its reply, which it returns.
        If the build's process dies, this one dies the same way, so the runner pins and records
        the crash at the cell last announced, as it would in-process."""
        self.send(json.dumps(command))
        while True:
            line = self.proc.stdout.readline()
            if not line:
                code = self.proc.wait()
                if code < 0:
                    if -code != signal.SIGKILL:  # whose handler cannot be set, nor needs to be
                        signal.signal(-code, signal.SIG_DFL)
                    os.kill(os.getpid(), -code)
                os._exit(code or 1)
            event = json.loads(line)
            if event["ev"] == "reply":
                return event
            self.channel.write(line)

    def overhead(self) -> None:
        self.call(cmd="overhead")

    def prepare(self, batch: List[Scenario]) -> List[Key]:
        return [tuple(k) for k in self.call(cmd="prepare", batch=[sc.name for sc in batch])["ready"]]

    def value(self, key: Key) -> bool:
        return self.call(cmd="value", key=list(key))["ok"]

    def finish(self, failed: Set[Key]) -> None:
        self.call(cmd="finish", failed=[list(k) for k in failed])

    def close(self) -> None:
        """Ends the process (its command loop ends with its input) and waits for it to go, so
        that nothing of it runs while other values are taken."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # a process that died at import
        self.proc.wait()


Session = Union[Local, Remote]


def serve(local: Local, job: Job, channel: Channel, commands: Iterable[str]) -> None:
    """A build's process under "process" isolation, or an isolating scenario's: a command per
    line, a reply event for each."""
    by_name = {sc.name: sc for sc in job.scenarios}
    for line in commands:
        command = json.loads(line)
        kind = command["cmd"]
        if kind == "ready":  # the builds are loaded (Local's start)
            channel.emit("reply")
        elif kind == "overhead":
            local.overhead()
            channel.emit("reply")
        elif kind == "prepare":
            channel.emit("reply", ready=local.prepare([by_name[n] for n in command["batch"]]))
        elif kind == "value":
            channel.emit("reply", ok=local.value(tuple(command["key"])))
        elif kind == "finish":
            local.finish({tuple(k) for k in command["failed"]})
            channel.emit("reply")


def batches(scenarios: Iterable[Scenario]) -> List[List[Scenario]]:
    """Consecutive scenarios of one group, which are timed interleaved with each other."""
    out: List[List[Scenario]] = []
    for sc in scenarios:
        if out and out[-1][0].group == sc.group:
            out[-1].append(sc)
        else:
            out.append([sc])
    return out


def interleave(owner: Dict[Key, Session], rounds: int, rng: random.Random) -> Set[Key]:
    """Takes `rounds` values of every cell, one per cell per round in a shuffled order; the cells
    whose timed code raised (no more values are taken of them)."""
    failed: Set[Key] = set()
    for _ in range(rounds):
        order = [k for k in owner if k not in failed]
        rng.shuffle(order)
        for key in order:
            if not owner[key].value(key):
                failed.add(key)
    return failed


def run(job: Job, sessions: List[Session], channel: Channel) -> None:
    """The job's measurement, batch by batch, with the builds in `sessions`."""
    rng = random.Random(job.sampling.seed)
    # The empty loop, once per process; under "process" isolation the first build's process
    # stands for all (it is the same interpreter binary, and the loop holds no build).
    if job.overhead and sessions and (isinstance(sessions[0], Remote) or sessions[0].builds):
        sessions[0].overhead()
    # The scenarios of one group are timed interleaved with each other as well as across builds:
    # each round times every (scenario, build) once, in a shuffled order, so the comparisons
    # inside a build (vectorcall vs tp_call) are paired by round just as the modes are.
    for batch in batches(job.scenarios):
        owner: Dict[Key, Session] = {}
        for session in sessions:
            owner.update((key, session) for key in session.prepare([sc for sc in batch if not sc.isolate]))
        # A scenario that isolates gets module state of its own: its builds in processes started
        # for it (one by one, so that no start-up overlaps a timed step), timed in the same rounds.
        own: List[Remote] = []
        for sc in (sc for sc in batch if sc.isolate):
            for builds in ([(b,) for b in job.builds] if job.isolation == "process" else [job.builds]):
                own.append(Remote(job, builds, channel, (sc,)))
                if not own[-1].dead:
                    owner.update((key, own[-1]) for key in own[-1].prepare([sc]))
        failed = interleave(owner, job.sampling.values, rng)
        for session in sessions + [r for r in own if not r.dead]:
            session.finish(failed)
        for remote in own:
            remote.close()
    channel.emit("done")


def collect(local: Local, channel: Channel) -> None:
    """The tests' outcomes in the first build that loads: which are benchmarks (the scenarios)."""
    if local.builds:
        for node, outcome in local.outcomes(local.builds[0][0]).items():
            channel.emit("test", node=node, status=outcome.status, reason=outcome.reason)
    channel.emit("done")


def main(stdin: IO[str] = sys.stdin) -> None:
    fd = open_channel()
    try:
        job = parse_job(stdin.readline())
    except JobError as e:
        sys.exit("abibench worker: %s" % e)
    channel = Channel(fd, job.token)
    if job.serve:
        serve(Local(job, channel), job, channel, stdin)
    elif job.pytest and job.pytest.collect:
        collect(Local(job, channel), channel)
    elif job.isolation == "process":
        remotes = [Remote(job, (b,), channel) for b in job.builds]
        run(job, [r for r in remotes if not r.dead], channel)
    else:
        run(job, [Local(job, channel)], channel)


if __name__ == "__main__":
    main()
