"""Conditioning signals computed from a sample's exact 3D ground truth, one module each:
Plücker rays (camera), depth maps, pose (skeleton maps and 3D joint tokens), the first frame."""
