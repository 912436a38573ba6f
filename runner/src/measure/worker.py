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
import gc
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


def load(job, build):
    """(module, its sys.modules entries or None): one build, loaded beside the others."""
    path = build["path"]
    if job["builtin"]:
        # Each copy of bench_ext under the same name; scenarios reach it through `ext`.
        spec = importlib.util.spec_from_file_location("bench_ext", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if getattr(module, "MODE", None) != build["mode"]:
            raise ImportError("%s reports MODE=%r, expected %r" % (path, getattr(module, "MODE", None), build["mode"]))
        return module, None
    # A user's module by its real import name, package and all, from the build's own root; what
    # the import finds must be this build (a stale file elsewhere on the path must not win).
    name = job["module"]
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


def warm_up(timer, loops, took, count):
    """`count` warm-up values of `loops` loops. The first is loop sizing's last probe (`took`, a
    run of exactly `loops` loops, at least min_time): in the reference run a separate warm-up after
    it was distributed like the first values (median within 0.2 %, in every interpreter), so it
    bought nothing but time."""
    return ([took] + [timer.timeit(loops) for _ in range(count - 1)])[:count]


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
        # The totals line closes the part; reading only its tail is a sixth of the cost of a
        # region under callgrind (which runs this Python ~50x slower too).
        with open(self.prefix + str(self.parts), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 512))
            return int(re.search(rb"^totals: (\d+)", f.read(), re.M).group(1))

    def sample(self, timer, pairs):
        """(loops, [instructions of exactly `loops` iterations] * pairs)."""
        # Per-iteration cost from a 2-iteration minus a 1-iteration region (setup cancels), and L
        # rounded down to a power of two: a probe that wobbles with heap state rarely moves L.
        one = self.count(lambda: timer.timeit(1))
        per_iteration = max(1, self.count(lambda: timer.timeit(2)) - one)
        loops = 1 << max(0, min(17, (self.target // per_iteration).bit_length() - 1))
        timer.timeit(loops)  # warm-up, uncounted: specialisation, caches, allocator
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


class Local:
    """Builds loaded in this process, and the state of each (scenario, build) cell of a batch."""

    def __init__(self, job):
        self.job, self.sampling = job, job["sampling"]
        self.skip = {tuple(c) for c in job.get("skip", [])}
        self.builds = []  # (label, module, sys.modules entries): the label names it in every event
        for b in job["builds"]:
            emit(ev="at", build=b["label"], phase="load")
            try:
                module, entries = load(job, b)
                self.builds.append((b["label"], module, entries))
                emit(ev="loaded", build=b["label"])
            except BaseException as e:  # noqa: an ImportError or SystemError is a finding, not a failure
                emit(ev="load_failed", build=b["label"], error="%s: %s" % (type(e).__name__, e))
        self.entries = {label: entries for label, _, entries in self.builds}
        self.counter = None
        if self.sampling.get("callgrind_out") and self.builds:
            self.counter = Callgrind(self.builds[0][1], self.sampling["callgrind_out"], self.sampling["target_instructions"])
        self.cells = {}  # (scenario, build) -> [timer, loops, took, warmups, values]

    def activate(self, build):
        """Makes `import <module>` find this build (user modules only)."""
        entries = self.entries.get(build)
        if entries:
            sys.modules.update(entries)

    def overhead(self):
        """The empty loop's cost per iteration, subtracted from every value by the analysis."""
        emit(ev="at", phase="overhead")
        empty = timeit.Timer("pass")
        if self.counter:
            loops, values = self.counter.sample(empty, self.sampling["values"])
        else:
            loops, _ = size_loops(empty, self.sampling["min_time"])
            values = [empty.timeit(loops) for _ in range(self.sampling["values"])]
        emit(ev="overhead", loops=loops, values=values)

    def timer(self, sc, build, ext):
        """The scenario's timer in this build, or None after reporting why there is none."""
        name, function = sc["name"], sc.get("function")
        if function and not hasattr(ext, function):
            reason = getattr(ext, "NOT_AVAILABLE", {}).get(function) if self.job["builtin"] else None
            if reason is None:
                emit(ev="cell", scenario=name, build=build, status="error",
                     reason="%s has no %r%s" % (self.job["module"], function,
                                                " and does not list it in NOT_AVAILABLE" if self.job["builtin"] else ""))
            else:
                emit(ev="cell", scenario=name, build=build, status="not_available", reason=reason)
            return None
        setup = ("f = ext.%s\n" % function if function else "") + sc["setup"]
        try:
            self.activate(build)
            return timeit.Timer(sc["stmt"], setup, globals={"ext": ext, "n": sc["n"]})
        except BaseException:
            emit(ev="cell", scenario=name, build=build, status="error", reason=failure())
            return None

    def prepare(self, batch):
        """Sizes and warms every cell of the batch (or counts it, under callgrind); the cells to
        take values of, in rounds."""
        ready = []
        for sc in batch:
            for build, ext, _ in self.builds:
                name = sc["name"]
                if (name, build) in self.skip:
                    continue
                timer = self.timer(sc, build, ext)
                if timer is None:
                    continue
                try:
                    self.activate(build)
                    if self.counter:
                        emit(ev="at", scenario=name, build=build, phase="count")
                        loops, values = self.counter.sample(timer, self.sampling["values"])
                        emit(ev="cell", scenario=name, build=build, status="ok", loops=loops, warmups=[],
                             values=values)
                        continue
                    emit(ev="at", scenario=name, build=build, phase="loop sizing")
                    loops, took = size_loops(timer, self.sampling["min_time"])
                    emit(ev="at", scenario=name, build=build, phase="warmup", expect_s=took * self.sampling["warmups"])
                    warmups = warm_up(timer, loops, took, self.sampling["warmups"])
                    self.cells[(name, build)] = [timer, loops, took, warmups, []]
                    ready.append((name, build))
                # Whatever the timed code raises, SystemExit included, is its cell's error.
                except BaseException:
                    emit(ev="cell", scenario=name, build=build, status="error", reason=failure())
        return ready

    def value(self, key):
        """One more value of the cell; False (after reporting the error) if it raised."""
        timer, loops, took, _, values = self.cells[key]
        emit(ev="at", scenario=key[0], build=key[1], phase="value", expect_s=took)
        try:
            self.activate(key[1])
            values.append(timer.timeit(loops))
            return True
        except BaseException:
            emit(ev="cell", scenario=key[0], build=key[1], status="error", reason=failure())
            return False

    def finish(self, failed):
        for (name, build), (_, loops, _, warmups, values) in self.cells.items():
            if (name, build) not in failed:
                emit(ev="cell", scenario=name, build=build, status="ok", loops=loops, warmups=warmups, values=values)
        self.cells = {}
        gc.collect()


class Remote:
    """One build in a process of its own (this script in `serve` mode), driven over pipes."""

    def __init__(self, job, build):
        sub = dict(job, builds=[build], isolation="in-process", serve=True, worker_source=None)
        # stderr is shared: a crash's traceback reaches the runner's tail as this process's would.
        self.proc = subprocess.Popen(job["python"] + ["-s", "-B", "-c", job["worker_source"]],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.send(sub)

    def send(self, message):
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def call(self, **command):
        """Sends a command and forwards the events it causes until its reply, which it returns.
        If the build's process dies, this one dies the same way, so the runner pins and records
        the crash at the cell last announced, as it would in-process."""
        self.send(command)
        while True:
            line = self.proc.stdout.readline()
            if not line:
                code = self.proc.wait()
                if code < 0:
                    signal.signal(-code, signal.SIG_DFL)
                    os.kill(os.getpid(), -code)
                os._exit(code or 1)
            event = json.loads(line)
            if event["ev"] == "reply":
                return event
            data = line
            while data:
                data = data[os.write(CHANNEL, data):]

    def overhead(self):
        self.call(cmd="overhead")

    def prepare(self, batch):
        return [tuple(k) for k in self.call(cmd="prepare", batch=[sc["name"] for sc in batch])["ready"]]

    def value(self, key):
        return self.call(cmd="value", key=list(key))["ok"]

    def finish(self, failed):
        self.call(cmd="finish", failed=[list(k) for k in failed])


def serve(local, job):
    """A build's process under "process" isolation: commands on stdin, replies as events."""
    by_name = {sc["name"]: sc for sc in job["scenarios"]}
    for line in sys.stdin:
        command = json.loads(line)
        kind = command["cmd"]
        if kind == "overhead":
            local.overhead()
            emit(ev="reply")
        elif kind == "prepare":
            emit(ev="reply", ready=local.prepare([by_name[n] for n in command["batch"]]))
        elif kind == "value":
            emit(ev="reply", ok=local.value(tuple(command["key"])))
        elif kind == "finish":
            local.finish({tuple(k) for k in command["failed"]})
            emit(ev="reply")


def batches(scenarios):
    """Consecutive scenarios of one group, which are timed interleaved with each other."""
    out = []
    for sc in scenarios:
        if out and out[-1][0]["group"] == sc["group"]:
            out[-1].append(sc)
        else:
            out.append([sc])
    return out


def main():
    global TOKEN
    job = json.loads(sys.stdin.readline())
    TOKEN = job["token"]
    sampling = job["sampling"]
    rng = random.Random(sampling["seed"])
    if job.get("serve"):
        serve(Local(job), job)
        return
    if job["isolation"] == "process":
        sessions = [Remote(job, b) for b in job["builds"]]
    else:
        sessions = [Local(job)]
    # The empty loop, once per process; under "process" isolation the first build's process
    # stands for all (it is the same interpreter binary, and the loop holds no build).
    if job.get("overhead") and sessions and (job["isolation"] == "process" or sessions[0].builds):
        sessions[0].overhead()

    # The scenarios of one group are timed interleaved with each other as well as across builds:
    # each round times every (scenario, build) once, in a shuffled order, so the comparisons
    # inside a build (vectorcall vs tp_call) are paired by round just as the modes are.
    for batch in batches(job["scenarios"]):
        owner = {}
        for session in sessions:
            owner.update((key, session) for key in session.prepare(batch))
        failed = set()
        for _ in range(sampling["values"]):
            order = [k for k in owner if k not in failed]
            rng.shuffle(order)
            for key in order:
                if not owner[key].value(key):
                    failed.add(key)
        for session in sessions:
            session.finish(failed)
    emit(ev="done")


main()
