"""Sphinx configuration: MyST Markdown, autodoc with Google-style docstrings, furo."""

from __future__ import annotations

import minari_namespaces

project = "minari-namespaces"
author = "minari-namespaces developers"
copyright = "2026, minari-namespaces developers"
release = minari_namespaces.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]

html_theme = "furo"
html_title = "minari-namespaces"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Types from other libraries that autodoc cannot resolve without network access.
suppress_warnings = ["myst.xref_missing"]
