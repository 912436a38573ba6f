# One matrix cell, in a throwaway interpreter process (the runner records a crash by its signal).
# argv: CANONICAL_DIR FORCED_DIR EXPECTED_MODE. Prints one JSON line per step, flushed, so a crash
# in the forced load keeps the canonical answer. Runs on 3.8+, stdlib only.
import importlib.machinery, json, os, sys

canonical_dir, forced_dir, expected_mode = sys.argv[1:4]


def say(**event):
    print(json.dumps(event), flush=True)


class WrongBuild(Exception):
    """What loaded is not the build that was meant (its MODE differs)."""


# a. Would the import system find the file under the name an installer gives it? That is decided
# by the name alone (this interpreter's EXTENSION_SUFFIXES), so only the finder runs here; loading
# the same bytes is step b's job.
spec = importlib.machinery.PathFinder.find_spec("bench_ext", [canonical_dir])
say(step="canonical", found=spec is not None)

# b. The same file under a name this interpreter accepts (its EXT_SUFFIX): import it for real,
# call it, and check it is the build that was meant.
sys.path.insert(0, forced_dir)
try:
    import bench_ext

    if os.path.dirname(bench_ext.__file__) != forced_dir:
        raise WrongBuild("imported %s, not the copy in %s" % (bench_ext.__file__, forced_dir))
    bench_ext.call_no_args()
    if bench_ext.MODE != expected_mode:
        raise WrongBuild("loaded MODE %r, expected %r" % (bench_ext.MODE, expected_mode))
    say(step="forced", exception=None, message=None)
except BaseException as e:  # SystemError, PanicException (a BaseException) and friends alike
    say(step="forced", exception=type(e).__name__, message=str(e))
