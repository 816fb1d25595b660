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
_.max_content_length  # Flask's request: one endpoint takes larger bodies

# pydantic reads these: model configuration, a JSON-schema generator hook, and response fields
# that only serialization reads.
_.model_config
_.field_title_should_be_set
_.duration
_.prtf_report
_.current_page
_.pagination
_.prtf_category
_.skipped

# Activity statuses the clinic API filters by; this service only ever records CREATED.
ActivityStatus.COMPLETE
ActivityStatus.CANCELLED

# Automated SMS: the model, ports and adapters that its use cases, worker and endpoints call,
# and the task queue's tables (its engine names them).
_.add_many
_.opted_out
_.lock_by_sms
_.hold_patient
_.handed_since
_.take_due
_.mark_dispatched
_.cancel_campaign
_.campaign_views
_.queue_task
_.queue_schedule
_.queue_kv
_.queue_counter
_.SkipReason
_.NO_PHONE_NUMBER
_.OPTED_OUT
_.FREQUENCY_CAP
_.missing_value
_.parse_send_at
_.patient_zone
_.hand_over
_.retry_later
_.fail
_.skip
_.reschedule
_.MAX_RECIPIENTS
_.MAX_NAME_LENGTH
_.skipped
_.patients_not_found
_.ScheduleSms
_.CancelSms
_.CreateCampaign
_.GetCampaign
_.ListCampaignRecipients
_.CancelCampaign
_.SendAutomatedSms
_.NotScheduled
_.CampaignNotFound
_.next_opening
_.week_start
_.allows
_.Template
_.unknown_placeholders
_.render
_.check_variable_name
_.SendQueue
_.enqueue
_.eta
_.backlog
_.CampaignViews
# The in-memory send queue's hand for tests (here and in host services): run what was queued.
_.take
# Read by prometheus-client (a collector's collect), the standard library's HTTP server
# (log_request), Flask (request hooks, g's attributes read with g.get/g.pop) and log formatters
# (the fields a filter adds to a record).
_.collect
_.log_request
_._begin
_._end
_._forget
_.ecm_request_id
_.ecm_request_id_token
_.duration_ms
