"""The generate job: config, the clip recipe, shard tasks, the Ray farm, resume, acceptance."""
