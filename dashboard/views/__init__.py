"""The pages Streamlit runs (one script per page, registered in dashboard.navigation); data through dashboard.service."""
