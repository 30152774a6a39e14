"""newsearch search: one core (query, ranking, facets, highlighting) behind web, API and CLI."""
