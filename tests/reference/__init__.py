"""numpy references that hold the compiled kernels to the math (not part of the package)."""
