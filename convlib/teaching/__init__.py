"""Teaching aids of the book: figures (:mod:`~convlib.teaching.viz`), widgets
(:mod:`~convlib.teaching.widgets`) and data that ship with installed packages
(:mod:`~convlib.teaching.data`).

Import the module you need (``import convlib.teaching.viz as viz``); this subpackage
needs the ``teaching`` extra (matplotlib, ipywidgets, scikit-learn, Pillow), which
``import convlib`` never loads.
"""
