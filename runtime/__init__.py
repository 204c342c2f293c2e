"""sipc runtime: the SIP proxy the compiled scripts run on."""

from runtime import _native

# before any hot module is imported: a compiled copy older than its source must not load
_native.install()
