"""Search results as tables, Pareto fronts, plots, reports and exported configs."""
from .pareto import pareto_front
from .report import export_configs, plot_pareto, write_results

__all__ = ["pareto_front", "plot_pareto", "export_configs", "write_results"]
