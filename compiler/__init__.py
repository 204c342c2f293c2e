"""sipc compiler: OpenSIPS script text -> AST -> checked AST -> Python source."""
