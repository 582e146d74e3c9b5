"""cargo-shell bench: how well a language model works Cargo through cargo-shell.

Tasks (``tasks/*.json``, :mod:`.task`) are run against their own copy of the seeded sandbox
(:mod:`.world`) by the real agent and executor (:mod:`.runner`), in parallel processes
(:mod:`.pool`), and judged by checks on the end state and the answer (:mod:`.checks`).
:func:`.suite.run_bench` returns the summary; :mod:`.report_table` and :mod:`.report_html`
render it; :mod:`.command` is the `cargo-shell bench` command.
"""
