from datetime import UTC, datetime, timedelta


class FixedClock:
    """A clock that stands still until told to move."""

    def __init__(self, at: datetime = datetime(2024, 11, 27, 10, 0, tzinfo=UTC)) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by
