"""The documentation site: the ```` ```nndiagram ```` fence, the gallery and the MkDocs plugin.

The flow: a fence or a gallery page asks for a spec (``request.py``); ``render.py`` runs the
pipeline (spec -> diagram, equations, check) once per content hash (``cache.py``), many specs in
parallel; ``html.py`` turns the result into escaped HTML. Entry points:

- ``fence.py`` — the Markdown fence (pymdownx.superfences custom fence), for any generator;
- ``gallery.py`` — one page per spec (``nndiagram generate`` and the plugin);
- ``plugin.py`` — the thin MkDocs/ProperDocs plugin ``nndiagram`` (with ``assets.py``: MathJax);
- ``build.py`` — ``nndiagram build`` / ``serve``;
- ``plots.py``, ``formulas.py``, ``schema_doc.py`` — the activation and schema fences.
"""
