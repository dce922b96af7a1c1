"""/admin/keys: the API keys a site's backends send server events with.

Every account manages the keys of the sites it may see: it lists them (never a secret),
makes one (shown once, on the page that answers the form; only its digest is stored)
and revokes one (every collector process refuses it within ``api_key_cache_seconds``).
Making and revoking are logged in the admin actions, as ``clearsignal keys`` does not
need to be (it runs on the operator's own shell).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from clearsignal.clock import wire_time
from clearsignal.settings import ApiScope, ServerKind
from collector.action_log import AdminAction
from collector.admin.guard import AdminContext
from collector.admin.pages import esc, field, hidden, select, table
from collector.api_keys import ApiKey, ApiKeys
from collector.errors import PageRefused

__all__ = ["create_key", "keys_page", "revoke_key"]

KEYS_PATH = "/admin/keys"


def _kind_boxes() -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="kind_{kind.value}" checked> {kind.value}</label> '
        for kind in ServerKind
    )
    scopes = (
        '<label><input type="checkbox" name="scope_cases"> cases: read the site\'s cases '
        "and record what its team did (the help desk's or CRM's key)</label> "
        '<label><input type="checkbox" name="scope_stats"> stats: read the site\'s '
        "analytics through the Stats API, nothing else (a reporting tool's key)</label>"
    )
    return (
        f"<fieldset><legend>Kinds it may send</legend>{boxes}</fieldset>"
        f"<fieldset><legend>What else it may do</legend>{scopes}</fieldset>"
    )


def _revoke_form(context: AdminContext, key: ApiKey) -> str:
    if not key.active:
        return f"revoked {esc(wire_time(key.revoked_at))}" if key.revoked_at else "revoked"
    return (
        f'<form method="post" action="{KEYS_PATH}/revoke">{hidden("csrf", context.csrf)}'
        f"{hidden('site', key.site)}{hidden('key_id', key.key_id)}"
        f'<button type="submit">Revoke {esc(key.key_id)}</button></form>'
    )


async def _body(context: AdminContext, issued: str = "") -> str:
    sites = context.sites()
    store = ApiKeys(context.runtime.store)
    found = await run_in_threadpool(store.listed)
    visible = {site.id for site in sites}
    rows = [
        [esc(key.site), f"<code>{esc(key.key_id)}</code>", esc(key.name or "-"),
         esc(", ".join(sorted(key.kinds | key.scopes))), esc(wire_time(key.created_at)),
         esc(key.created_by), _revoke_form(context, key)]
        for key in found
        if key.site in visible
    ]  # fmt: skip
    headers = ["Site", "Key", "Name", "Kinds", "Created (UTC)", "By", "State"]
    choices = [(site.id, site.name or site.id) for site in sites]
    return (
        f"{issued}<p>A site's backends (shop, billing, help desk) send server events to "
        "<code>POST /api/server-events</code> with one of these keys "
        "(<code>Authorization: Bearer cs_sk_…</code>). A key is shown once, when it is "
        "made; only a digest of it is stored. Each key may send only the kinds it was "
        "made for (docs/api.md).</p>"
        f"{table('API keys', headers, rows)}"
        f'<h2 id="new-key">Make a key</h2>'
        f'<form method="post" action="{KEYS_PATH}" aria-labelledby="new-key">'
        f"{hidden('csrf', context.csrf)}<p>{select('Site', 'site', choices, '')}</p>"
        f"<p>{field('What it is for', 'name', '', maxlength='100')}</p>{_kind_boxes()}"
        '<p><button type="submit">Make the key</button></p></form>'
    )


async def keys_page(context: AdminContext) -> Response:
    return context.page("API keys", await _body(context))


async def create_key(context: AdminContext) -> Response:
    form = context.form
    site = context.site(form.get("site") or "-")
    kinds = [kind.value for kind in ServerKind if form.get(f"kind_{kind.value}")]
    scopes = [scope.value for scope in ApiScope if form.get(f"scope_{scope.value}")]
    if not kinds and not scopes:
        raise PageRefused(400, "Nothing to do", "Choose at least one kind or the cases scope.")
    name = form.get("name", "")[:100]
    username = context.user.username if context.user else ""
    issued = await run_in_threadpool(
        ApiKeys(context.runtime.store).create, site.id, name, kinds, f"admin:{username}", scopes
    )
    await context.log(
        AdminAction.CREATE_API_KEY, site=site.id,
        detail=f"key={issued.key.key_id} kinds={','.join(kinds)} scopes={','.join(scopes)}",
    )  # fmt: skip
    shown = (
        '<section class="result verified" aria-labelledby="issued-h">'
        f'<h2 id="issued-h">Key {esc(issued.key.key_id)} for {esc(site.id)}</h2>'
        "<p>Copy it now: it is not shown again.</p>"
        f'<p><code class="secret">{esc(issued.token)}</code></p></section>'
    )
    return context.page("API keys", await _body(context, shown))


async def revoke_key(context: AdminContext) -> Response:
    site = context.site(context.form.get("site") or "-")
    key_id = context.form.get("key_id", "")[:32]
    revoked = await run_in_threadpool(ApiKeys(context.runtime.store).revoke, site.id, key_id)
    if revoked is None:
        raise PageRefused(404, "No such key", f"Site {site.id} has no key {key_id}.")
    await context.log(AdminAction.REVOKE_API_KEY, site=site.id, detail=f"key={key_id}")
    shown = (
        f'<p role="status" class="result verified">Key {esc(key_id)} of {esc(site.id)} is '
        "revoked: every collector refuses it within seconds.</p>"
    )
    return context.page("API keys", await _body(context, shown))
