"""fortran-torch-bench: what it costs to call PyTorch models from Fortran.

The package defines and exports the benchmark models, runs the benchmark
suite, and turns the drivers' JSON results into reports (``ftbench --help``).
"""

__version__ = "0.2.0"
