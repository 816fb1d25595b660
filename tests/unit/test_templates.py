"""A campaign's body as a template."""

from __future__ import annotations

import pytest

from ecm_comms.domain.errors import ValidationError
from ecm_comms.domain.templates import MissingValue, Template, check_variable_name

BODY = "Hi {{first_name}}, this is {{ clinic_name }}: your appointment is {{appointment}}."


def test_placeholders_are_listed_once_in_order_of_use() -> None:
    template = Template(BODY + " {{first_name}}")

    assert template.placeholders == ("first_name", "clinic_name", "appointment")


def test_placeholders_that_are_neither_standard_nor_the_campaigns_are_unknown() -> None:
    template = Template(BODY + " {{room}}")

    assert template.unknown_placeholders({"appointment"}) == ["room"]


def test_rendering_fills_every_placeholder() -> None:
    values = {"first_name": "Ana", "clinic_name": "Sunrise", "appointment": "Dec 4, 10am"}

    rendered = Template(BODY).render(values)

    assert rendered == "Hi Ana, this is Sunrise: your appointment is Dec 4, 10am."


@pytest.mark.parametrize("missing", [None, "", "  "])
def test_a_placeholder_without_a_value_is_missing(missing: str | None) -> None:
    values = {"first_name": missing, "clinic_name": "Sunrise", "appointment": "Dec 4"}

    with pytest.raises(MissingValue) as raised:
        Template(BODY).render(values)

    assert raised.value.name == "first_name"


def test_text_that_only_looks_like_a_placeholder_is_left_alone() -> None:
    assert Template("Reply {{ 1 }} or {x}").render({}) == "Reply {{ 1 }} or {x}"


@pytest.mark.parametrize("name", ["first_name", "1st", "room-number", ""])
def test_a_variable_may_not_be_named_like_a_standard_placeholder_or_badly(name: str) -> None:
    with pytest.raises(ValidationError):
        check_variable_name(name)
