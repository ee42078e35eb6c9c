"""Imported only by the process pool's fork server (:data:`pruninglib.runs.executors.
_PRELOAD` names it): the fork server then dies with the sweep that started it, whatever kills
the sweep (SIGKILL included; Linux ``PR_SET_PDEATHSIG``). Its workers set the same signal
towards the fork server, so they die with it, and the resource tracker exits once they are
gone: a killed sweep leaves no process behind. Importing this module anywhere else would tie
that process to its own parent: don't."""
import os

from .executors import die_with_parent

die_with_parent()
if os.getppid() == 1:  # the sweep died before we got here
    os._exit(0)
