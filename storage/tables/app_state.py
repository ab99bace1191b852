"""Small named markers the jobs and the schema check keep."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class AppState(SQLModel, table=True):
    """Small named markers jobs keep (e.g. the last revision whose impact was reported)."""

    __tablename__ = "app_state"
    key: str = Field(primary_key=True, max_length=100)
    value: str
