"""Teaching aids of the book: figures (:mod:`~convlib.teaching.viz`), widgets
(:mod:`~convlib.teaching.widgets`), data that ship with installed packages
(:mod:`~convlib.teaching.data`) and robust timings for the speed comparisons
(:mod:`~convlib.teaching.timing`).

Import the module you need (``import convlib.teaching.viz as viz``); this subpackage
needs the ``teaching`` extra (matplotlib, ipywidgets, scikit-learn, Pillow), which
``import convlib`` never loads.
"""
