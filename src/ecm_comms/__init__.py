"""ecm-comms: SMS and call outreach to ECM patients, each on record as an activity and an event."""
