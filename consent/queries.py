"""The one SQL form of "a visitor's current consent".

A visitor's current consent on a site is their latest decision (by ``recorded_at``) that
is not an erasure receipt; it grants a purpose while it has not expired. The consent
gate (``consent.ledger``), the signals job and the webhook job all read it from here.

``current_consent_sql(where)`` selects it per (site, visitor key): the choices, when they
were made, when they expire and the receipt. ``consented_sql(purpose, where, as_of)``
narrows it to the (site, visitor key) pairs whose current consent grants ``purpose`` at
``as_of``. ``where`` is a condition on ``consent_records`` with bound parameters (e.g.
``site = {site:String}``); ``as_of`` a SQL expression (e.g. a bound parameter).
"""

from __future__ import annotations

from clearsignal.purposes import Purpose

__all__ = ["consented_sql", "current_consent_sql", "grants_sql"]


def current_consent_sql(where: str) -> str:
    # One argMax over a tuple: the fields of one decision, never a mix of two.
    return f"""
SELECT site, visitor_key, latest.1 AS analytics, latest.2 AS personalization,
       latest.3 AS recorded_at, latest.4 AS expires_at, latest.5 AS receipt_id
FROM (
    SELECT site, visitor_key,
           argMax((analytics, personalization, recorded_at, expires_at, receipt_id),
                  recorded_at) AS latest
    FROM consent_records
    WHERE kind != 'erasure' AND ({where})
    GROUP BY site, visitor_key
)"""


def grants_sql(purpose: Purpose, as_of: str) -> str:
    """The condition, on a row of ``current_consent_sql``, that it grants ``purpose``."""
    if purpose == Purpose.ANALYTICS:
        choice = "analytics"
    elif purpose == Purpose.PERSONALIZATION:
        choice = "analytics AND personalization"
    else:
        raise ValueError(f"{purpose} needs no consent decision")
    return f"{choice} AND expires_at > {as_of}"


def consented_sql(purpose: Purpose, where: str, as_of: str) -> str:
    return (
        f"SELECT site, visitor_key FROM ({current_consent_sql(where)}\n) "
        f"WHERE {grants_sql(purpose, as_of)}"
    )
