"""``daihuo assistant …``: the assistant from the command line.

Heavy imports (scikit-learn, jieba, implicit) happen inside the commands, so
``daihuo --help`` stays fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True, help="The assistant: comment triage, answer drafts, selection."
)
