"""The use cases: each takes its ports when built and a command when called."""
