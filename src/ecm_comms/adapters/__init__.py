"""Implementations of the ports: SQL storage, Twilio, a simulated gateway, in-memory fakes."""
