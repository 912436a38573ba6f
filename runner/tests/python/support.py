"""What the worker's tests share: the worker imported as a module, jobs, stand-in builds, and the
worker run as abibench runs it (`python -s -B -c SOURCE`, the job on stdin)."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
WORKER = HERE.parents[1] / "src" / "measure" / "worker.py"
PLUGIN = HERE.parents[1] / "src" / "measure" / "pytest_plugin.py"
SOURCE = WORKER.read_text()
# The job abibench serializes (protocol.rs checks that it still does).
JOB: Dict[str, Any] = json.loads((HERE / "job.json").read_text())
TOKEN = JOB["token"]
# The command that runs this interpreter, as abibench would start the worker: some are launcher
# scripts whose binary (sys.executable) does not start alone. scripts/test-python.sh sets it.
PYTHON = [os.environ.get("ABIBENCH_TEST_PYTHON", sys.executable)]


def import_worker() -> Any:
    spec = importlib.util.spec_from_file_location("abibench_worker", str(WORKER))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


worker = import_worker()


def job(**fields: Any) -> Dict[str, Any]:
    """The fixture job with some fields replaced, and `sampling` updated rather than replaced."""
    out = copy.deepcopy(JOB)
    out["sampling"].update(fields.pop("sampling", {}))
    out.update(fields)
    return out


def scenario(name: str, stmt: str = "f(1)", group: str = "g", function: Optional[str] = "add",
             setup: str = "", isolate: bool = False) -> Dict[str, Any]:
    return {"name": name, "group": group, "function": function, "setup": setup, "stmt": stmt, "n": 1,
            "isolate": isolate}


class Builds:
    """Pure-Python stand-ins for builds, in a temporary directory: bench-ext copies (a `MODE` and
    functions) or copies of a user's package `pkg.core`. The worker loads a .py file as it loads
    an extension, by path or by import name."""

    def __init__(self, test: Any) -> None:
        self.dir = tempfile.TemporaryDirectory()
        test.addCleanup(self.dir.cleanup)
        self.root = Path(self.dir.name)

    def builtin(self, mode: str, body: str = "", reports: Optional[str] = None) -> Dict[str, str]:
        """A copy of bench_ext built in `mode`, whose MODE says `reports` (by default, `mode`)."""
        path = self.root / mode / "bench_ext.py"
        path.parent.mkdir()
        code = "MODE = %r\ndef add(x):\n    return x + 1\n" % (reports or mode)
        path.write_text(code + textwrap.dedent(body))
        return {"label": mode, "mode": mode, "path": str(path)}

    def package(self, label: str, body: str = "", leaf: str = "core") -> Dict[str, str]:
        """A copy of `pkg` with `pkg.core` (WHO names the copy) under a root of its own."""
        pkg = self.root / label / "pkg"
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "core.py").write_text("WHO = %r\n" % label + textwrap.dedent(body))
        return {"label": label, "mode": "unlimited", "path": str(pkg / ("%s.py" % leaf))}


def quick(**fields: Any) -> Dict[str, Any]:
    """A job of stand-in builds that takes milliseconds: in this process's interpreter, in-process."""
    base = dict(isolation="in-process", worker_source=None, python=PYTHON, skip=[], overhead=True, pytest=None,
                sampling={"min_time": 0.0002, "values": 3, "warmups": 1, "seed": 7})
    base.update(fields)
    # As abibench sends it: only to a worker that starts copies of itself.
    if base["isolation"] == "process" or any(sc["isolate"] for sc in base.get("scenarios", [])):
        base["worker_source"] = SOURCE
    return job(**base)


Event = Dict[str, Any]


def events_of(data: bytes) -> List[Event]:
    """The event stream, every line checked to be an event of the fixture job."""
    events = [json.loads(line) for line in data.decode().splitlines()]
    for e in events:
        assert e.pop("token") == TOKEN, e
    return events


def run_worker(job_or_text: Any, timeout: float = 60) -> Tuple[int, List[Event], str]:
    """Runs the worker as abibench does: (exit code, events, stderr)."""
    text = job_or_text if isinstance(job_or_text, str) else json.dumps(job_or_text)
    proc = subprocess.run(PYTHON + ["-s", "-B", "-c", SOURCE], input=(text + "\n").encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return proc.returncode, events_of(proc.stdout), proc.stderr.decode()


def cells(events: List[Event]) -> Dict[Tuple[str, str], Event]:
    out = {}
    for e in events:
        if e["ev"] == "cell":
            key = (e["scenario"], e["build"])
            assert key not in out, "two outcomes for %s" % (key,)
            out[key] = e
    return out


def steps(events: List[Event], phase: str) -> List[Tuple[str, str]]:
    """The cells the "at" events of `phase` announce, in order."""
    return [(e["scenario"], e["build"]) for e in events if e["ev"] == "at" and e["phase"] == phase]


class Recorder:
    """A channel into a temporary file, read back as events."""

    def __init__(self, test: Any) -> None:
        self.file = tempfile.TemporaryFile()
        test.addCleanup(self.file.close)
        self.channel = worker.Channel(self.file.fileno(), TOKEN)

    def events(self) -> List[Event]:
        self.file.seek(0)
        return events_of(self.file.read())


def forget_pkg() -> None:
    """Drops what a test imported of the stand-in package `pkg` from this process."""
    for name in [k for k in sys.modules if k == "pkg" or k.startswith("pkg.")]:
        del sys.modules[name]

