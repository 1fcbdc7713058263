"""Two-factor login (TOTP). Placeholder until the 2FA work lands."""


def totp_verify(device, token) -> bool:
    raise NotImplementedError
