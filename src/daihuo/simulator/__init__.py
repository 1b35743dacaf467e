"""The simulated audience: realistic live sessions with labelled fake activity.

:func:`daihuo.simulator.run.generate` writes ``OUT.events.jsonl`` and
``OUT.labels.jsonl`` per shared/spec/events.md, deterministic for a seed; the scenario
(every parameter, its default and range) is :mod:`daihuo.simulator.scenario`; the model
is described in docs/simulator.md. Nothing is imported here, so that loading the
``daihuo`` command does not load the generator.
"""
