"""The documentation site: the ```` ```nndiagram ```` fence, the gallery and the MkDocs plugin.

- ``fence.py`` — the Markdown fence (pymdownx.superfences custom fence), for any generator;
- ``gallery.py`` — one page per spec (``nndiagram generate`` and the plugin);
- ``plugin.py`` — the thin MkDocs/ProperDocs plugin ``nndiagram``;
- ``render.py``, ``cache.py``, ``html.py``, ``assets.py`` — the work behind them;
- ``build.py`` — ``nndiagram build`` / ``serve``.
"""
