"""sipc standard library: the OpenSIPS script functions, one module per OpenSIPS module.

Importing `stdlib` imports every implemented module, so `REGISTRY` is complete.
"""

from stdlib import (
    _modules,
    _registry,
    _unsupported,
    auth,
    auth_db,
    cfgutils,
    core,
    maxfwd,
    registrar,
    rr,
    sdpops,
    signaling,
    sipmsgops,
    sl,
    textops,
    tm,
    usrloc,
)
from stdlib._handles import PvHandle
from stdlib._modules import MODPARAMS, modparam_spec, set_modparam
from stdlib._registry import (
    MODULES,
    REGISTRY,
    FunctionSpec,
    ModparamSpec,
    ParamKind,
    ParamSpec,
    UnsupportedSpec,
    functions_of,
    is_known,
    lookup,
)
from stdlib._unsupported import UNSUPPORTED

__all__ = [
    "MODPARAMS",
    "MODULES",
    "REGISTRY",
    "UNSUPPORTED",
    "FunctionSpec",
    "ModparamSpec",
    "ParamKind",
    "ParamSpec",
    "PvHandle",
    "UnsupportedSpec",
    "_modules",
    "_registry",
    "_unsupported",
    "auth",
    "auth_db",
    "cfgutils",
    "core",
    "functions_of",
    "is_known",
    "lookup",
    "maxfwd",
    "modparam_spec",
    "registrar",
    "rr",
    "sdpops",
    "set_modparam",
    "signaling",
    "sipmsgops",
    "sl",
    "textops",
    "tm",
    "usrloc",
]
