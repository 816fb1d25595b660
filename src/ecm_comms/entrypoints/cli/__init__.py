"""The ``ecm-comms`` command."""
