"""The HTTP side of the server next to Streamlit: Starlette routes (sign-in, health, the operators' loopback
endpoint) that `dashboard.server` mounts on its `st.App`. See docs/server.md.

Each module exposes `ROUTES`; none imports streamlit, because a route runs outside any script run.
"""
