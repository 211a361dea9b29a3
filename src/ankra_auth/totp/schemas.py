from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class TotpSetupOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                    "otpauth_uri": "otpauth://totp/Ankra:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Ankra",
                    "qr_svg": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 37 37">...</svg>',
                }
            ]
        }
    )

    secret: str
    otpauth_uri: str
    qr_svg: str


class TotpConfirmIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "492039"}]})

    code: Annotated[str, Field(min_length=1, max_length=64)]


class RecoveryCodesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recovery_codes": [
                        "7K2M9-QX4TB",
                        "H3W8R-N6YJC",
                        "P0D5F-ZV7GA",
                        "M9C2E-T4KQS",
                        "X6N3B-R8WDH",
                        "F1J7Y-A5GVP",
                        "Q8T4K-C2MZN",
                        "W5R0H-E9BXF",
                        "B3G6V-J1SQY",
                        "Z7P2N-K4DTC",
                    ]
                }
            ]
        }
    )

    recovery_codes: list[str] | None
