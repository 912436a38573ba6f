# abibench measurement worker: runs inside the interpreter under test (3.8+, stdlib only).
#
# Reads one JSON job on stdin, loads every build it names (each its own copy of `bench_ext`),
# and measures every scenario in every build, in one of two ways:
# - wall time: all builds and the scenarios of one group interleaved, one value per (scenario,
#   build) per round in a shuffled order, so drift on a noisy machine hits every mode and every
#   path of a comparison alike, and both pair by round;
# - instructions (under callgrind): each count is the difference between a region of 2L and one
#   of L loop iterations, so setup and call overhead cancel exactly; L is derived from counted
#   probe regions, not from time, so the whole sequence, and hence every count, is reproducible.
# Writes JSON lines, each with the job's token, on the original stdout, which only events use:
# fd 1 is pointed at stderr before any timed code runs, so what it prints does not reach, split or
# forge an event (code that deliberately finds the descriptor and the token still could). An "at"
# line precedes every step so the runner can name the cell if this process dies, and says how long
# a timed step should take so a hang is caught early. With a group's scenarios interleaved, a crash
# that surfaces late is pinned to the step that was running, which may not be the one that caused it.
import gc
import importlib.util
import json
import os
import random
import re
import sys
import timeit
import traceback


def gil_enabled():
    # A free-threaded interpreter (3.13+) turns the GIL back on when it imports an extension that
    # does not declare free-threading support; every cell records which way it was timed.
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def open_channel():
    """The event stream's own descriptor: a copy of the original stdout. fd 1 (Python's and C's
    stdout) now leads to stderr."""
    fd = os.dup(1)
    os.dup2(2, 1)
    return fd


CHANNEL = open_channel()
TOKEN = None  # the job's, set once it is read


def emit(**event):
    if event["ev"] == "cell":
        event["gil"] = gil_enabled()
    event["token"] = TOKEN
    data = (json.dumps(event) + "\n").encode()
    while data:
        data = data[os.write(CHANNEL, data):]


def load(mode, path):
    spec = importlib.util.spec_from_file_location("bench_ext", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if getattr(module, "MODE", None) != mode:
        raise ImportError("%s reports MODE=%r, expected %r" % (path, getattr(module, "MODE", None), mode))
    return module


def size_loops(timer, min_time):
    """Smallest loop count (roughly) whose value takes at least min_time seconds, and how long
    a value of that many loops took."""
    loops = 1
    while True:
        t = timer.timeit(loops)
        if t >= min_time:
            return loops, t
        # Aim 20 % past the target from the last estimate, growing at most 10x per step.
        loops = max(loops + 1, min(loops * 10, int(loops * min_time * 1.2 / max(t, 1e-9))))


class Callgrind:
    """Counts instructions of a callable run inside bench_ext's callgrind region."""

    def __init__(self, marker, out_dir, target):
        self.region = marker.callgrind_region
        # callgrind writes part k of this process to <out>/cg.<pid>.<k> when region k ends.
        self.prefix = os.path.join(out_dir, "cg.%d." % os.getpid())
        self.parts = 0
        self.target = target

    def count(self, fn):
        self.region(fn)
        self.parts += 1
        with open(self.prefix + str(self.parts)) as f:
            return int(re.search(r"^totals: (\d+)", f.read(), re.M).group(1))

    def sample(self, timer, pairs):
        """(loops, [instructions of exactly `loops` iterations] * pairs)."""
        # Per-iteration cost from a 2-iteration minus a 1-iteration region (setup cancels), and L
        # rounded down to a power of two: a probe that wobbles with heap state rarely moves L.
        one = self.count(lambda: timer.timeit(1))
        per_iteration = max(1, self.count(lambda: timer.timeit(2)) - one)
        loops = 1 << max(0, min(17, (self.target // per_iteration).bit_length() - 1))
        self.count(lambda: timer.timeit(loops))  # warm-up: specialisation, caches, allocator
        values = []
        for _ in range(pairs):
            short = self.count(lambda: timer.timeit(loops))
            values.append(self.count(lambda: timer.timeit(2 * loops)) - short)
        return loops, values


def tail(text, lines=20):
    return "\n".join(text.strip().splitlines()[-lines:])


def failure():
    """The exception being handled: its type and message first (tables and reports show a
    reason's first line), then the traceback's tail."""
    kind, value, _ = sys.exc_info()
    head = traceback.format_exception_only(kind, value)[-1].strip()
    return head + "\n" + tail(traceback.format_exc())


def prepare(sc, build, ext, skip):
    """The scenario's timer in this build, or None after reporting why there is none."""
    name = sc["name"]
    if (name, build) in skip:
        return None
    if not hasattr(ext, sc["function"]):
        reason = ext.NOT_AVAILABLE.get(sc["function"])
        if reason is None:
            emit(ev="cell", scenario=name, build=build, status="error",
                 reason="bench_ext has no %r and does not list it in NOT_AVAILABLE" % sc["function"])
        else:
            emit(ev="cell", scenario=name, build=build, status="not_available", reason=reason)
        return None
    try:
        return timeit.Timer(sc["stmt"], "f = ext.%s\n%s" % (sc["function"], sc["setup"]),
                            globals={"ext": ext, "n": sc["n"]})
    except BaseException:
        emit(ev="cell", scenario=name, build=build, status="error", reason=failure())
        return None


def main():
    global TOKEN
    job = json.load(sys.stdin)
    TOKEN = job["token"]
    sampling = job["sampling"]
    rng = random.Random(sampling["seed"])
    skip = {tuple(c) for c in job.get("skip", [])}

    builds = []  # (label, module): the label names the build in every event
    for b in job["builds"]:
        emit(ev="at", build=b["label"], phase="load")
        try:
            builds.append((b["label"], load(b["mode"], b["path"])))
            emit(ev="loaded", build=b["label"])
        except BaseException as e:  # noqa: an ImportError or SystemError is a finding, not a failure
            emit(ev="load_failed", build=b["label"], error="%s: %s" % (type(e).__name__, e))

    counter = None
    if sampling.get("callgrind_out") and builds:
        counter = Callgrind(builds[0][1], sampling["callgrind_out"], sampling["target_instructions"])

    if job.get("overhead") and builds:
        # The empty loop's cost per iteration, subtracted from every value by the analysis.
        emit(ev="at", phase="overhead")
        empty = timeit.Timer("pass")
        if counter:
            loops, values = counter.sample(empty, sampling["values"])
        else:
            loops, _ = size_loops(empty, sampling["min_time"])
            values = [empty.timeit(loops) for _ in range(sampling["values"])]
        emit(ev="overhead", loops=loops, values=values)

    # The scenarios of one group are timed interleaved with each other as well as across builds:
    # each round times every (scenario, build) once, in a shuffled order, so the comparisons
    # inside a build (vectorcall vs tp_call) are paired by round just as the modes are.
    batches = []
    for sc in job["scenarios"]:
        if batches and batches[-1][0]["group"] == sc["group"]:
            batches[-1].append(sc)
        else:
            batches.append([sc])
    for batch in batches:
        timers = {}  # (scenario, build) -> [timer, loops, took, warmups, values]
        for sc in batch:
            for build, ext in builds:
                timer = prepare(sc, build, ext, skip)
                if timer is None:
                    continue
                name = sc["name"]
                try:
                    if counter:
                        emit(ev="at", scenario=name, build=build, phase="count")
                        loops, values = counter.sample(timer, sampling["values"])
                        emit(ev="cell", scenario=name, build=build, status="ok", loops=loops, warmups=[],
                             values=values)
                        continue
                    emit(ev="at", scenario=name, build=build, phase="loop sizing")
                    loops, took = size_loops(timer, sampling["min_time"])
                    emit(ev="at", scenario=name, build=build, phase="warmup", expect_s=took * sampling["warmups"])
                    warmups = [timer.timeit(loops) for _ in range(sampling["warmups"])]
                    timers[(name, build)] = (timer, loops, took, warmups, [])
                # Whatever the timed code raises, SystemExit included, is its cell's error.
                except BaseException:
                    emit(ev="cell", scenario=name, build=build, status="error", reason=failure())

        failed = set()
        for _ in range(sampling["values"]):
            order = [k for k in timers if k not in failed]
            rng.shuffle(order)
            for key in order:
                timer, loops, took, _, values = timers[key]
                emit(ev="at", scenario=key[0], build=key[1], phase="value", expect_s=took)
                try:
                    values.append(timer.timeit(loops))
                except BaseException:
                    failed.add(key)
                    emit(ev="cell", scenario=key[0], build=key[1], status="error", reason=failure())
        for (name, build), (timer, loops, _, warmups, values) in timers.items():
            if (name, build) not in failed:
                emit(ev="cell", scenario=name, build=build, status="ok", loops=loops, warmups=warmups, values=values)
        gc.collect()
    emit(ev="done")


main()
