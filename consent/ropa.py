"""``clearsignal audit ropa``: the record of processing activities (GDPR Art. 30) as Markdown.

Generated from the settings (controller, contact, purposes and their lawful bases,
retention, recipients) and from what the code stores, so it cannot drift from either.
"""

from __future__ import annotations

from collections.abc import Sequence

from clearsignal.purposes import LawfulBasis, Purpose
from clearsignal.settings import Settings, SiteSettings

__all__ = ["DATA_CATEGORIES", "record_of_processing"]

DATA_CATEGORIES: dict[Purpose, tuple[str, ...]] = {
    Purpose.MEASUREMENT: (
        "pages viewed (path; query strings reduced to an allow-list), referrer origin",
        "interaction events: clicks, scroll depth, engagement time, downloads, outbound links",
        "coarse device class, browser and operating system family (derived from the user "
        "agent, which is not stored)",
        "country (looked up from the network address at ingest; the address is not stored)",
        "a daily pseudonym: keyed hash of a daily salt, site, network address and user "
        "agent; the salt is destroyed after 48 hours (network address and user agent are "
        "never stored)",
    ),
    Purpose.ANALYTICS: (
        "the above, linked across visits by a visitor key: HMAC of a random browser "
        "identifier under a per-site key (the identifier itself is never stored)",
        "frustration and funnel events: rage and dead clicks, form start/submit/abandon "
        "(field names only, never values), funnel steps",
        "derived signals with their rule, version and evidence events",
        "events from the site's own systems about a customer account the site linked to "
        "the browser with a signed token (orders, subscriptions, support contacts, "
        "complaints, SLA breaches, handovers, explicit scores: kinds, categories, ids, "
        "amounts and times, never free text); the customer reference only as a keyed "
        "pseudonym",
    ),
    Purpose.PERSONALIZATION: (
        "the derived signals above, read back while the visitor browses to adapt the site "
        "or offer help",
    ),
}

SECURITY_MEASURES = (
    "pseudonymisation at the edge: no network address, user agent or browser identifier is stored",
    "consent decisions kept in an append-only RFC 6962 transparency log with Ed25519-"
    "signed checkpoints; `clearsignal audit verify` detects any alteration",
    "erasure by synchronous ClickHouse mutations, verified by query, with an erasure "
    "receipt in the log",
    "per-site keys (mode 0600); destroying a site key crypto-shreds its pseudonyms",
    "aggregates suppress any group smaller than k visitors",
)


ARTICLE = {
    LawfulBasis.CONSENT: "(a)",
    LawfulBasis.CONTRACT: "(b)",
    LawfulBasis.LEGAL_OBLIGATION: "(c)",
    LawfulBasis.LEGITIMATE_INTEREST: "(f)",
}


def _basis(basis: LawfulBasis) -> str:
    return f"{basis.value.replace('_', ' ')} (Art. 6(1){ARTICLE[basis]})"


def _declared_kinds(site: SiteSettings) -> list[str]:
    """Server-event kinds the site keeps on another basis than consent: one row each."""
    return [
        f"| server events: {kind.value} | {_basis(basis)} | the site's own {kind.value} "
        "events, kept for the customer whether or not a consenting visitor is linked | "
        "kind, action, categories, ids, amounts and times; the customer reference as a keyed "
        f"pseudonym | {site.retention_days} days |"
        for kind, basis in sorted(site.touchpoints.lawful_bases.items())
    ]


def _site_section(site: SiteSettings) -> list[str]:
    lines = [
        f"## Site `{site.id}`{f' — {site.name}' if site.name else ''}",
        "",
        f"- **Controller:** {site.controller or site.name or site.id}",
        f"- **Contact:** {site.contact or 'not configured (set sites.contact)'}",
        f"- **Notice:** {site.notice.uri} (version {site.notice.version}, "
        f"language {site.notice.language})",
        f"- **Origins collected from:** {', '.join(site.allowed_origins)}",
        f"- **Consent required for anonymous measurement:** {'yes' if site.strict else 'no'}",
        "",
        "| purpose | lawful basis | description | categories of personal data | retention |",
        "| --- | --- | --- | --- | --- |",
    ]
    for purpose in site.purposes:
        categories = "; ".join(DATA_CATEGORIES[purpose.id])
        retention = (
            "48 h for the daily salt; events "
            if purpose.id == Purpose.MEASUREMENT
            else "events and signals "
        ) + f"{site.retention_days} days"
        lines.append(
            f"| {purpose.id.value} | {_basis(purpose.lawful_basis)} | {purpose.description} | "
            f"{categories} | {retention} |"
        )
    lines += _declared_kinds(site)
    lines += [
        "",
        "- **Categories of data subjects:** visitors of the site's pages listed above",
        f"- **Recipients:** {'; '.join(site.recipients)}",
        "- **Transfers to third countries:** none by ClearSignal (it runs on the "
        "controller's infrastructure)",
        "- **Consent records:** kept without time limit as proof of consent "
        "(Art. 7(1)); they hold the visitor key, never events",
        "",
    ]
    return lines


def record_of_processing(settings: Settings, sites: Sequence[str] | None = None) -> str:
    """The record of every site, or of ``sites`` only (a privacy officer's own sites)."""
    lines = [
        "# Record of processing activities (GDPR Art. 30)",
        "",
        "Generated by `clearsignal audit ropa` from this deployment's settings.",
        "",
    ]
    for site in settings.sites:
        if sites is None or site.id in sites:
            lines += _site_section(site)
    lines += ["## Technical and organisational security measures", ""]
    lines += [f"- {measure}" for measure in SECURITY_MEASURES]
    return "\n".join(lines) + "\n"
