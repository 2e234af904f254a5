"""Analysis of search runs from their records alone: tables, Pareto fronts, plots, exported specs.

Pure pandas / numpy / matplotlib over the run folder's files; no TensorFlow and no Ray, so a
finished run can be analysed anywhere.
"""
from .pareto import ACCURACY_VS_COST, pareto_front
from .plots import plot_pareto
from .records import RunNotFoundError, load_run, load_runs, spec_of
from .report import write_report
from .results import export_configs, write_results

__all__ = ["pareto_front", "ACCURACY_VS_COST", "plot_pareto", "load_run", "load_runs", "spec_of",
           "RunNotFoundError", "export_configs", "write_results", "write_report"]
