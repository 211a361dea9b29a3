"""Sign-in, above the factor packages: a first factor (password or single sign-on), then
a second factor when the account has one, then the session and device token, the answer
and its cookies. ``accounts`` below holds users, sessions and throttles."""
