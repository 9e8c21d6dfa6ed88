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

html_static_path = ["_static"]
# Long lines in code blocks wrap instead of being cut off at the column's edge.
html_css_files = ["code-blocks.css"]

autodoc_member_order = "bysource"
# Types in the signature, which leaves each field list as the docstring orders it:
# Parameters, Returns, Raises. (In the description, autodoc appended the types'
# Parameters field after Raises wherever a docstring had no Args section.)
autodoc_typehints = "signature"
# A signature longer than this puts one parameter per line.
python_maximum_signature_line_length = 88
# api.md chooses each page's members, their order and where bases are shown (the
# errors' builtins, yes; the stores' internal base class, no). Names show without modules.
autodoc_default_options: dict[str, object] = {}
add_module_names = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Types from other libraries that autodoc cannot resolve without network access.
suppress_warnings = ["myst.xref_missing"]
