"""Analyses of pruned networks: connectivity (collapse, effective sparsity, conservation)."""
