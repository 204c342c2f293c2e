"""sipc standard library: the OpenSIPS script functions, one module per OpenSIPS module."""
