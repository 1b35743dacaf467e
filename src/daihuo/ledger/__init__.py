"""The transparency log: Merkle tree, canonical JSON leaves and signed checkpoints."""
