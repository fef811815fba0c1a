"""Small helpers every worker shares: atomic files, configs, run records, logging, seeding."""
