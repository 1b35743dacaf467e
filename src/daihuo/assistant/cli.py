"""``daihuo assistant …``: the assistant from the command line.

Heavy imports (scikit-learn, jieba, implicit) happen inside the commands, so
``daihuo --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Annotated, Any

import typer

app = typer.Typer(
    no_args_is_help=True, help="The assistant: comment triage, answer drafts, selection."
)

TRIAGE_HELP = "\n\n".join(
    (
        "Triage live-room comments: one comment per input line, one JSON object per output "
        'line: {"text", "intent", "product", "score"}.',
        "intent is one of purchase_intent, question, after_sales, praise_chat, spam_abuse; "
        "score is the model's probability of that intent (1.0 when a rule decided: empty or "
        "unreadable text is praise_chat; binary garbage, phone numbers and web addresses are "
        "spam_abuse).",
        "product: without --products, a link number the comment names "
        '("三号链接", "3号", "链接3", "#3") is reported as that number (an integer), '
        'otherwise null. With --products (JSON Lines of {"id", "title", "slot"}) it is the '
        "id of the product with that link number or whose title shares words with the "
        "comment (null if none), and with --pinned the pinned product's id for purchase "
        "intents and questions that name no product.",
        "Invalid UTF-8 is replaced (U+FFFD), never fatal.",
    )
)


def _read_products(path: Path) -> list[Any]:
    from daihuo.assistant.triage import ProductRef
    from daihuo.cli import fail

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        fail(f"no such file: {path}")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    refs = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            slot = row.get("slot")
            if not isinstance(row["id"], str) or not isinstance(row.get("title", ""), str):
                raise TypeError
            if slot is not None and (not isinstance(slot, int) or isinstance(slot, bool)):
                raise TypeError
            refs.append(ProductRef(row["id"], row.get("title", ""), slot))
        except (ValueError, KeyError, TypeError, AttributeError):
            fail(
                f'{path} line {n}: expected a JSON object {{"id": str, "title": str, '
                '"slot": int or null}'
            )
    return refs


def _lines(stream: IO[bytes]) -> Any:
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").rstrip("\n").rstrip("\r")


@app.command("triage", help=TRIAGE_HELP)
def triage(
    input: Annotated[str, typer.Option("--input", "-i", help="File of comments; - for stdin.")],
    products: Annotated[
        Path | None,
        typer.Option(help='JSON Lines of {"id", "title", "slot"} to resolve product ids.'),
    ] = None,
    pinned: Annotated[
        str | None, typer.Option(help="Id of the pinned product (needs no --products).")
    ] = None,
) -> None:
    from daihuo.cli import fail

    refs = _read_products(products) if products is not None else []
    stream: IO[bytes]
    if input == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = Path(input).open("rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            fail(f"no such file: {input}")
        except IsADirectoryError:
            fail(f"{input} is a directory, not a file of comments")
        except OSError as exc:
            fail(f"cannot read {input}: {exc.strerror or exc}")
    from daihuo.assistant.triage import classify_one, model

    model()  # train before the first line, so a piped room is not held up mid-stream
    out = sys.stdout
    interactive = input == "-"
    try:
        for text in _lines(stream):
            v = classify_one(text, products=refs, pinned=pinned)
            product: str | int | None = v.product if v.product is not None else v.slot
            if refs and v.product is None:
                product = None  # with a product list, only ids are reported
            row = {"text": text, "intent": v.intent, "product": product, "score": round(v.score, 4)}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            if interactive:
                out.flush()
    except BrokenPipeError:  # `… | head` closed the pipe: stop quietly
        sys.stderr.close()
    except OSError as exc:
        fail(f"cannot read {input}: {exc.strerror or exc}")
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
