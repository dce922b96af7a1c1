"""The one reader and writer of ``cases`` and ``case_actions``.

``states`` folds a site's cases with their actions (``aggregator.cases.state``); ``act``
records what a person (``admin:<user>``) or a site's tool (``api:<key id>``) did, after
checking that the step makes sense for the case as it stands; notes are sealed
(``consent.sealing``) and opened only for the inbox, the API and the customer's own /me.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aggregator.cases.state import CLOSED, OPEN, Action, CaseAction, CaseRecord, CaseState
from aggregator.store.client import Store
from clearsignal.clock import utc_now
from consent.sealing import CASE_NOTE, Sealer, SealError

__all__ = ["ACTION_COLUMNS", "CASE_COLUMNS", "CaseBook", "CaseRefused"]

CASE_COLUMNS = (
    "site", "visitor_key", "case_id", "customer_key", "rule_id", "rule_version",
    "window_start", "window_end", "weight", "opened_at", "expires_at",
)  # fmt: skip
ACTION_COLUMNS = (
    "site",
    "visitor_key",
    "case_id",
    "action_id",
    "at",
    "actor",
    "action",
    "note",
    "expires_at",
)
_ALLOWED = {
    Action.CLAIMED: OPEN,
    Action.RELEASED: OPEN,
    Action.CONTACTED: OPEN,
    Action.RESOLVED: OPEN,
    Action.DISMISSED: OPEN,
    Action.REOPENED: CLOSED,
}


class CaseRefused(ValueError):
    """A step that does not fit the case as it stands (resolving a resolved case)."""


def _action_id() -> str:
    """Unique, and in the order steps were taken even within one millisecond (the store's
    precision): the fold orders a case's steps by (time, id)."""
    return f"{time.time_ns():016x}{secrets.token_hex(4)}"


def _row(site: str, case_id: str) -> bytes:
    return f"{site}\n{case_id}".encode()


class CaseBook:
    def __init__(self, store: Store, site_key: bytes, note_chars: int = 500) -> None:
        self.store = store
        self._sealer = Sealer(site_key, CASE_NOTE)
        self.note_chars = note_chars

    def states(
        self,
        site: str,
        case_ids: Sequence[str] | None = None,
        visitor_key: str | None = None,
    ) -> list[CaseState]:
        """The site's cases (only ``case_ids``, or only the visitor's), oldest first."""
        where = "site = {site:String}"
        parameters: dict[str, Any] = {"site": site}
        if case_ids is not None:
            where += " AND case_id IN {ids:Array(String)}"
            parameters["ids"] = list(case_ids)
        if visitor_key is not None:
            where += " AND visitor_key = {visitor:String}"
            parameters["visitor"] = visitor_key
        # The columns in CaseRecord's order.
        records = [
            CaseRecord(*row)
            for row in self.store.rows(
                f"SELECT {', '.join(CASE_COLUMNS)} FROM cases FINAL WHERE {where} "
                "ORDER BY opened_at, case_id",
                parameters,
            )
        ]
        if not records:
            return []
        actions: dict[str, list[CaseAction]] = defaultdict(list)
        rows = self.store.rows(
            "SELECT case_id, action_id, at, actor, toString(action), note FROM case_actions FINAL "
            "WHERE site = {site:String} AND case_id IN {ids:Array(String)}",
            {"site": site, "ids": [record.case_id for record in records]},
        )
        for case_id, action_id, at, actor, action, note in rows:
            actions[str(case_id)].append(
                CaseAction(str(case_id), str(action_id), at, str(actor), Action(action), str(note))
            )
        return [CaseState.fold(record, actions[record.case_id]) for record in records]

    def state(self, site: str, case_id: str) -> CaseState | None:
        found = self.states(site, [case_id])
        return found[0] if found else None

    def act(
        self,
        case: CaseState,
        action: Action,
        actor: str,
        note: str = "",
        now: datetime | None = None,
    ) -> CaseState:
        """Record ``action`` on ``case``; the case as it then stands. ``CaseRefused`` when
        the step does not fit (``_ALLOWED``) or the note is too long."""
        allowed = _ALLOWED.get(action)
        if allowed is not None and case.status not in allowed:
            raise CaseRefused(f"a {case.status.value} case cannot be {action.value}")
        if action == Action.RELEASED and case.owner != actor:
            raise CaseRefused("only the case's owner can release it")
        note = note.strip()
        if len(note) > self.note_chars:
            raise CaseRefused(f"a note has at most {self.note_chars} characters")
        if action == Action.NOTED and not note:
            raise CaseRefused("a note needs some text")
        record = case.record
        moment = now or utc_now()
        sealed = self._sealer.seal(note, _row(record.site, record.case_id)) if note else ""
        step = CaseAction(record.case_id, _action_id(), moment, actor, action, sealed)
        case_key = [record.site, record.visitor_key, record.case_id]
        row = [*case_key, step.action_id, moment, actor, action.value, sealed, record.expires_at]
        self.store.insert("case_actions", [row], ACTION_COLUMNS)
        return CaseState.fold(record, (*case.actions, step))

    def note(self, case: CaseState, step: CaseAction) -> str:
        """The note of ``step``, opened; empty when it has none or it does not open."""
        if not step.note:
            return ""
        try:
            return self._sealer.open(step.note, _row(case.record.site, case.record.case_id))
        except SealError:
            return ""
