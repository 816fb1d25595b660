"""The business of ECM outreach: entities, values, statuses, commands, errors and use cases.

Everything here but ``use_cases`` imports only the standard library and phonenumbers.
"""
