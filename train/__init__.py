"""The bundled trainer: streams worldclips shards and fine-tunes a 3D-conditioned video diffusion
model (Wan transformer + Wan VAE from diffusers) with flow matching.

Modules: config (run configuration), sources and loader (shards -> batches), decode and video
(one sample -> arrays), cond/ (Plücker rays, depth, pose, first frame), build and model (the
conditioned Wan), conditions (batch -> model inputs), flow, optim, checkpoint, logs, trainer
(the loop) and sample (generate a clip beside its ground truth). It reads shards through the
sample schema (shards.format.schema) only, never through how they were rendered.
"""
