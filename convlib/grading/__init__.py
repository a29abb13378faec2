"""Grading the course's assignments: the submission is untrusted, the grader is a judge.

* ``convlib.grading.sandbox`` runs a submission under bubblewrap with limits set from
  outside; ``convlib.grading.inside`` is the only code that runs inside it (the runner, the
  common probes, the students' helpers), and imports only the standard library and NumPy.
* ``convlib.grading.session`` runs one submission's cells and the judge's probe calls in a
  sandbox, restarting past a step that hangs, and reads what comes back as bounded data.
* ``convlib.grading.harvest`` reads submissions (folders, zips, notebooks) as data.
* ``convlib.grading.judge`` builds test inputs (hidden ones from a secret seed), asks
  the sandbox for the student's outputs and compares them with trusted references.
* ``convlib.grading.rules`` enforces the exercises' rules (a static check of the code,
  a scaling test for speed) and flags tampering attempts.
* ``convlib.grading.report`` writes the CSV, the feedback files and the written answers.
* ``convlib.grading.specs`` lists what each assignment tests.
* ``convlib.grading.batch`` grades a class, each submission in its own process under a
  watchdog.
* ``convlib.grading.inside.student`` holds the helpers student notebooks import while they
  work (``time_limit``, ``assert_close``): they inform, they decide no grade.
"""

from convlib.grading.inside.student import GradingTimeout, assert_close, time_limit

__all__ = ["GradingTimeout", "time_limit", "assert_close"]
