# Asked of every interpreter: what it is and how it was built. Runs on 3.8+, stdlib only.
import importlib.machinery, json, platform, sys, sysconfig

cv = sysconfig.get_config_var
args = cv("CONFIG_ARGS") or ""
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
        "shared": bool(cv("Py_ENABLE_SHARED")),
        "prefix": sys.prefix,
        "libdir": cv("LIBDIR") or "",
        "instsoname": cv("INSTSONAME") or "",
        "ldlibrary": cv("LDLIBRARY") or "",
    },
}))
