"""The job: parsed into dataclasses as protocol.rs writes it, refused with the culprit named when it
is not."""

from __future__ import annotations

import json
import subprocess
import unittest

from support import JOB, PYTHON, WORKER, job, run_worker, worker


class ParseJob(unittest.TestCase):
    def test_the_job_abibench_writes_parses_into_its_dataclasses(self) -> None:
        parsed = worker.parse_job(json.dumps(JOB))
        self.assertEqual(parsed.token, "0123456789abcdef")
        self.assertEqual(parsed.python, ("/opt/python3.12/bin/python3", "-X", "utf8"))
        self.assertEqual(parsed.builds[1],
                         worker.Build("abi3-py38@L1", "abi3-py38", "/cache/abi3-py38/bench_ext.abi3.so"))
        self.assertEqual(parsed.scenarios[0].n, 1000)
        self.assertIsNone(parsed.scenarios[1].function)
        self.assertEqual([s.isolate for s in parsed.scenarios], [False, True])
        self.assertEqual(parsed.skip, (("list_sum_get_item_fn", "unlimited"),))
        self.assertEqual(parsed.sampling, worker.Sampling(0.0025, 20, 1, 42, 0, None, None))
        self.assertTrue(parsed.overhead)
        self.assertFalse(parsed.serve)

    def test_a_job_survives_its_round_trip_to_a_builds_process(self) -> None:
        parsed = worker.parse_job(json.dumps(JOB))
        self.assertEqual(worker.parse_job(parsed.to_json()), parsed)
        self.assertEqual(json.loads(parsed.to_json()), dict(JOB, serve=False))

    def test_callgrind_sizes_loops_by_instructions_with_min_time_zero(self) -> None:
        parsed = worker.parse_job(json.dumps(job(sampling={"min_time": 0, "callgrind_out": "/tmp/cg"})))
        self.assertEqual((parsed.sampling.min_time, parsed.sampling.callgrind_out), (0.0, "/tmp/cg"))


class MalformedJobs(unittest.TestCase):
    def refused(self, text: str, message: str) -> None:
        with self.assertRaises(worker.JobError) as caught:
            worker.parse_job(text)
        self.assertEqual(str(caught.exception), message)

    def test_each_fault_is_named_with_its_place_in_the_job(self) -> None:
        without_seed = job()
        del without_seed["sampling"]["seed"]
        build = job()["builds"][0]
        starts = 'job: "process" isolation and scenarios that isolate need worker_source and python'
        dumped = '{"a": {"label": "unlimited", "mode": "unlimited", "path": "/cache/unlimited/b...'
        cases = [
            (job(overhead="yes"), 'job.overhead: expected true or false, got "yes"'),
            (job(sampling={"values": "5"}), 'job.sampling.values: expected a whole number >= 0, got "5"'),
            (job(sampling={"values": -1}), "job.sampling.values: expected a whole number >= 0, got -1"),
            (job(sampling={"warmups": 1.5}), "job.sampling.warmups: expected a whole number >= 0, got 1.5"),
            (job(sampling={"seed": True}), "job.sampling.seed: expected a whole number >= 0, got true"),
            (job(sampling={"min_time": -0.1}), "job.sampling.min_time: expected a number of seconds >= 0, got -0.1"),
            (without_seed, "job.sampling.seed: missing"),
            (job(builds=[build, dict(build, colour="red")]), "job.builds[1]: unknown field(s) colour"),
            (job(builds=[{"label": "a", "mode": "unlimited"}]), "job.builds[0].path: missing"),
            (job(builds={"a": build}), "job.builds: expected a list, got " + dumped),
            (job(scenarios=["f(x)"]), 'job.scenarios[0]: expected an object, got "f(x)"'),
            (job(python=["python3", 3]), "job.python[1]: expected a string, got 3"),
            (job(skip=[["s"]]), 'job.skip[0]: expected [scenario, build], got ["s"]'),
            (job(isolation="thread"), 'job.isolation: expected "in-process" or "process", got "thread"'),
            (job(worker_source=None), starts),
            (job(isolation="in-process", worker_source=None), starts),
            (dict(job(), renamed=1), "job: unknown field(s) renamed"),
        ]
        for raw, message in cases:
            with self.subTest(message):
                self.refused(json.dumps(raw), message)

    def test_what_is_not_a_job_object_at_all(self) -> None:
        self.refused("", "job: empty (nothing on stdin)")
        self.refused("[1, 2]", "job: expected an object, got [1, 2]")
        with self.assertRaisesRegex(worker.JobError, r"^job: not JSON: Expecting value: line 1 column 1"):
            worker.parse_job("job}")

    def test_the_worker_exits_with_the_reason_and_emits_nothing(self) -> None:
        code, events, stderr = run_worker(job(sampling={"values": "5"}))
        self.assertEqual((code, events), (1, []))
        self.assertEqual(stderr, 'abibench worker: job.sampling.values: expected a whole number >= 0, got "5"\n')


class Importing(unittest.TestCase):
    def test_importing_the_worker_touches_no_descriptor_reads_nothing_and_runs_nothing(self) -> None:
        # What follows the import still reaches stdout, and the job line is still on stdin.
        code = (
            "import importlib.util, sys\n"
            "spec = importlib.util.spec_from_file_location('w', sys.argv[1])\n"
            "w = importlib.util.module_from_spec(spec); sys.modules['w'] = w; spec.loader.exec_module(w)\n"
            "print('stdout is stdout'); print(sys.stdin.read(), end='')\n"
        )
        proc = subprocess.run(PYTHON + ["-c", code, str(WORKER)],
                              input=b'{"token": "t"}\n', stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual((proc.returncode, proc.stderr), (0, b""))
        self.assertEqual(proc.stdout, b'stdout is stdout\n{"token": "t"}\n')


if __name__ == "__main__":
    unittest.main()
