"""The code that runs *inside* the sandbox, and nothing else: the trust boundary is this folder.

Every module here imports only the standard library and NumPy, and is copied into each
sandbox (see :func:`convlib.grading.sandbox.make_public_lib`):

* ``runner.py`` is the program the sandbox starts: it executes a submission's cells and
  answers the judge's probe calls with plain data;
* ``probes.py`` holds the probes every assignment uses (an assignment's own probes are in its
  spec, each checked by :func:`convlib.grading.judge.probe` to run alone);
* ``student.py`` holds the helpers student notebooks import while they work
  (``time_limit``, ``assert_close``).

Nothing outside this folder runs in the sandbox, and nothing here decides a grade.
"""
