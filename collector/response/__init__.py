"""The response room: what the site's own tools (help desk, CRM, webhook receivers) do
with the cases of consenting customers, through an API key with the ``cases`` scope
(``cases_api``). Imports nothing of the other rooms."""

__all__ = ["cases_api"]
