"""The book machinery: chapter parameters (:mod:`.parameters`), claims and verdicts
(:mod:`.claims`), the figure style (:mod:`.plots`), the runner that executes the notebooks and
builds the HTML (:mod:`.runner`, ``python -m pruninglib.book``) and a Sphinx extension
(:mod:`.sphinx`)."""
from .parameters import ParameterError, parameters_for, parameters_from, print_environment

__all__ = ["ParameterError", "parameters_for", "parameters_from", "print_environment"]
