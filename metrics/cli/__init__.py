"""The `kpi` command: one module per command group (`main` holds the group and the data commands;
`users`, `release`, `admin`; `common` the shared --db option and the bounded wait for the file).

The top of the layers: may import any package of metrics.
"""
