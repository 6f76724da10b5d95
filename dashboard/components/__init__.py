"""Turn engine results into display frames and Plotly figures; no queries here."""
