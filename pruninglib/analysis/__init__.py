"""Analyses of pruned networks: connectivity (collapse, effective sparsity, conservation),
eoc (Edge-of-Chaos mean-field theory) and similarity (CCA, SVCCA, PWCCA, CKA)."""
