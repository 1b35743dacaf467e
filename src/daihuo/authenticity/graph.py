"""FRAUDAR's greedy peeling (Hooi et al., KDD 2016) on a weighted bipartite matrix.

Rows are accounts, columns what they touch; entries are edge weights (the callers use
FRAUDAR's column weighting ``1 / log(deg + 5)``, which keeps popular columns from
making genuine crowds dense). The average weighted degree that peeling maximises is
the metric whose camouflage-resistance FRAUDAR proves: a fraud block stays dense
whatever edges its accounts add to genuine columns.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

import numpy as np
from scipy.sparse import bmat, csr_matrix
from scipy.sparse.csgraph import connected_components


def peel(m: csr_matrix) -> tuple[list[int], list[int], float]:
    """FRAUDAR's greedy peeling: rows and columns of the densest subgraph, and its density.

    Density is the total edge weight of the kept rows and columns over their count.
    """
    n_rows, n_cols = m.shape
    csc = m.tocsc()
    deg = np.concatenate([np.asarray(m.sum(axis=1)).ravel(), np.asarray(m.sum(axis=0)).ravel()])
    alive = np.ones(n_rows + n_cols, dtype=bool)
    total = float(m.sum())
    size = n_rows + n_cols
    best, best_at = total / max(1, size), 0
    order: list[int] = []
    heap = [(float(deg[i]), i) for i in range(size)]
    heapq.heapify(heap)
    while heap and size > 0:
        d, i = heapq.heappop(heap)
        if not alive[i] or d != float(deg[i]):
            continue
        alive[i] = False
        order.append(i)
        total -= d
        size -= 1
        if i < n_rows:
            lo, hi = m.indptr[i], m.indptr[i + 1]
            nbrs, ws = m.indices[lo:hi] + n_rows, m.data[lo:hi]
        else:
            j = i - n_rows
            lo, hi = csc.indptr[j], csc.indptr[j + 1]
            nbrs, ws = csc.indices[lo:hi], csc.data[lo:hi]
        for nb, w in zip(nbrs, ws, strict=True):
            if alive[nb]:
                deg[nb] -= w
                heapq.heappush(heap, (float(deg[nb]), int(nb)))
        if size and total / size > best:
            best, best_at = total / size, len(order)
    removed = set(order[:best_at])
    keep = [i for i in range(n_rows + n_cols) if i not in removed]
    rows = [i for i in keep if i < n_rows]
    cols = [i - n_rows for i in keep if i >= n_rows]
    return rows, cols, best


def dense_blocks(
    m: csr_matrix, *, top_k: int, min_rows: int
) -> Iterator[tuple[list[int], list[int]]]:
    """Up to ``top_k`` peeled blocks (rows, columns) of each connected piece of ``m``.

    Each piece is peeled on its own: the densest set of a whole graph can be a union of
    unrelated small pieces, and one piece that is not fraud would then hide another
    that is. After each block its rows are taken out and the piece is peeled again.
    """
    n = m.shape[0]
    _, piece = connected_components(bmat([[None, m], [m.T, None]]), directed=False)
    for label in np.unique(piece[:n]):
        members = np.flatnonzero(piece[:n] == label)
        if len(members) < min_rows:
            continue
        keep = np.zeros(n)
        keep[members] = 1.0
        part = _rows(m, keep)
        for _ in range(top_k):
            rows, cols, density = peel(part)
            if len(rows) < min_rows or density <= 0:
                break
            yield rows, cols
            keep[rows] = 0.0
            part = _rows(part, keep)
            if part.nnz == 0:
                break


def _rows(m: csr_matrix, keep: np.ndarray) -> csr_matrix:
    out = csr_matrix(m.multiply(keep[:, None]))
    out.eliminate_zeros()
    return out
