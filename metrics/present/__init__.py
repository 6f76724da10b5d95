"""How numbers, dates and targets are written for people (万, 亿, %, 2026年11月21日), and cells that can
never run as formulas in a CSV or XLSX. Pure functions; imports nothing from metrics.
"""
