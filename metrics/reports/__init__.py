"""What leadership reads: the weekly briefing (HTML) and policy delivery (subsidies applied for, paid,
days to decision and payment, amounts that differ from the standard).

May import metrics.auth and below.
"""
