"""``python -m minari_namespaces``: the command line."""

from minari_namespaces.cli import main

main()
