"""Analyses of pruned networks: connectivity (collapse, effective sparsity, conservation),
eoc (Edge-of-Chaos mean-field theory), similarity (CCA, SVCCA, PWCCA, CKA), drift (layer
similarity of many networks to one reference), graphs
(Ramanujan-graph metrics) and ntk (empirical and limit neural tangent kernels)."""
