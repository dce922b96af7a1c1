"""The simulated site's systems (no store): every customer's events are valid wire events
of the closed kinds, planted rules are found by the reference and look-alikes are not,
and the same seed gives the same customers."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from collector.ingest.server_events.kinds import SERVER_EVENT
from simulator.systems import ASSUMED_MEDIAN, SimulatedCustomer, simulated_customer
from simulator.systems_truth import TOUCHPOINT_RULE_IDS, journey_efforts, touchpoint_rules_found
from simulator.truth import DAY, Role

AS_OF = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() * 1000)
DECLINING_VISITS = [AS_OF - d * DAY for d in (26, 24, 22, 19, 17)]
STEADY_VISITS = [AS_OF - d * DAY for d in (26, 20, 12, 6, 2)]


def customers(count: int, seed: int = 3) -> list[tuple[int, SimulatedCustomer]]:
    return [
        (i, simulated_customer(seed, i, AS_OF, DECLINING_VISITS if i % 4 == 0 else STEADY_VISITS,
                               declining=i % 4 == 0))
        for i in range(count)
    ]  # fmt: skip


def test_planted_rules_are_found_look_alikes_are_not_and_every_rule_gets_both() -> None:
    planted = dict.fromkeys(TOUCHPOINT_RULE_IDS, 0)
    lookalikes = dict.fromkeys(TOUCHPOINT_RULE_IDS, 0)
    efforts: list[int] = []
    for i, customer in customers(600):
        visits = DECLINING_VISITS if i % 4 == 0 else STEADY_VISITS
        found = touchpoint_rules_found(customer.events, visits, AS_OF, ASSUMED_MEDIAN)
        truth = customer.truth
        assert found == {rule for rule, role in truth.items() if role == Role.PLANTED}
        for rule, role in truth.items():
            (planted if role == Role.PLANTED else lookalikes)[rule] += 1
        efforts += journey_efforts(customer.events)
    assert min(planted.values()) >= 10, planted
    assert min(lookalikes.values()) >= 10, lookalikes
    efforts.sort()
    assert efforts[len(efforts) // 2] <= ASSUMED_MEDIAN


def test_every_event_is_a_valid_server_event_before_the_as_of_day() -> None:
    for i, customer in customers(200):
        for event in customer.wire(i, 3):
            parsed = SERVER_EVENT.validate_json(orjson.dumps(event))
            assert parsed.at < AS_OF
            assert parsed.at > AS_OF - 165 * DAY


def test_the_same_seed_gives_the_same_customers() -> None:
    first = [c.wire(i, 3) for i, c in customers(50)]
    again = [c.wire(i, 3) for i, c in customers(50)]
    assert first == again
    other = [c.wire(i, 4) for i, c in customers(50, seed=4)]
    assert first != other
