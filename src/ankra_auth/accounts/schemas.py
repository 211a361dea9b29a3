from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ankra_auth.accounts.emails import NewEmail

Password = Annotated[str, Field(min_length=8, max_length=128)]


class UserCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "password": "correct horse battery staple"}]
        }
    )

    email: NewEmail
    password: Password


class UserOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2b8c1d9e4a4f6b8a7c5d2e1f0a9b8c",
                    "email": "ada@example.com",
                    "created_at": "2026-01-14T09:30:00Z",
                }
            ]
        }
    )

    id: str
    email: str
    created_at: datetime


class MeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2b8c1d9e4a4f6b8a7c5d2e1f0a9b8c",
                    "email": "ada@example.com",
                    "two_factor_enabled": True,
                    "email_verified": True,
                }
            ]
        }
    )

    id: str
    email: str
    two_factor_enabled: bool
    email_verified: bool = Field(
        description="Whether the owner proved the address (the link in the verification "
        "mail, or a provider's verified claim); security mails go to verified addresses only"
    )


class EmailVerifyIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "q3Zx0Yc4WmJp8kq1bP2nS7fLxR9tHdVeUaGo5iQzK6w"}]}
    )

    token: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The `token` of the link in the verification mail"
    )


class ReauthIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"password": "correct horse battery staple"}]}
    )

    password: Annotated[str, Field(min_length=1, max_length=1024)]
