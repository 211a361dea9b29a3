"""Single sign-on (OpenID Connect) as a first step of sign-in, before Ankra's second factor."""
