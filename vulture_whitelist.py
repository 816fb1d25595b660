"""Names the dead-code check (vulture) cannot see used: called by frameworks, or the public API
of the in-memory fakes that host services use in their own tests."""

from ecm_comms.adapters.memory import FakeGateway, FixedClock, InMemoryUnitOfWork
from ecm_comms.adapters.sql import liveness, types
from ecm_comms.adapters.task_queue import HueyQueue
from ecm_comms.domain.activities import ActivityStatus
from ecm_comms.entrypoints.cli.server import GunicornServer

# The fakes' API for tests (here and in host services).
FixedClock.advance
FakeGateway.fail_next
InMemoryUnitOfWork.committed

# A worker inside a host service's own process (and the queue's tests).
HueyQueue.running

# SQLAlchemy's TypeDecorator hooks and pool event listeners.
types.UtcDateTime.impl
types.UtcDateTime.cache_ok
types.UtcDateTime.process_bind_param
types.UtcDateTime.process_result_value
liveness._remember_checkin
liveness._check

# gunicorn's BaseApplication hooks.
GunicornServer.load_config
GunicornServer.load

# Attributes set on library objects (the DB-API connection, Flask's URL map and JSON provider).
_.isolation_level
_.merge_slashes
_.sort_keys

# pydantic reads these: model configuration, a JSON-schema generator hook, and response fields
# that only serialization reads.
_.model_config
_.field_title_should_be_set
_.duration
_.prtf_report
_.current_page
_.pagination
_.prtf_category

# Activity statuses the clinic API filters by; this service only ever records CREATED.
ActivityStatus.COMPLETE
ActivityStatus.CANCELLED
