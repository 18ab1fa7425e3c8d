"""Fixtures of the access-control tests: the schema, and the catalog with a second tenant.

:mod:`tests.schema.catalog_data` has ws-1 {app-1, app-2, m-1 (mp-1, mp-2), m-2 (mp-3), mp-4
without merchant} and ws-2 {app-3, mp-5}. Added here: merchant m-3 in ws-2 owning mp-6, deployed
in app-3, so each workspace has a merchant with a mini program and cross-tenant walks exist in
both directions.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables
from tests.schema.catalog_data import insert_catalog, t

M3 = {
    "id": "m-3",
    "workspace_id": "ws-2",
    "name": "Harbour Cafe",
    "merchant_type": "TECHNICAL",
    "onboarded_at": t(2, 12),
}
MP6 = {
    "id": "mp-6",
    "workspace_id": "ws-2",
    "merchant_id": "m-3",
    "name": "Mini mp-6",
    "type": "MINI_PROGRAM",
    "category": "food_beverage",
    "source": "merchant",
    "created_at": t(2, 6),
}
MP6_DEPLOYMENT = {"target_app_id": "app-3", "mini_program_id": "mp-6", "status": "FULL_RELEASE"}


@pytest.fixture
async def catalog(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` with the shared test catalog plus m-3 / mp-6 in ws-2."""
    await insert_catalog(engine)
    async with engine.begin() as conn:
        await conn.execute(tables.merchants.insert(), [M3])
        await conn.execute(tables.mini_programs.insert(), [MP6])
        await conn.execute(tables.deployments.insert(), [{**MP6_DEPLOYMENT, "at": t(4)}])
    return engine
