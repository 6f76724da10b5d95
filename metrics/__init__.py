"""Headless core of the employment programme KPI dashboard: catalogue, store, import, engine.

Never imports streamlit or plotly; every entry point takes a connection or a path.
"""
