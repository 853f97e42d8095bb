"""Example applications built on rjflow's public API."""
