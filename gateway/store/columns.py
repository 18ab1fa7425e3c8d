"""What every table module shares: the metadata they register on and the id column length.

:mod:`gateway.store.tables` (catalog and events) and :mod:`gateway.store.rollup_tables` both
define their tables on :data:`metadata`; importing :mod:`gateway.store.tables` registers both.
"""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""The one metadata of every table (constraint names follow the naming convention)."""

ID = 128
"""Maximum length of an external id (matches the record format)."""
