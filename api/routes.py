"""The route table: the one list that Falcon routes from and the OpenAPI document describes.

Each feature declares its routes beside its resources (what a route is: api/route_table.py);
the table joins them. Their order is the OpenAPI document's order of paths.
"""

from __future__ import annotations

from api.catalog.routes import CATALOG_ROUTES
from api.documents.routes import DOCUMENT_ROUTES
from api.integrations.routes import INTEGRATION_ROUTES
from api.route_table import Route
from api.system import SYSTEM_ROUTES
from api.users.routes import USER_ROUTES

ROUTES: tuple[Route, ...] = (
    CATALOG_ROUTES + DOCUMENT_ROUTES + USER_ROUTES + SYSTEM_ROUTES + INTEGRATION_ROUTES
)
