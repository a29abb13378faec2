"""The course's maintenance commands: build, translate, execute, grade.

Each module is a command, run from the repository root as ``python -m tools.NAME``
(``python -m tools.i18n update``, ``python -m tools.execute chapters/12_gpu_and_scale.ipynb``)
or, as before, as a script, ``python tools/NAME.py``; tests import them as
``tools.NAME``. They need the authors' environment (``make venv``), where ``convlib`` is
installed; none of them is part of the installed package.
"""
