"""GroundLens core: ingestion, the RiVEG pipeline, jobs, training and evaluation (no Qt widgets)."""
