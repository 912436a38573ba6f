# One matrix cell, in a throwaway interpreter process (the runner records a crash by its signal).
# argv: CANONICAL_DIR FORCED_ROOT MODULE EXPECTED_MODE. CANONICAL_DIR holds the module as built;
# FORCED_ROOT is a sys.path entry under which MODULE (`bench_ext`, `pkg._core`) is the same file
# renamed to this interpreter's EXT_SUFFIX. EXPECTED_MODE is bench-ext's MODE, empty for a user's
# crate (which is imported, not called). Prints one JSON line per step, flushed, so a crash in
# the forced load keeps the canonical answer. Runs on 3.8+, stdlib only.
import importlib
import importlib.machinery
import json
import os
import sys

canonical_dir, forced_root, module, expected_mode = sys.argv[1:5]
leaf = module.rpartition(".")[2]


def say(**event):
    print(json.dumps(event), flush=True)


class WrongBuild(Exception):
    """What loaded is not the build that was meant (its place or its MODE differs)."""


# a. Would the import system find the file under the name an installer gives it? That is decided
# by the name alone (this interpreter's EXTENSION_SUFFIXES), so only the finder runs here; loading
# the same bytes is step b's job.
spec = importlib.machinery.PathFinder.find_spec(leaf, [canonical_dir])
say(step="canonical", found=spec is not None)

# b. The same file under a name this interpreter accepts (its EXT_SUFFIX): import it for real
# (with its package), and check it is the build that was meant.
sys.path.insert(0, forced_root)
try:
    ext = importlib.import_module(module)
    expected_dir = os.path.join(forced_root, *module.split(".")[:-1])
    if os.path.dirname(ext.__file__) != expected_dir:
        raise WrongBuild("imported %s, not the copy in %s" % (ext.__file__, expected_dir))
    if expected_mode:
        ext.call_no_args()
        if ext.MODE != expected_mode:
            raise WrongBuild("loaded MODE %r, expected %r" % (ext.MODE, expected_mode))
    say(step="forced", exception=None, message=None)
except BaseException as e:  # SystemError, PanicException (a BaseException) and friends alike
    say(step="forced", exception=type(e).__name__, message=str(e))
