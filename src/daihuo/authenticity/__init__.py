"""Data authenticity: detectors of fake activity, verified figures, evaluation (issue 7)."""
