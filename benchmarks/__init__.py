"""The benchmarks, and the harness they share with the tests: databases, served processes, a
Twilio stand-in. Run from the repository root: ``python -m benchmarks.bench``."""
