"""Organizations: tenancy, roles and memberships, invites, and who may administer what."""
