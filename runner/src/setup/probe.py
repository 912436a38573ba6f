# Asked of every interpreter: what it is and how it was built. Runs on 3.8+, stdlib only.
import importlib.machinery
import json
import platform
import sys
import sysconfig

cv = sysconfig.get_config_var
args = cv("CONFIG_ARGS") or ""


def runs_from_libpython():
    # Whether this process's interpreter code lives in libpython*.so (position-independent, calls
    # through the PLT) rather than in the executable. Asked of the process, not of sysconfig:
    # Debian's sysconfig describes its shared build while /usr/bin/python3.X is linked statically.
    try:
        with open("/proc/self/maps") as maps:
            return any("/libpython" in line for line in maps)
    except OSError:
        return bool(cv("Py_ENABLE_SHARED"))


print(json.dumps({
    "version": list(sys.version_info[:3]),
    "full_version": sys.version,
    "implementation": sys.implementation.name,
    "soabi": cv("SOABI"),
    "ext_suffix": cv("EXT_SUFFIX") or "",
    "extension_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
    "gil_disabled": bool(cv("Py_GIL_DISABLED")),
    "build": {
        "compiler": platform.python_compiler(),
        "cc": cv("CC") or "",
        "opt": cv("OPT") or "",
        "config_args": args,
        "pgo": "--enable-optimizations" in args,
        "lto": "--with-lto" in args,
        "shared": runs_from_libpython(),
        # Debian's patches add this install scheme; its packages' build flags are not what
        # sysconfig says (see build_flags.rs).
        "debian": "deb_system" in sysconfig.get_scheme_names(),
        "prefix": sys.prefix,
        "libdir": cv("LIBDIR") or "",
        "instsoname": cv("INSTSONAME") or "",
        "ldlibrary": cv("LDLIBRARY") or "",
    },
}))
