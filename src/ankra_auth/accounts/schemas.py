from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ankra_auth.accounts.emails import NewEmail

Password = Annotated[str, Field(min_length=8, max_length=128)]


class UserCreate(BaseModel):
    email: NewEmail
    password: Password


class UserOut(BaseModel):
    id: str
    email: str
    created_at: datetime


class MeOut(BaseModel):
    id: str
    email: str
    two_factor_enabled: bool


class ReauthIn(BaseModel):
    password: Annotated[str, Field(min_length=1, max_length=1024)]
