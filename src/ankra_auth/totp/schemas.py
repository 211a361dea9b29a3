from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class TotpConfirmIn(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=64)]


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] | None
