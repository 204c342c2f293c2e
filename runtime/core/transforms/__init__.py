"""The transformation families, one module each; ``runtime.core.transformations`` is the
entry point that dispatches ``{class.name,args}`` to them."""
