"""Benchmarks of minari-namespaces against the real Minari and against I/O floors."""
