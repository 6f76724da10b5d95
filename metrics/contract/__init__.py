"""The upload data contract as data: record types, their columns, kinds, natural keys and cross-column
rules, Beijing's districts, and the date range of each kind of date column (docs/data-contract.md).
Also `errors.KpiError`, the base class of every error the product raises.

Imports nothing from metrics: every other package builds on it (docs/architecture.md).
"""
