"""The Responses API (`/v1/responses`): create, retrieve, delete and list input items, served through
the same generation path as chat completions, with stored responses in SQLite."""

from ._api import CREATE, DELETE, INPUT_ITEMS, RETRIEVE, ResponsesAPI
from ._store import ResponseStore, StoredResponse

__all__ = ["CREATE", "DELETE", "INPUT_ITEMS", "RETRIEVE", "ResponseStore", "ResponsesAPI", "StoredResponse"]
