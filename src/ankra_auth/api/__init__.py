"""HTTP glue the routers share: request dependencies, the principal, enforcement."""
