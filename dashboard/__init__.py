"""Streamlit front end: thin pages over the `metrics` engine. No SQL and no business rules here."""
