"""The data-lake hand-off (docs/spark.md): the record tables as Hive-partitioned Parquet with a manifest
(`metrics.lake.parquet`), and the catalogue computed on Apache Spark over such a folder (`metrics.lake.spark`)."""
