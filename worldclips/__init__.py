"""worldclips: synthetic video clips with exact 3D ground truth, written as WebDataset shards.

This package is the front door only (CLI and ``python -m worldclips``); the work lives in
motions -> scenes -> render -> shards -> train.
"""
