"""Analyses of pruned networks: connectivity (collapse, effective sparsity, conservation),
eoc (Edge-of-Chaos mean-field theory), similarity (CCA, SVCCA, PWCCA, CKA), graphs
(Ramanujan-graph metrics) and ntk (empirical and limit neural tangent kernels)."""
