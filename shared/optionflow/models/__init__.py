"""Pydantic models: webhook payloads, entities, API responses."""
