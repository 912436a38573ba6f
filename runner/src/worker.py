# abibench measurement worker: runs inside the interpreter under test (3.8+, stdlib only).
#
# Reads one JSON job on stdin, loads every build it names (each its own copy of `bench_ext`),
# and for each scenario times all builds interleaved: one value per build per round, in a
# shuffled order, so drift on a noisy machine hits every mode alike. Writes JSON lines on stdout;
# an "at" line precedes every step so the runner can name the cell if this process dies.
import gc
import importlib.util
import json
import random
import sys
import timeit
import traceback


def gil_enabled():
    # A free-threaded interpreter (3.13+) turns the GIL back on when it imports an extension that
    # does not declare free-threading support; every cell records which way it was timed.
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def emit(**event):
    if event["ev"] == "cell":
        event["gil"] = gil_enabled()
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def load(mode, path):
    spec = importlib.util.spec_from_file_location("bench_ext", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if getattr(module, "MODE", None) != mode:
        raise ImportError("%s reports MODE=%r, expected %r" % (path, getattr(module, "MODE", None), mode))
    return module


def calibrate(timer, min_time):
    """Smallest loop count (roughly) whose value takes at least min_time seconds."""
    loops = 1
    while True:
        t = timer.timeit(loops)
        if t >= min_time:
            return loops
        # Aim 20 % past the target from the last estimate, growing at most 10x per step.
        loops = max(loops + 1, min(loops * 10, int(loops * min_time * 1.2 / max(t, 1e-9))))


def tail(text, lines=20):
    return "\n".join(text.strip().splitlines()[-lines:])


def main():
    job = json.load(sys.stdin)
    sampling = job["sampling"]
    rng = random.Random(sampling["seed"])
    skip = {tuple(c) for c in job.get("skip", [])}

    builds = []
    for b in job["builds"]:
        emit(ev="at", mode=b["mode"], phase="load")
        try:
            builds.append((b["mode"], load(b["mode"], b["path"])))
            emit(ev="loaded", mode=b["mode"])
        except BaseException as e:  # noqa: an ImportError or SystemError is a finding, not a failure
            emit(ev="load_failed", mode=b["mode"], error="%s: %s" % (type(e).__name__, e))

    if job.get("overhead") and builds:
        # The empty loop's cost per iteration, subtracted from every value by the analysis.
        emit(ev="at", phase="overhead")
        empty = timeit.Timer("pass")
        loops = calibrate(empty, sampling["min_time"])
        emit(ev="overhead", loops=loops, values=[empty.timeit(loops) for _ in range(sampling["values"])])

    for sc in job["scenarios"]:
        name = sc["name"]
        timers = {}
        for mode, ext in builds:
            if (name, mode) in skip:
                continue
            if not hasattr(ext, sc["function"]):
                reason = ext.NOT_AVAILABLE.get(sc["function"])
                if reason is None:
                    emit(ev="cell", scenario=name, mode=mode, status="error",
                         reason="bench_ext has no %r and does not list it in NOT_AVAILABLE" % sc["function"])
                else:
                    emit(ev="cell", scenario=name, mode=mode, status="not_available", reason=reason)
                continue
            try:
                emit(ev="at", scenario=name, mode=mode, phase="calibrate")
                timer = timeit.Timer(sc["stmt"], "f = ext.%s\n%s" % (sc["function"], sc["setup"]),
                                     globals={"ext": ext, "n": sc["n"]})
                loops = calibrate(timer, sampling["min_time"])
                emit(ev="at", scenario=name, mode=mode, phase="warmup")
                warmups = [timer.timeit(loops) for _ in range(sampling["warmups"])]
                timers[mode] = (timer, loops, warmups, [])
            except Exception:
                emit(ev="cell", scenario=name, mode=mode, status="error", reason=tail(traceback.format_exc()))

        failed = set()
        for _ in range(sampling["values"]):
            order = [m for m in timers if m not in failed]
            rng.shuffle(order)
            for mode in order:
                timer, loops, _, values = timers[mode]
                emit(ev="at", scenario=name, mode=mode, phase="value")
                try:
                    values.append(timer.timeit(loops))
                except Exception:
                    failed.add(mode)
                    emit(ev="cell", scenario=name, mode=mode, status="error", reason=tail(traceback.format_exc()))
        for mode, (timer, loops, warmups, values) in timers.items():
            if mode not in failed:
                emit(ev="cell", scenario=name, mode=mode, status="ok", loops=loops, warmups=warmups, values=values)
        gc.collect()
    emit(ev="done")


main()
