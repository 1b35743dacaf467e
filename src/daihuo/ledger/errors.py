"""Ledger errors, each with a stable problem type.

Requests that name something outside the log (an index at or past the tree size, a
size the log has not reached, a reversed range) are 400s with their own type, so a
client can tell a bad request from a log that is not there yet::

    AppError
     ├── BadRequest
     │    ├── LedgerIndexOutOfRange   ledger-index-out-of-range   index >= size
     │    ├── LedgerBadTreeSize       ledger-bad-tree-size        size 0, old 0, old > new
     │    ├── LedgerSizeBeyondLog     ledger-size-beyond-log      size > the signed tree size
     │    └── LedgerBadRange          ledger-bad-range            entries: end < start, start > size
     ├── ValidationFailed
     │    └── LedgerEntryInvalid      ledger-entry-invalid        an entry the log refuses
     └── ServiceUnavailable
          ├── LedgerUnavailable       ledger-unavailable          no sequencer for this database
          ├── LedgerHalted            ledger-halted               storage disagrees with the last
          │                                                       checkpoint: nothing is signed
          └── LedgerKeyError          ledger-key                  the signing key cannot be used
"""

from __future__ import annotations

from daihuo.core.errors import BadRequest, ServiceUnavailable, ValidationFailed


class LedgerIndexOutOfRange(BadRequest):
    slug, title = "ledger-index-out-of-range", "Leaf index outside the tree"


class LedgerBadTreeSize(BadRequest):
    slug, title = "ledger-bad-tree-size", "Tree sizes out of order"


class LedgerSizeBeyondLog(BadRequest):
    slug, title = "ledger-size-beyond-log", "Tree size not reached by the log"


class LedgerBadRange(BadRequest):
    slug, title = "ledger-bad-range", "Invalid entry range"


class LedgerEntryInvalid(ValidationFailed):
    slug, title = "ledger-entry-invalid", "Entry refused by the log"


class LedgerUnavailable(ServiceUnavailable):
    slug, title = "ledger-unavailable", "The log is not running"


class LedgerHalted(ServiceUnavailable):
    slug, title = "ledger-halted", "The log stopped signing"


class LedgerKeyError(ServiceUnavailable):
    slug, title = "ledger-key", "The log's signing key cannot be used"
