"""Press releases: content built from a weekly snapshot (`service`), disclosure control of small counts
(`disclosure`), and the press pack in XLSX, CSV, PNG and ZIP (`export`). A published release never changes.

May import metrics.auth and below.
"""
