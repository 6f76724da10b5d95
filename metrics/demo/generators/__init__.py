"""One module per group of record types; each function returns one district's (or all programmes')
Arrow table for a record type, columns as metrics.contract.records names them.
"""
