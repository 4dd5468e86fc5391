"""Scenarios: declarative distributions of clips aimed at a case, and the properties that verify it.

- schema: the scenario file format (scenes.scenarios.schema, layout_schema, checks, dists);
- loader: YAML files and presets, ``extends``, one-line errors (scenes.scenarios.loader);
- mixture: weighted mixtures and the scenario of each clip index (scenes.scenarios.mixture);
- sampler: a scenario + seeds -> a ClipSpec (scenes.scenarios.sampler, layouts, ball_pass, cameras).

The properties are measured after rendering by shards.format.properties. Nothing is imported here, so
importing the package has no side effects.
"""
