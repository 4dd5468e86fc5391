"""The dataset format: sample schema, encoding, shard writer and reader, storage, validate, preview.

Everything here reads and checks a dataset with no knowledge of how its clips were made
(that is worldclips.shards.job); a test checks that no module here reaches the job.
"""
