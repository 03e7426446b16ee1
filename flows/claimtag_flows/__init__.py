"""Prefect flows that wrap the claimtag library."""
